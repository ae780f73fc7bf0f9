import { z } from 'zod';
import { claimKind, ItemFact, itemFact, lineOf, type PastLine, pastLines, type Subject } from './kind.ts';

/** The same code charged on the same day in an earlier claim (重复收费 across claims). */
export const historySameDay = claimKind({
  name: 'historySameDay',
  scope: 'history',
  ruleClass: 'optional',
  fact: ItemFact.extend({ otherClaimId: z.string(), otherLineNo: z.number(), otherDate: z.string() }),
  build({ claim, history }) {
    if (!history.length) return [];
    const byCodeDay = new Map<string, PastLine>();
    for (const past of pastLines(history, claim.claimId))
      byCodeDay.set(`${past.item.code}|${past.item.serviceDate}`, past);
    const subjects: Subject[] = [];
    for (const item of claim.items) {
      const past = byCodeDay.get(`${item.code}|${item.serviceDate}`);
      if (!past) continue;
      subjects.push({
        kind: 'historySameDay',
        fact: {
          ...itemFact(item),
          otherClaimId: past.claimId,
          otherLineNo: past.item.lineNo,
          otherDate: past.item.serviceDate,
        },
        date: item.serviceDate,
        lines: [lineOf(item)],
        category: item.category,
      });
    }
    return subjects;
  },
});
