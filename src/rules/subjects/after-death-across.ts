import { z } from 'zod';
import { type Claim, serviceSpan } from '../../contracts/claim.ts';
import { epochDay } from '../../dates.ts';
import { type PatientSubject, type PatientSubjectKind, round2 } from './kind.ts';
import { PERIOD_KIND } from './period.ts';

/**
 * Services after a death another claim records: each claim that does not carry the death date
 * itself (those are the claim-scope rule's) measured against the earliest one any claim carries.
 */
export const afterDeathAcross: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'afterDeathAcross',
  level: 'patient',
  params: [],
  fact: z.object({
    deathDate: z.string(),
    deathClaimId: z.string(),
    daysAfterDeath: z.number(),
    firstDateAfterDeath: z.string().nullable(),
    names: z.string(),
  }),
  build(claims) {
    let death: { date: string; claim: Claim } | undefined;
    for (const claim of claims) {
      const date = claim.patient.deathDate;
      if (date && (!death || date < death.date)) death = { date, claim };
    }
    if (!death) return [];
    const subjects: PatientSubject[] = [];
    for (const claim of claims) {
      if (claim.patient.deathDate) continue;
      const after = claim.items.filter((i) => i.serviceDate > (death?.date ?? ''));
      const [, last] = serviceSpan(claim);
      subjects.push({
        fact: {
          deathDate: death.date,
          deathClaimId: death.claim.claimId,
          daysAfterDeath: epochDay(last) - epochDay(death.date),
          firstDateAfterDeath: after.map((i) => i.serviceDate).sort()[0] ?? null,
          names: [...new Set(after.map((i) => i.name))].join('、'),
        },
        claim,
        related: [death.claim],
        lineNos: after.map((i) => i.lineNo),
        amountAtRisk: round2(after.reduce((s, i) => s + i.amount, 0)),
      });
    }
    return subjects;
  },
};
