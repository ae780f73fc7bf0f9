import { z } from 'zod';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import { epochDay } from '../../dates.ts';
import { type CatalogueLookup, claimKind, groupBy, lineOf, round2, single } from './kind.ts';

const PairLine = z.object({
  lineNo: z.number(),
  code: z.string(),
  name: z.string(),
  serviceDate: z.string(),
});

/**
 * Charges of two codes that form an exclusive pair (医疗服务项目重复收费: A's price already
 * contains B), one subject per pair and day B was charged: every B line of that day with every A
 * line of the nearest day A was charged (`daysApart` between the two days). So a claim yields at
 * most one subject per B day of each pair — linear in its lines — however many A and B lines it
 * repeats; a rule names the duplicate charge by role (A lines "a", B lines "b"). `a` and `b` are
 * the first line of each side; `b.amount` is what the B lines of the day charged together.
 */
export const exclusivePair = claimKind({
  name: 'exclusivePair',
  scope: 'claim',
  ruleClass: 'required',
  fact: z.object({ a: PairLine, b: PairLine.extend({ amount: z.number() }), daysApart: z.number() }),
  line: z.object({ role: z.enum(['a', 'b']) }),
  build({ claim, catalogue, ruleClass }) {
    const byCode = groupBy(claim.items, (i) => i.code);
    const subjects = [];
    const seen = new Set<string>();
    for (const [code, linesA] of byCode) {
      // A code may sit in several pairs; the catalogue keeps each pair as its own knowledge point.
      const dates = [...new Set(linesA.map((l) => l.serviceDate))];
      if (dates.every((date) => catalogue.pairsFor(code, ruleClass, date).length === 0)) continue;
      for (const pair of pairsOf(catalogue, code, ruleClass, dates)) {
        const [codeA, codeB] = pair.codes;
        if (codeA !== code || seen.has(pair.kp.kpId)) continue;
        const linesB = byCode.get(codeB);
        if (!linesB) continue;
        seen.add(pair.kp.kpId);
        const daysA = [...groupBy(linesA, (l) => l.serviceDate)].sort(([x], [y]) => x.localeCompare(y));
        for (const [dayB, bs] of groupBy(linesB, (l) => l.serviceDate)) {
          // The pair judges a day only if it applies on that day (knowledge points apply by service date).
          if (!catalogue.pairsFor(code, ruleClass, dayB).includes(pair.kp)) continue;
          const [dayA, as] = nearest(daysA, dayB);
          const a = as[0];
          const b = bs[0];
          if (!a || !b) continue;
          subjects.push({
            kind: 'exclusivePair',
            fact: {
              a: { lineNo: a.lineNo, code: a.code, name: a.name, serviceDate: a.serviceDate },
              b: {
                lineNo: b.lineNo,
                code: b.code,
                name: b.name,
                serviceDate: b.serviceDate,
                amount: round2(bs.reduce((sum, l) => sum + l.amount, 0)),
              },
              daysApart: Math.abs(epochDay(dayA) - epochDay(dayB)),
            },
            date: dayB,
            lines: [
              ...as.map((l) => ({ ...lineOf(l), role: 'a' })),
              ...bs.map((l) => ({ ...lineOf(l), role: 'b' })),
            ],
            category: 'service' as const,
            points: single(pair.kp),
          });
        }
      }
    }
    return subjects;
  },
});

/** The day (with its lines) of `days`, sorted and non-empty, nearest to `day`; the earlier on a tie. */
function nearest<T>(days: readonly [string, T[]][], day: string): [string, T[]] {
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((days[mid]?.[0] ?? '') < day) lo = mid + 1;
    else hi = mid;
  }
  const after = days[lo] as [string, T[]];
  const before = days[lo - 1];
  if (!before) return after;
  const target = epochDay(day);
  return target - epochDay(before[0]) <= Math.abs(epochDay(after[0]) - target) ? before : after;
}

/** The pairs of `ruleClass` that `code` is part of and that apply on one of `dates`, each once. */
function pairsOf(
  catalogue: CatalogueLookup,
  code: string,
  ruleClass: string,
  dates: readonly string[],
): { kp: KnowledgePoint; codes: [string, string] }[] {
  const points = new Set(dates.flatMap((date) => catalogue.pairsFor(code, ruleClass, date)));
  const out: { kp: KnowledgePoint; codes: [string, string] }[] = [];
  for (const kp of points) {
    if (kp.restriction?.kind === 'exclusivePair') out.push({ kp, codes: kp.restriction.codes });
  }
  return out;
}
