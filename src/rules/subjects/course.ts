import { z } from 'zod';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import type { Item } from '../../contracts/claim.ts';
import { type ClaimInput, claimKind, lineOf, num, type Subject, single } from './kind.ts';

/** The line facts of a course: `dayNo` is the line's billed day, counted from the course's first. */
export const CourseLine = z.object({ dayNo: z.number().nullable() });

export const CourseFact = z.object({
  name: z.string(),
  distinctDays: z.number(),
  firstDate: z.string(),
  lastDate: z.string(),
});

/** The claim's lines of each day-limited course knowledge point of `ruleClass`, in claim order. */
export function courseGroups({
  claim,
  catalogue,
  ruleClass,
}: ClaimInput): { kp: KnowledgePoint; items: Item[] }[] {
  const byKp = new Map<string, { kp: KnowledgePoint; items: Item[] }>();
  for (const item of claim.items) {
    const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
    // A span from the first dose (支付不超过12个月) counts no billed days: see course-span.ts.
    if (kp?.restriction?.kind !== 'course' || kp.restriction.scope === 'span') continue;
    const entry = byKp.get(kp.kpId);
    if (entry) entry.items.push(item);
    else byKp.set(kp.kpId, { kp, items: [item] });
  }
  return [...byKp.values()];
}

/**
 * Distinct days a course-limited drug or service was billed (限支付疗程), per knowledge point, so
 * the specs and makers it lists count as one course. A rule takes the days past the limit as at
 * risk with `atRisk.beyond` on `$.dayNo`.
 */
export const course = claimKind({
  name: 'course',
  scope: 'claim',
  ruleClass: 'required',
  fact: CourseFact,
  line: CourseLine,
  build(input) {
    const subjects: Subject[] = [];
    for (const { kp, items } of courseGroups(input)) {
      const first = items[0];
      if (!first) continue;
      const days = [...new Set(items.map((i) => i.serviceDate))].sort();
      const dayNo = new Map(days.map((d, i) => [d, i + 1]));
      subjects.push({
        kind: 'course',
        fact: {
          name: first.name,
          distinctDays: days.length,
          firstDate: days[0],
          lastDate: days[days.length - 1],
        },
        date: days[0] ?? first.serviceDate,
        lines: items.map((i) => ({ ...lineOf(i), dayNo: dayNo.get(i.serviceDate) ?? null })),
        category: first.category,
        points: single(kp),
      });
    }
    return subjects;
  },
  suggest({ fact }, { restriction }) {
    const max = num(restriction?.maxDays);
    return max === undefined
      ? undefined
      : `${fact.name}疗程最多支付${max}天，超出${fact.firstDate}起第${max}天的部分请改为自费或停用`;
  },
});
