import { z } from 'zod';
import { claimKind, groupBy, lineOf, round2, type Subject } from './kind.ts';

/**
 * The TCM pieces billed on one day, taken as one prescription (中药饮片超大处方): how many distinct
 * pieces and what they cost together. Unlike tcmPrescription it needs no knowledge point.
 */
export const herbalPrescription = claimKind({
  name: 'herbalPrescription',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({ date: z.string(), pieceCount: z.number(), amount: z.number() }),
  build({ claim }) {
    const pieces = claim.items.filter((i) => i.category === 'tcm-herbal');
    const subjects: Subject[] = [];
    for (const [date, items] of groupBy(pieces, (i) => i.serviceDate)) {
      subjects.push({
        kind: 'herbalPrescription',
        fact: {
          date,
          pieceCount: new Set(items.map((i) => i.code)).size,
          amount: round2(items.reduce((s, i) => s + i.amount, 0)),
        },
        date,
        lines: items.map(lineOf),
        category: 'tcm-herbal',
      });
    }
    return subjects;
  },
});
