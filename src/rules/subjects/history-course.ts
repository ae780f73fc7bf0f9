import { z } from 'zod';
import { CourseFact, CourseLine, course } from './course.ts';
import { claimKind, lineOf, num, pastLines, type Subject } from './kind.ts';

/**
 * A course-limited drug's distinct billed days across the patient's recent claims and this one
 * (药品限支付疗程, cumulative: 支付不超过14天, scope `total`). A limit of one stay (单次最多支付14天,
 * scope `episode`) starts again with each stay, so earlier stays never count and it has no subject
 * here; a span from the first dose is course-span.ts. A line's `dayNo` counts the earlier days first; a line on a day an
 * earlier claim already billed adds no day (`dayNo` null).
 */
export const historyCourse = claimKind({
  name: 'historyCourse',
  scope: 'history',
  ruleClass: 'required',
  fact: CourseFact.extend({ claimDays: z.number(), earlierDays: z.number() }),
  line: CourseLine,
  build(input) {
    const { claim, history, ruleClass } = input;
    if (!history.length) return [];
    const subjects: Subject[] = [];
    for (const current of course.build(input)) {
      const kp = current.points?.get(ruleClass);
      if (kp?.restriction?.kind !== 'course' || kp.restriction.scope !== 'total') continue;
      const codes = new Set(kp.codes);
      const pastDays = new Set<string>();
      for (const { item } of pastLines(history, claim.claimId))
        if (codes.has(item.code)) pastDays.add(item.serviceDate);
      if (!pastDays.size) continue;
      const claimItems = claim.items.filter((i) => codes.has(i.code));
      const claimDays = [...new Set(claimItems.map((i) => i.serviceDate))].sort();
      const newDays = claimDays.filter((d) => !pastDays.has(d));
      const dayNo = new Map(newDays.map((d, i) => [d, pastDays.size + i + 1]));
      subjects.push({
        ...current,
        kind: 'historyCourse',
        fact: {
          ...current.fact,
          claimDays: claimDays.length,
          earlierDays: pastDays.size,
          distinctDays: pastDays.size + newDays.length,
        },
        lines: claimItems.map((i) => ({ ...lineOf(i), dayNo: dayNo.get(i.serviceDate) ?? null })),
      });
    }
    return subjects;
  },
  suggest({ fact }, { restriction }) {
    const max = num(restriction?.maxDays);
    const earlier = num(fact.earlierDays);
    if (max === undefined || earlier === undefined) return undefined;
    return `${fact.name}本疗程尚可支付${Math.max(0, max - earlier)}天`;
  },
});
