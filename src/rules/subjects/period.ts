import { z } from 'zod';
import type { Claim } from '../../contracts/claim.ts';
import type { RuleFile } from '../../contracts/rule.ts';
import { epochDay } from '../../dates.ts';
import { NO_LINE_FACTS, type PatientSubject } from './kind.ts';

/**
 * What the period subject kinds share: the fields every one declares alike (post stage only, no
 * knowledge-point class of their own, no history window: the period's claims are their input) and
 * the shaping their builders have in common — stays, the densest window of days.
 */
export const PERIOD_KIND = {
  scope: 'period',
  ruleClass: 'optional',
  history: false,
  stages: ['post'],
  line: NO_LINE_FACTS,
} as const;

export type Params = Readonly<RuleFile['params']>;

export const primaryOf = (c: Claim): string | undefined =>
  (c.diagnoses.find((d) => d.primary) ?? c.diagnoses[0])?.code;
/** ICD-10 category: the first three characters (`E11.900` → `E11`). */
export const categoryOf = (code: string | undefined): string | undefined => code?.slice(0, 3);
export const allLines = (c: Claim): number[] => c.items.map((i) => i.lineNo);
export const byClaimId = (a: Claim, b: Claim): number =>
  a.claimId < b.claimId ? -1 : a.claimId > b.claimId ? 1 : 0;

export interface Stay {
  claim: Claim;
  admitted: number;
  discharged: number;
}

/** A patient's inpatient stays by admission day (then claim id, so the order is total). */
export function staysOf(claims: readonly Claim[]): Stay[] {
  const stays: Stay[] = [];
  for (const claim of claims) {
    const { type, admittedAt, dischargedAt } = claim.visit;
    if (type !== 'inpatient' || !admittedAt || !dischargedAt) continue;
    stays.push({ claim, admitted: epochDay(admittedAt), discharged: epochDay(dischargedAt) });
  }
  return stays.sort((a, b) => a.admitted - b.admitted || byClaimId(a.claim, b.claim));
}

/** The densest run of `days` (sorted ascending) within `windowDays` consecutive days. */
export function densestWindow<T>(
  events: readonly { day: number; value: T }[],
  windowDays: number,
): { count: number; from: number; to: number; values: T[] } {
  // The best window's bounds only; its values are copied once, at the end (this runs per patient).
  let count = 0;
  let bestLeft = 0;
  let bestRight = -1;
  let left = 0;
  for (let right = 0; right < events.length; right++) {
    const r = events[right] as { day: number; value: T };
    while ((events[left]?.day ?? r.day) <= r.day - windowDays) left++;
    if (right - left + 1 > count) {
      count = right - left + 1;
      bestLeft = left;
      bestRight = right;
    }
  }
  if (bestRight < 0) return { count: 0, from: 0, to: 0, values: [] };
  const window = events.slice(bestLeft, bestRight + 1);
  return {
    count,
    from: (window[0] as { day: number }).day,
    to: (events[bestRight] as { day: number }).day,
    values: window.map((e) => e.value),
  };
}

/** ISO dates by epoch day: a month's audit formats the same few hundred days millions of times. */
const isoDays = new Map<number, string>();
const isoOf = (day: number): string => {
  let iso = isoDays.get(day);
  if (iso === undefined) {
    iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
    if (isoDays.size < 100_000) isoDays.set(day, iso);
  }
  return iso;
};

export function numberParam(params: Params, name: string): number {
  const value = params[name];
  if (typeof value !== 'number') throw new TypeError(`params.${name} must be a number`);
  return value;
}

/** The facts of a densest window: how many in `windowDays` days, from and to which day. */
export const WindowFact = z.object({
  count: z.number(),
  windowDays: z.number(),
  from: z.string(),
  to: z.string(),
});

/** The subject of a densest window: flagged on its latest claim, the earlier ones related. */
export function windowSubject(
  w: { count: number; from: number; to: number; values: Claim[] },
  windowDays: number,
  extra: Record<string, unknown> = {},
): PatientSubject {
  const latest = w.values[w.values.length - 1] as Claim;
  return {
    fact: { count: w.count, windowDays, from: isoOf(w.from), to: isoOf(w.to), ...extra },
    claim: latest,
    related: [...new Set(w.values.slice(0, -1))].filter((c) => c !== latest),
    lineNos: allLines(latest),
    amountAtRisk: latest.totals.amount,
  };
}
