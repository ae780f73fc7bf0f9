import { z } from 'zod';
import { serviceSpan } from '../../contracts/claim.ts';
import { epochDay } from '../../dates.ts';
import type { PatientSubject, PatientSubjectKind } from './kind.ts';
import { allLines, PERIOD_KIND, staysOf } from './period.ts';

const OUTSIDE_STAY_TYPES = new Set(['outpatient', 'pharmacy', 'internet']);

/**
 * 挂床: an outpatient, pharmacy or internet claim dated within one of the patient's stays. The
 * flag sits on that claim (its lines are what the bed-hanging patient billed), the stay related.
 */
export const stayOutpatient: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'stayOutpatient',
  level: 'patient',
  params: [],
  fact: z.object({
    date: z.string(),
    visitType: z.string(),
    hospitalId: z.string(),
    stayHospitalId: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    daysAfterAdmission: z.number(),
    daysBeforeDischarge: z.number(),
  }),
  build(claims) {
    const stays = staysOf(claims);
    if (!stays.length) return [];
    const subjects: PatientSubject[] = [];
    for (const claim of claims) {
      if (!OUTSIDE_STAY_TYPES.has(claim.visit.type)) continue;
      const [date] = serviceSpan(claim);
      const day = epochDay(date);
      for (const stay of stays) {
        if (day < stay.admitted || day > stay.discharged) continue;
        subjects.push({
          fact: {
            date,
            visitType: claim.visit.type,
            hospitalId: claim.hospital.hospitalId,
            stayHospitalId: stay.claim.hospital.hospitalId,
            admittedAt: stay.claim.visit.admittedAt,
            dischargedAt: stay.claim.visit.dischargedAt,
            daysAfterAdmission: day - stay.admitted,
            daysBeforeDischarge: stay.discharged - day,
          },
          claim,
          related: [stay.claim],
          lineNos: allLines(claim),
          amountAtRisk: claim.totals.amount,
        });
      }
    }
    return subjects;
  },
};
