import type { Claim } from '../contracts/claim.ts';
import { type FixtureResult, fixtureClaim, fixtureClaims, fixtureProblem } from '../rules/fixtures.ts';
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
    const { file, kind } = rule;
    for (const fixture of file.fixtures) {
      const base = { ruleId: file.id, fixture: fixture.name, expect: fixture.expect };
      let hits: { claimId: string; lineNos: number[] }[] = [];
      let target = '';
      if (kind.level === 'patient') {
        const claims = fixtureClaims(base, results, () =>
          [...(fixture.history ?? []), fixture.claim ?? {}].map((patch, i, all) =>
            fixtureClaim(baseClaim, {
              claimId: i === all.length - 1 ? 'C-FIXTURE-0001' : `C-FIXTURE-H${i + 1}`,
              ...patch,
            }),
          ),
        );
        if (!claims) continue;
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
      const problem = fixtureProblem(fixture, hits, target);
      results.push({ ...base, passed: !problem, ...(problem ? { problem } : {}) });
    }
  }
  return results;
}
