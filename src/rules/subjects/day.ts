import { z } from 'zod';
import { epochDay } from '../../dates.ts';
import { type ClaimSubjectKind, EVERY_STAGE, groupBy, lineOf, NO_LINE_FACTS } from './kind.ts';

/** Each day with charges, measured against the stay and the patient's death. */
export const day: ClaimSubjectKind = {
  name: 'day',
  scope: 'claim',
  ruleClass: 'optional',
  history: false,
  stages: EVERY_STAGE,
  fact: z.object({
    date: z.string(),
    itemCount: z.number(),
    names: z.string(),
    daysBeforeAdmission: z.number().nullable(),
    daysAfterDischarge: z.number().nullable(),
    daysAfterDeath: z.number().nullable(),
  }),
  line: NO_LINE_FACTS,
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
};
