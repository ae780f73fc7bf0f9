import { Claim } from '../contracts/claim.ts';
import { ContractError, parseContract } from '../contracts/issues.ts';
import { deepMerge, type FixtureResult } from '../rules/fixtures.ts';
import { PolicyError, type PostPolicy } from './policy.ts';
import type { PeriodRuleSet } from './rules.ts';

type Json = Record<string, unknown>;

/**
 * Run every period rule's fixtures: a patient's claims through the rule's subject builder and its
 * conditions (the claim fixture is the one that must be flagged), or a peer subject fact straight
 * through the conditions.
 */
export async function runPeriodFixtures(
  rules: PeriodRuleSet,
  policy: PostPolicy,
  baseClaim: Json,
): Promise<FixtureResult[]> {
  const results: FixtureResult[] = [];
  for (const rule of rules.rules) {
    const { file } = rule;
    for (const fixture of file.fixtures) {
      const base = { ruleId: file.id, fixture: fixture.name, expect: fixture.expect };
      let hits: { claimId: string; lineNos: number[] }[] = [];
      const { kind } = rule;
      let target = '';
      if (kind.level === 'patient') {
        let claims: Claim[];
        try {
          claims = [...(fixture.history ?? []), fixture.claim ?? {}].map((patch, i, all) =>
            parseContract(
              Claim,
              'fixture claim',
              deepMerge(baseClaim, {
                claimId: i === all.length - 1 ? 'C-FIXTURE-0001' : `C-FIXTURE-H${i + 1}`,
                ...patch,
              }),
            ),
          );
        } catch (error) {
          if (!(error instanceof ContractError)) throw error;
          results.push({
            ...base,
            passed: false,
            problem: `fixture claim is invalid: ${error.problems.join('; ')}`,
          });
          continue;
        }
        target = (claims[claims.length - 1] as Claim).claimId;
        for (const subject of kind.build(claims, {
          params: file.params,
          plannedCycles: policy.plannedCycles,
        })) {
          const facts = { subject: subject.fact, params: file.params, patient: {}, hospital: {} };
          if (await rules.holds(rule, facts))
            hits.push({ claimId: subject.claim.claimId, lineNos: subject.lineNos });
        }
        hits = hits.filter((h) => h.claimId === target);
      } else {
        if (!fixture.subject)
          throw new PolicyError([`${rule.source}: fixture "${fixture.name}" needs a subject`]);
        if (await rules.holds(rule, { subject: fixture.subject, params: file.params }))
          hits.push({ claimId: '', lineNos: [] });
      }
      let problem: string | undefined;
      if (fixture.expect === 'miss' && hits.length)
        problem = `expected no flag${target ? ` on ${target}` : ''}, got ${hits.length}`;
      else if (fixture.expect === 'hit' && !hits.length)
        problem = `expected a flag${target ? ` on ${target}` : ''}, got none`;
      else if (fixture.expect === 'hit' && fixture.lineNos) {
        const want = fixture.lineNos.join(',');
        if (!hits.some((h) => h.lineNos.join(',') === want))
          problem = `expected a flag on lines [${want}], got ${hits.map((h) => `[${h.lineNos.join(',')}]`).join(' ')}`;
      }
      results.push({ ...base, passed: !problem, ...(problem ? { problem } : {}) });
    }
  }
  return results;
}
