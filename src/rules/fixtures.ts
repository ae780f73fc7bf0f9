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
      let claim: Claim;
      try {
        claim = parseContract(Claim, 'fixture claim', deepMerge(baseClaim, fixture.claim));
      } catch (error) {
        if (!(error instanceof ContractError)) throw error;
        results.push({
          ...base,
          passed: false,
          problem: `fixture claim is invalid: ${error.problems.join('; ')}`,
        });
        continue;
      }
      const history = (fixture.history ?? []).map((past, i) =>
        toHistoryClaim(
          parseContract(
            Claim,
            'fixture history claim',
            deepMerge(baseClaim, { claimId: `C-FIXTURE-H${i + 1}`, ...past }),
          ),
        ),
      );
      const stage = fixture.stage ?? (file.stages.includes('in') ? 'in' : (file.stages[0] ?? 'in'));
      const { flags } = await screener.screen(claim, {
        stage,
        now: new Date('2026-10-03T12:00:00Z'),
        history,
      });
      const own = flags.filter((f) => f.ruleId === file.id);
      let problem: string | undefined;
      if (fixture.expect === 'miss' && own.length) {
        problem = `expected no flag, got ${own.length}: ${own[0]?.message}`;
      } else if (fixture.expect === 'hit' && !own.length) {
        problem = 'expected a flag, got none';
      } else if (fixture.expect === 'hit' && fixture.lineNos) {
        const want = fixture.lineNos.join(',');
        if (!own.some((f) => f.lineNos.join(',') === want)) {
          problem = `expected a flag on lines [${want}], got ${own.map((f) => `[${f.lineNos.join(',')}]`).join(' ')}`;
        }
      }
      results.push({ ...base, passed: !problem, ...(problem ? { problem } : {}) });
    }
  }
  return results;
}
