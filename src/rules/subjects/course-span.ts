import { z } from 'zod';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import type { Item } from '../../contracts/claim.ts';
import { addMonths, epochDay } from '../../dates.ts';
import { claimKind, lineOf, pastLines, type Subject, single } from './kind.ts';

/**
 * A drug payable for a span from its first dose (支付不超过12个月, scope `span`): the first dose in
 * the patient's history or this claim, the day the span ends, and this claim's lines of it. A line on
 * or after the span's end is `pastSpan`; a rule puts those at risk with `atRisk.only`. A first dose
 * before the rule's history window is not seen, so the span may start late: a flag may be missed,
 * never raised falsely.
 */
export const courseSpan = claimKind({
  name: 'courseSpan',
  scope: 'history',
  ruleClass: 'required',
  fact: z.object({
    name: z.string(),
    firstDose: z.string(),
    spanEnd: z.string(),
    lastDate: z.string(),
    /** Days from the span's end to this claim's last charge of the drug, that day included; 0 within. */
    daysPastSpan: z.number(),
  }),
  line: z.object({ pastSpan: z.boolean() }),
  build({ claim, history, catalogue, ruleClass }) {
    const byKp = new Map<string, { kp: KnowledgePoint; maxMonths: number; items: Item[] }>();
    for (const item of claim.items) {
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (kp?.restriction?.kind !== 'course' || kp.restriction.scope !== 'span') continue;
      const entry = byKp.get(kp.kpId);
      if (entry) entry.items.push(item);
      else byKp.set(kp.kpId, { kp, maxMonths: kp.restriction.maxMonths, items: [item] });
    }
    const subjects: Subject[] = [];
    for (const { kp, maxMonths, items } of byKp.values()) {
      const first = items[0];
      if (!first) continue;
      const codes = new Set(kp.codes);
      let firstDose = first.serviceDate;
      for (const { item } of pastLines(history, claim.claimId))
        if (codes.has(item.code) && item.serviceDate < firstDose) firstDose = item.serviceDate;
      for (const item of items) if (item.serviceDate < firstDose) firstDose = item.serviceDate;
      const spanEnd = addMonths(firstDose, maxMonths);
      const lastDate = items.reduce((d, i) => (i.serviceDate > d ? i.serviceDate : d), first.serviceDate);
      subjects.push({
        kind: 'courseSpan',
        fact: {
          name: first.name,
          firstDose,
          spanEnd,
          lastDate,
          daysPastSpan: Math.max(0, epochDay(lastDate) - epochDay(spanEnd) + 1),
        },
        date: first.serviceDate,
        lines: items.map((i) => ({ ...lineOf(i), pastSpan: i.serviceDate >= spanEnd })),
        category: first.category,
        points: single(kp),
      });
    }
    return subjects;
  },
});
