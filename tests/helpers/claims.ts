import { Claim } from '../../src/contracts/claim.ts';
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

/** A valid Claim v1: the base claim with `patch` merged in (arrays replace, objects merge). */
export const claim = (patch: Json = {}): Claim => Claim.parse(deepMerge(BASE, patch));

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
