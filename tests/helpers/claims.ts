import { Claim, serviceSpan } from '../../src/contracts/claim.ts';
import { deepMerge, readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';

/**
 * Claim factories for tests: each call returns a fresh object built from the rules' base fixture
 * (rules/fixtures/base-claim.json), so no test can change another's input.
 */

export type Json = Record<string, unknown>;

const BASE = readBaseClaim(defaultRulesDir());

/**
 * The base claim as raw JSON, for tests that break it at arbitrary paths (`any` is the honest type
 * for that).
 */
// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary paths of a claim's JSON
export const rawClaim = (): Record<string, any> => structuredClone(BASE);

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * A valid Claim v1: the base claim with `patch` merged in (arrays replace, objects merge), settled
 * as a hospital sends one: its totals are its lines' sum (80% paid by the fund) and it is submitted
 * the evening of its last service date, unless the patch gives totals or submittedAt of its own.
 * Without this a claim whose lines were patched would also break 结算明细信息异常 or
 * 就诊数据非实时上传监管.
 */
export function claim(patch: Json = {}): Claim {
  const merged = deepMerge(BASE, patch) as Json & { items: { amount: number; serviceDate: string }[] };
  const amount = round2(merged.items.reduce((s, i) => s + i.amount, 0));
  const fundPaid = round2(amount * 0.8);
  const [, last] = serviceSpan(merged);
  return Claim.parse({
    ...merged,
    totals: patch.totals ?? { amount, fundPaid, selfPaid: round2(amount - fundPaid) },
    submittedAt: patch.submittedAt ?? `${last}T18:00:00Z`,
  });
}

/** A pre-event draft of `hospitalId`: the base claim without claimId, submittedAt and totals. */
export function draft(patch: Json = {}, hospitalId = 'H3001'): Json {
  const { claimId: _claimId, submittedAt: _submittedAt, totals: _totals, ...rest } = BASE;
  return deepMerge(deepMerge(rest, { hospital: { hospitalId } }), patch);
}

/** One claim line; quantity 1 at 10 元 on 2026-10-03 unless `extra` says otherwise. */
export const line = (
  lineNo: number,
  code: string,
  name: string,
  category: string,
  extra: Json = {},
): Json => ({
  lineNo,
  code,
  name,
  category,
  quantity: 1,
  unitPrice: 10,
  amount: 10,
  serviceDate: '2026-10-03',
  ...extra,
});

/** Metformin for 30 days (60 tablets), the base claim's drug. */
export const metformin = (extra: Json = {}): Json =>
  line(1, 'XA10BAE054A001010101234', '二甲双胍片', 'drug', {
    quantity: 60,
    unitPrice: 0.35,
    amount: 21,
    daysSupply: 30,
    ...extra,
  });

/** A female-only service item (uterography), for the sex rules. */
export const uterography = (lineNo: number, serviceDate = '2026-10-03'): Json =>
  line(lineNo, '002101030300000', '子宫造影', 'service', { serviceDate });
