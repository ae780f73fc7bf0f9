import { z } from 'zod';
import { claimKind, groupBy, lineOf, type Subject, single } from './kind.ts';

/**
 * The TCM pieces billed on one day, taken as one prescription (中药饮片单方使用不予支付: a
 * prescription made only of such pieces is not payable). Only prescriptions with at least one
 * such piece are subjects.
 */
export const tcmPrescription = claimKind({
  name: 'tcmPrescription',
  scope: 'claim',
  ruleClass: 'required',
  fact: z.object({
    date: z.string(),
    pieceCount: z.number(),
    notPayableAloneCount: z.number(),
    names: z.string(),
  }),
  build({ claim, catalogue, ruleClass }) {
    const pieces = claim.items.filter((i) => i.category === 'tcm-herbal');
    const subjects: Subject[] = [];
    for (const [date, items] of groupBy(pieces, (i) => i.serviceDate)) {
      const flagged = items.filter(
        (i) =>
          catalogue.pointsFor(i.code, i.serviceDate)?.get(ruleClass)?.restriction?.kind ===
          'tcmNotPayableAlone',
      );
      const firstFlagged = flagged[0];
      const kp = firstFlagged && catalogue.pointsFor(firstFlagged.code, date)?.get(ruleClass);
      if (!kp) continue;
      subjects.push({
        kind: 'tcmPrescription',
        fact: {
          date,
          pieceCount: items.length,
          notPayableAloneCount: flagged.length,
          names: items.map((i) => i.name).join('、'),
        },
        date,
        lines: items.map(lineOf),
        category: 'tcm-herbal',
        points: single(kp),
      });
    }
    return subjects;
  },
});
