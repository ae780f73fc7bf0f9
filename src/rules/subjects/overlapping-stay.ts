import { z } from 'zod';
import type { PatientSubject, PatientSubjectKind } from './kind.ts';
import { allLines, PERIOD_KIND, type Stay, staysOf } from './period.ts';

/** 住院时间重叠: pairs of stays where the later-admitted one begins no later than the other's discharge. */
export const overlappingStay: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'overlappingStay',
  level: 'patient',
  params: [],
  fact: z.object({
    overlapDays: z.number(),
    hospitalId: z.string(),
    otherHospitalId: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    otherAdmittedAt: z.string(),
    otherDischargedAt: z.string(),
  }),
  build(claims) {
    const stays = staysOf(claims);
    const subjects: PatientSubject[] = [];
    for (let j = 1; j < stays.length; j++) {
      const later = stays[j] as Stay;
      for (let i = 0; i < j; i++) {
        const earlier = stays[i] as Stay;
        if (later.admitted > earlier.discharged) continue;
        subjects.push({
          fact: {
            overlapDays: Math.min(earlier.discharged, later.discharged) - later.admitted,
            hospitalId: later.claim.hospital.hospitalId,
            otherHospitalId: earlier.claim.hospital.hospitalId,
            admittedAt: later.claim.visit.admittedAt,
            dischargedAt: later.claim.visit.dischargedAt,
            otherAdmittedAt: earlier.claim.visit.admittedAt,
            otherDischargedAt: earlier.claim.visit.dischargedAt,
          },
          claim: later.claim,
          related: [earlier.claim],
          lineNos: allLines(later.claim),
          amountAtRisk: later.claim.totals.amount,
        });
      }
    }
    return subjects;
  },
};
