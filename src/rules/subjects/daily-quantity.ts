import { z } from 'zod';
import { claimKind, groupBy, lineOf, num, type Subject, single } from './kind.ts';

/**
 * Units of one code charged on one day, for codes priced per day or per hour (限定频次). A rule
 * takes the units past the daily limit as at risk with `atRisk.unitsBeyond`.
 */
export const dailyQuantity = claimKind({
  name: 'dailyQuantity',
  scope: 'claim',
  ruleClass: 'required',
  fact: z.object({
    code: z.string(),
    name: z.string(),
    date: z.string(),
    quantity: z.number(),
    lines: z.number(),
  }),
  build({ claim, catalogue, ruleClass }) {
    const subjects: Subject[] = [];
    const candidates = claim.items.filter((i) => catalogue.pointsFor(i.code, i.serviceDate)?.has(ruleClass));
    for (const items of groupBy(candidates, (i) => `${i.code}|${i.serviceDate}`).values()) {
      const first = items[0];
      const kp = first && catalogue.pointsFor(first.code, first.serviceDate)?.get(ruleClass);
      if (!first || !kp || kp.restriction?.kind !== 'frequency') continue;
      subjects.push({
        kind: 'dailyQuantity',
        fact: {
          code: first.code,
          name: first.name,
          date: first.serviceDate,
          quantity: items.reduce((s, i) => s + i.quantity, 0),
          lines: items.length,
        },
        date: first.serviceDate,
        lines: items.map(lineOf),
        category: first.category,
        points: single(kp),
      });
    }
    return subjects;
  },
  suggest({ fact }, { restriction }) {
    const max = num(restriction?.maxPerDay);
    return max === undefined
      ? undefined
      : `${fact.name}每日最多支付${max}，请将${fact.date}的数量改为不超过${max}`;
  },
});
