import { z } from 'zod';
import { genericOf } from '../../catalogue/codes.ts';
import { claimKind, groupBy, lineOf, type Subject } from './kind.ts';

/**
 * The western and patent drugs (category drug) billed on one day of a visit, taken as one
 * prescription (药品种类超标): `drugKinds` counts distinct generics, so two specs of one drug are
 * one kind.
 */
export const prescription = claimKind({
  name: 'prescription',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({ date: z.string(), drugKinds: z.number(), names: z.string() }),
  build({ claim }) {
    const drugs = claim.items.filter((i) => i.category === 'drug');
    const subjects: Subject[] = [];
    for (const [date, items] of groupBy(drugs, (i) => i.serviceDate)) {
      subjects.push({
        kind: 'prescription',
        fact: {
          date,
          drugKinds: new Set(items.map((i) => genericOf(i.code))).size,
          names: items.map((i) => i.name).join('、'),
        },
        date,
        lines: items.map(lineOf),
        category: 'drug',
      });
    }
    return subjects;
  },
});
