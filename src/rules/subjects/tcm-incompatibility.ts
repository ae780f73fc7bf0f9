import { z } from 'zod';
import { TCM_INCOMPATIBILITY_FILE } from '../../catalogue/tcm-incompatibility.ts';
import type { Item } from '../../contracts/claim.ts';
import { claimKind, groupBy, lineOf, type Subject } from './kind.ts';

/**
 * Two TCM pieces of one prescription — the claim's pieces on one service date — that the 十八反 /
 * 十九畏 table (rules/reference/tcm-incompatibility.json) says must not be prescribed together
 * (中药饮片配伍禁忌). Pieces are known by their billed names, processed forms included (炙甘草 is
 * 甘草), since most pieces carry no knowledge point. One subject per conflicting pair of pieces.
 */
export const tcmIncompatibility = claimKind({
  name: 'tcmIncompatibility',
  scope: 'claim',
  ruleClass: 'optional',
  reference: [TCM_INCOMPATIBILITY_FILE],
  fact: z.object({
    date: z.string(),
    /** 十八反 or 十九畏. */
    group: z.string(),
    /** The two pieces, as the table names them (甘草, 海藻) … */
    a: z.string(),
    b: z.string(),
    /** … and as the claim billed them (炙甘草, 海藻), joined with 、 where one piece is billed under two names. */
    namesA: z.string(),
    namesB: z.string(),
  }),
  line: z.object({
    /** `a` or `b`: which side of the pair the line bills. */
    role: z.string(),
  }),
  build({ claim, catalogue }) {
    const table = catalogue.tcmIncompatibility;
    if (!table) return [];
    const subjects: Subject[] = [];
    const pieces = claim.items.filter((i) => i.category === 'tcm-herbal');
    for (const [date, items] of groupBy(pieces, (i) => i.serviceDate)) {
      const byPiece = new Map<string, Item[]>();
      for (const item of items) {
        const piece = table.pieceOf(item.name);
        if (piece === undefined) continue;
        const lines = byPiece.get(piece);
        if (lines) lines.push(item);
        else byPiece.set(piece, [item]);
      }
      if (byPiece.size < 2) continue;
      const known = [...byPiece.keys()];
      for (let i = 0; i < known.length; i += 1)
        for (let j = i + 1; j < known.length; j += 1) {
          const conflict = table.conflict(known[i] as string, known[j] as string);
          if (!conflict) continue;
          const linesA = byPiece.get(conflict.a) ?? [];
          const linesB = byPiece.get(conflict.b) ?? [];
          subjects.push({
            kind: 'tcmIncompatibility',
            fact: {
              date,
              group: conflict.group,
              a: conflict.a,
              b: conflict.b,
              namesA: [...new Set(linesA.map((l) => l.name))].join('、'),
              namesB: [...new Set(linesB.map((l) => l.name))].join('、'),
            },
            date,
            lines: [
              ...linesA.map((l) => ({ ...lineOf(l), role: 'a' })),
              ...linesB.map((l) => ({ ...lineOf(l), role: 'b' })),
            ].sort((x, y) => x.lineNo - y.lineNo),
            category: 'tcm-herbal',
            reference: { source: conflict.source },
          });
        }
    }
    return subjects;
  },
});
