import { z } from 'zod';
import type { PatientSubject, PatientSubjectKind } from './kind.ts';
import { allLines, categoryOf, PERIOD_KIND, primaryOf, type Stay, staysOf } from './period.ts';
import { plannedCycleFor } from './planned-cycles.ts';

/** 分解住院: each stay against the patient's previous stay at the same hospital. */
export const readmission: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'readmission',
  level: 'patient',
  params: [],
  fact: z.object({
    hospitalId: z.string(),
    gapDays: z.number(),
    previousAdmittedAt: z.string(),
    previousDischargedAt: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    diagnosis: z.string(),
    previousDiagnosis: z.string(),
    sameDiagnosisCategory: z.boolean(),
    plannedCycle: z.boolean(),
  }),
  build(claims, { plannedCycles }) {
    const subjects: PatientSubject[] = [];
    const lastAt = new Map<string, Stay>();
    for (const stay of staysOf(claims)) {
      const hospitalId = stay.claim.hospital.hospitalId;
      const previous = lastAt.get(hospitalId);
      lastAt.set(hospitalId, stay);
      if (!previous) continue;
      const diagnosis = primaryOf(stay.claim) ?? '';
      const previousDiagnosis = primaryOf(previous.claim) ?? '';
      subjects.push({
        fact: {
          hospitalId,
          gapDays: stay.admitted - previous.discharged,
          previousAdmittedAt: previous.claim.visit.admittedAt,
          previousDischargedAt: previous.claim.visit.dischargedAt,
          admittedAt: stay.claim.visit.admittedAt,
          dischargedAt: stay.claim.visit.dischargedAt,
          diagnosis,
          previousDiagnosis,
          sameDiagnosisCategory: !!diagnosis && categoryOf(diagnosis) === categoryOf(previousDiagnosis),
          plannedCycle: plannedCycleFor(plannedCycles, diagnosis) !== undefined,
        },
        claim: stay.claim,
        related: [previous.claim],
        lineNos: allLines(stay.claim),
        amountAtRisk: stay.claim.totals.amount,
      });
    }
    return subjects;
  },
};
