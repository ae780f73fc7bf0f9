import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Claim } from '../contracts/claim.ts';
import { ContractError, parseContract } from '../contracts/issues.ts';
import type { Fixture } from '../contracts/rule.ts';
import { toHistoryClaim } from '../history/store.ts';
import type { RuleSet } from './rule-set.ts';
import { Screener } from './screen.ts';
import type { CatalogueLookup } from './subjects/kind.ts';

type Json = Record<string, unknown>;

/** Objects merge key by key; arrays and scalars in the patch replace the base. */
export function deepMerge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const prev = out[key];
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev as Json, value as Json)
        : value;
  }
  return out;
}

export function readBaseClaim(rulesDir: string): Json {
  return JSON.parse(readFileSync(join(rulesDir, 'fixtures', 'base-claim.json'), 'utf8')) as Json;
}

export interface FixtureResult {
  ruleId: string;
  fixture: string;
  expect: Fixture['expect'];
  passed: boolean;
  /** Why it failed, in words a rule author can act on. */
  problem?: string;
}

type FixtureBase = Pick<FixtureResult, 'ruleId' | 'fixture' | 'expect'>;

/**
 * A fixture's claims parsed by `parse`; a claim the contract refuses is recorded in `results` as the
 * fixture's failure (undefined returned), so one bad fixture never hides the others.
 */
export function fixtureClaims<T>(base: FixtureBase, results: FixtureResult[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    results.push({
      ...base,
      passed: false,
      problem: `fixture claim is invalid: ${error.problems.join('; ')}`,
    });
    return undefined;
  }
}

/** A fixture's claim: the base claim with the fixture's patch merged on. */
export const fixtureClaim = (baseClaim: Json, patch: Json, what = 'fixture claim'): Claim =>
  parseContract(Claim, what, deepMerge(baseClaim, patch));

/**
 * Whether a fixture's hits (flags on its claim, `on` naming it where the fixture has several) are
 * what it expects; otherwise the problem, in words a rule author can act on.
 */
export function fixtureProblem(
  fixture: { expect: Fixture['expect']; lineNos?: readonly number[] | undefined },
  hits: readonly { lineNos: readonly number[]; message?: string }[],
  on = '',
): string | undefined {
  const where = on ? ` on ${on}` : '';
  if (fixture.expect === 'miss' && hits.length) {
    const first = hits[0]?.message;
    return `expected no flag${where}, got ${hits.length}${first ? `: ${first}` : ''}`;
  }
  if (fixture.expect === 'hit' && !hits.length) return `expected a flag${where}, got none`;
  if (fixture.expect === 'hit' && fixture.lineNos) {
    const want = fixture.lineNos.join(',');
    if (!hits.some((h) => h.lineNos.join(',') === want))
      return `expected a flag on lines [${want}], got ${hits.map((h) => `[${h.lineNos.join(',')}]`).join(' ')}`;
  }
  return undefined;
}

/** Run every rule's fixtures through the real screener and report each outcome. */
export async function runFixtures(
  ruleSet: RuleSet,
  catalogue: CatalogueLookup,
  baseClaim: Json,
): Promise<FixtureResult[]> {
  const screener = new Screener(ruleSet, catalogue);
  const results: FixtureResult[] = [];
  for (const { file } of ruleSet.rules) {
    for (const fixture of file.fixtures) {
      const base = { ruleId: file.id, fixture: fixture.name, expect: fixture.expect };
      const parsed = fixtureClaims(base, results, () => ({
        claim: fixtureClaim(baseClaim, fixture.claim),
        history: (fixture.history ?? []).map((past, i) =>
          toHistoryClaim(
            fixtureClaim(baseClaim, { claimId: `C-FIXTURE-H${i + 1}`, ...past }, 'fixture history claim'),
          ),
        ),
      }));
      if (!parsed) continue;
      const stage = fixture.stage ?? (file.stages.includes('in') ? 'in' : (file.stages[0] ?? 'in'));
      const { flags } = await screener.screen(parsed.claim, {
        stage,
        now: new Date('2026-10-03T12:00:00Z'),
        history: parsed.history,
      });
      const problem = fixtureProblem(
        fixture,
        flags.filter((f) => f.ruleId === file.id),
      );
      results.push({ ...base, passed: !problem, ...(problem ? { problem } : {}) });
    }
  }
  return results;
}
