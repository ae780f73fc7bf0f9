import { z } from 'zod';
import { epochDay } from '../../dates.ts';
import { claimKind, groupBy, lineOf } from './kind.ts';

/** Each day with charges, measured against the stay and the patient's death. */
export const day = claimKind({
  name: 'day',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({
    date: z.string(),
    itemCount: z.number(),
    names: z.string(),
    daysBeforeAdmission: z.number().nullable(),
    daysAfterDischarge: z.number().nullable(),
    daysAfterDeath: z.number().nullable(),
  }),
  build({ claim }) {
    const { admittedAt, dischargedAt } = claim.visit;
    const death = claim.patient.deathDate;
    return [...groupBy(claim.items, (i) => i.serviceDate)].map(([date, items]) => {
      const d = epochDay(date);
      return {
        kind: 'day',
        fact: {
          date,
          itemCount: items.length,
          names: items.map((i) => i.name).join('、'),
          daysBeforeAdmission: admittedAt ? epochDay(admittedAt) - d : null,
          daysAfterDischarge: dischargedAt ? d - epochDay(dischargedAt) : null,
          daysAfterDeath: death ? d - epochDay(death) : null,
        },
        date,
        lines: items.map(lineOf),
      };
    });
  },
});
