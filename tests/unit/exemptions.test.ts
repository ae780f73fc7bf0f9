import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { Backtest } from '../../src/pipeline/backtest.ts';
import { deepMerge, readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir, RuleSetError } from '../../src/rules/load.ts';
import { rulesCopy } from '../helpers/rules-copy.ts';

const now = new Date('2026-11-01T00:00:00Z');
const plain = loadCore();

/**
 * GZ-DRUG-SEX's own hit fixture: a male-only drug billed for a female patient, served 2026-10-03,
 * with totals that match its one line (so no settlement-totals flag joins it).
 */
function maleOnlyDrugForWoman(patch: Record<string, unknown> = {}): Claim {
  const rule = JSON.parse(readFileSync(join(defaultRulesDir(), 'drug-sex.json'), 'utf8')) as {
    fixtures: { expect: string; claim: Record<string, unknown> }[];
  };
  const hit = rule.fixtures.find((f) => f.expect === 'hit');
  const claim = deepMerge(readBaseClaim(defaultRulesDir()), hit?.claim ?? {});
  const totals = { totals: { amount: 10, fundPaid: 8, selfPaid: 2 } };
  return deepMerge(deepMerge(claim, totals), patch) as unknown as Claim;
}

const exemption = (overrides: Record<string, unknown> = {}) => ({
  id: 'EX-2026-001',
  ruleId: 'GZ-DRUG-SEX',
  scope: { hospitalId: 'H-FIXTURE' },
  reason: '性别重置术后患者，经专家组复核用药合理',
  approver: '医保局专家组 王某',
  expires: '2026-12-31',
  ...overrides,
});

/** A copy of the rules with one exemptions file. */
function withExemptions(file: unknown) {
  const dir = rulesCopy();
  mkdirSync(join(dir, 'exemptions'), { recursive: true });
  writeFileSync(join(dir, 'exemptions', 'review-2026-10.json'), JSON.stringify(file));
  return dir;
}

async function screen(dir: string, claim: Claim) {
  return loadCore(dir).screener.screen(claim, { stage: 'in', now });
}

describe('exemptions', () => {
  it('records a covered hit as exempted with the exemption id, and holds or rejects nothing for it', async () => {
    const claim = maleOnlyDrugForWoman();
    const { flags, decision } = await screen(withExemptions({ exemptions: [exemption()] }), claim);
    expect(flags).toEqual([
      expect.objectContaining({ ruleId: 'GZ-DRUG-SEX', status: 'exempted', exemptionId: 'EX-2026-001' }),
    ]);
    expect(decision.outcome).toBe('pass');
    const unexempted = await plain.screener.screen(claim, { stage: 'in', now });
    expect(unexempted.flags[0]).toMatchObject({ status: 'open' });
    expect(unexempted.flags[0]?.exemptionId).toBeUndefined();
    expect(unexempted.decision.outcome).toBe('reject');
  });

  it('flags the hit again after the expiry, at another hospital, or without the named diagnosis', async () => {
    const claim = maleOnlyDrugForWoman();
    const cases = [
      exemption({ expires: '2026-10-02' }),
      exemption({ scope: { hospitalId: 'H-OTHER' } }),
      exemption({ scope: { hospitalId: 'H-FIXTURE', icd10Prefix: 'C61' } }),
    ];
    for (const ex of cases) {
      const { flags } = await screen(withExemptions({ exemptions: [ex] }), claim);
      expect(flags.map((f) => f.status)).toEqual(['open']);
    }
    const withDiagnosis = maleOnlyDrugForWoman({ diagnoses: [{ code: 'C61.x00', primary: true }] });
    const { flags } = await screen(withExemptions({ exemptions: [cases[2]] }), withDiagnosis);
    // C61 (prostate) on a woman's claim is a diagnosis edit of its own, which the exemption does not cover.
    const bySex = flags.filter((f) => f.ruleId === 'GZ-DRUG-SEX');
    expect(bySex.map((f) => f.status)).toEqual(['exempted']);
    expect(flags.filter((f) => f.ruleId !== 'GZ-DRUG-SEX').map((f) => f.status)).not.toContain('exempted');
  });

  it('refuses an exemption file without an approver, for a rule the set lacks, or covering everyone', () => {
    const file = withExemptions({
      exemptions: [
        exemption({ approver: undefined }),
        exemption({ id: 'EX-2026-002', ruleId: 'GZ-NO-SUCH-RULE' }),
        exemption({ id: 'EX-2026-003', scope: {} }),
      ],
    });
    expect(() => loadCore(file)).toThrow(RuleSetError);
    expect(() => loadCore(file)).toThrow(
      /exemptions\/review-2026-10\.json: exemptions\[0\]\.approver: required string is missing/,
    );
    expect(() => loadCore(file)).toThrow(/exemptions\[2\]\.scope: name at least one of/);
    const unknownRule = withExemptions({ exemptions: [exemption({ ruleId: 'GZ-NO-SUCH-RULE' })] });
    expect(() => loadCore(unknownRule)).toThrow(
      /exemptions\[0\]\.ruleId: no rule "GZ-NO-SUCH-RULE" in the set/,
    );
  });

  it('shows exempted hits in a backtest, apart from the hits that count', async () => {
    const working = loadCore(withExemptions({ exemptions: [exemption()] }));
    const backtest = new Backtest(working.screener, plain.screener, 'in', now);
    await backtest.add(maleOnlyDrugForWoman());
    const rule = backtest.report().rules.find((r) => r.ruleId === 'GZ-DRUG-SEX');
    expect(rule).toMatchObject({ hits: 0, exempted: 1, baseline: { hits: 1, exempted: 0 } });
    expect(rule?.newHits.examples[0]).toMatchObject({ exemptionId: 'EX-2026-001', lineNos: [1] });
    expect(rule?.lostHits.count).toBe(1);
  });
});
