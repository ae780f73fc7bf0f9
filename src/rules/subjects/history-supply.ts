import { z } from 'zod';
import { genericOf } from '../../catalogue/codes.ts';
import { addDays, epochDay } from '../../dates.ts';
import { claimKind, ItemFact, itemFact, lineOf, num, pastLines, type Subject } from './kind.ts';

/**
 * The same generic drug prescribed again while an earlier supply lasts (重复开药): days of the
 * previous supply still left on this line's service date.
 */
export const historySupply = claimKind({
  name: 'historySupply',
  scope: 'history',
  ruleClass: 'optional',
  fact: ItemFact.extend({
    previousDate: z.string(),
    previousClaimId: z.string(),
    daysRemaining: z.number(),
  }),
  build({ claim, history }) {
    if (!history.length) return [];
    const supplyEnd = new Map<string, { end: number; claimId: string; date: string }>();
    for (const { claimId, item } of pastLines(history, claim.claimId)) {
      if (item.category !== 'drug' || !item.daysSupply) continue;
      const end = epochDay(item.serviceDate) + item.daysSupply;
      const prev = supplyEnd.get(genericOf(item.code));
      if (!prev || end > prev.end)
        supplyEnd.set(genericOf(item.code), { end, claimId, date: item.serviceDate });
    }
    const subjects: Subject[] = [];
    for (const item of claim.items) {
      if (item.category !== 'drug' || !item.daysSupply) continue;
      const prev = supplyEnd.get(genericOf(item.code));
      if (!prev || prev.date > item.serviceDate) continue;
      subjects.push({
        kind: 'historySupply',
        fact: {
          ...itemFact(item),
          previousDate: prev.date,
          previousClaimId: prev.claimId,
          daysRemaining: prev.end - epochDay(item.serviceDate),
        },
        date: item.serviceDate,
        lines: [lineOf(item)],
        category: item.category,
      });
    }
    return subjects;
  },
  suggest({ fact }, { params }) {
    const previous = typeof fact.previousDate === 'string' ? fact.previousDate : undefined;
    const remaining = num(fact.daysRemaining);
    const grace = num(params.graceDays) ?? 0;
    const date = typeof fact.serviceDate === 'string' ? fact.serviceDate : undefined;
    if (!previous || remaining === undefined || !date) return undefined;
    return `前次（${previous}）所开药量尚余${remaining}天，最早可于${addDays(date, remaining - grace)}再次开具`;
  },
});
