import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { Backtest, EXAMPLES_PER_RULE } from '../../src/pipeline/backtest.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { rulesCopy, supplyLimit } from '../helpers/rules-copy.ts';

const core = loadCore();
const now = new Date('2026-11-01T00:00:00Z');
const { claims } = await generateClaims({ seed: 41, claims: 1500, violationRate: 0.1 }, core);

async function run(working = core, baseline = core) {
  const backtest = new Backtest(working.screener, baseline.screener, 'in', now);
  for (const claim of claims) await backtest.add(claim);
  return backtest.report();
}

describe('rules backtest', () => {
  it('finds no difference between a rule set and itself, and counts what screen counts', async () => {
    const report = await run();
    const sequence = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore(), now);
    let flags = 0;
    let amount = 0;
    for (const claim of claims) {
      const screened = await sequence.screen(claim);
      flags += screened.flags.length;
      amount += screened.flags.reduce((s, f) => s + f.amountAtRisk, 0);
    }
    expect(report.claims).toBe(1500);
    expect(report.newHits).toBe(0);
    expect(report.lostHits).toBe(0);
    expect(report.working.hits).toBe(flags);
    expect(report.working.amountAtRisk).toBeCloseTo(amount, 2);
    expect(report.working).toEqual({ ...report.baseline, version: report.working.version });
  });

  it('reports the new hits of a tightened rule with example claims and lines, and nothing else changed', async () => {
    const tightened = loadCore(rulesCopy({ 'drug-max-supply.json': supplyLimit(20) }));
    const report = await run(tightened, core);
    expect(report.working.version).not.toBe(report.baseline.version);
    const changed = report.rules.filter((r) => r.newHits.count || r.lostHits.count);
    expect(changed.map((r) => r.ruleId)).toEqual(['NHSA-DRUG-MAX-SUPPLY']);
    const [rule] = changed;
    expect(rule?.lostHits.count).toBe(0);
    expect(rule?.newHits.count).toBe((rule?.hits ?? 0) - (rule?.baseline.hits ?? 0));
    expect(rule?.newHits.count).toBeGreaterThan(EXAMPLES_PER_RULE);
    expect(rule?.newHits.examples).toHaveLength(EXAMPLES_PER_RULE);
    for (const example of rule?.newHits.examples ?? []) {
      const claim = claims.find((c) => c.claimId === example.claimId);
      const line = claim?.items.find((i) => i.lineNo === example.lineNos[0]);
      // Between the two limits: a hit now, not before.
      expect(line?.daysSupply).toBeGreaterThan(20);
      expect(example.message).toContain('最大开药天数20天');
    }
    expect(report.newHits).toBe(rule?.newHits.count);
    expect(report.working.amountAtRisk).toBeCloseTo(
      report.baseline.amountAtRisk + (rule?.newHits.amountAtRisk ?? 0),
      2,
    );
  });

  it('reports the lost hits of a loosened rule the other way round', async () => {
    const tightened = loadCore(rulesCopy({ 'drug-max-supply.json': supplyLimit(20) }));
    const forward = await run(tightened, core);
    const backward = await run(core, tightened);
    const rule = (r: typeof forward) => r.rules.find((x) => x.ruleId === 'NHSA-DRUG-MAX-SUPPLY');
    expect(rule(backward)?.lostHits.count).toBe(rule(forward)?.newHits.count);
    expect(rule(backward)?.lostHits.examples).toEqual(rule(forward)?.newHits.examples);
    expect(backward.lostHits).toBe(forward.newHits);
  });
});
