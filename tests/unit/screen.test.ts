import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { type HistoryClaim, toHistoryClaim } from '../../src/history/store.ts';
import { RuleSet } from '../../src/rules/rule-set.ts';
import { flagIdFor, Screener } from '../../src/rules/screen.ts';
import { claim as claimOf } from '../helpers/claims.ts';

const core = loadCore();
const line = (
  lineNo: number,
  code: string,
  name: string,
  category: string,
  extra: Record<string, unknown> = {},
) => ({
  lineNo,
  code,
  name,
  category,
  quantity: 1,
  unitPrice: 12.5,
  amount: 12.5,
  serviceDate: '2026-10-03',
  ...extra,
});
const now = new Date('2026-10-04T00:00:00Z');

describe('screening a claim', () => {
  const mixed = claimOf({
    patient: { sex: 'M', birthDate: '1970-01-01' },
    visit: { type: 'inpatient', admittedAt: '2026-09-30', dischargedAt: '2026-10-02' },
    items: [
      line(1, '002101030300000', '子宫造影', 'service', { serviceDate: '2026-10-01' }),
      line(2, '001102000050000', '住院诊查费', 'service', { serviceDate: '2026-10-01' }),
      line(3, '001102000050000', '住院诊查费', 'service', { serviceDate: '2026-10-01' }),
      line(4, 'XA10BAE054A001010101234', '二甲双胍片', 'drug', { serviceDate: '2026-10-03' }),
    ],
  });

  it('rejects the female-only line, holds the over-frequency lines and flags the charge after discharge', async () => {
    const { flags, decision } = await core.screener.screen(mixed, { stage: 'in', now });
    expect(flags.map((f) => [f.ruleId, f.lineNos, f.action]).sort()).toEqual(
      [
        ['GZ-BILLING-OUTSIDE-STAY', [4], 'reject'],
        ['GZ-SERVICE-FREQUENCY', [2, 3], 'hold'],
        ['GZ-SERVICE-SEX', [1], 'reject'],
      ].sort(),
    );
    expect(decision.outcome).toBe('reject');
    expect(decision.lines.map((l) => [l.lineNo, l.action])).toEqual([
      [1, 'reject'],
      [2, 'hold'],
      [3, 'hold'],
      [4, 'reject'],
    ]);
  });

  it('explains each flag: a Chinese message, the knowledge point and its constraint text, the amount at risk', async () => {
    const { flags } = await core.screener.screen(mixed, { stage: 'in', now });
    const sex = flags.find((f) => f.ruleId === 'GZ-SERVICE-SEX');
    expect(sex?.message).toBe('子宫造影为女性项目，患者为男性');
    expect(sex?.basis).toMatchObject({
      ruleClass: '医疗服务项目区分性别使用',
      code: 'GZ10000302004000',
      text: '女性泌尿生殖系统相关检查',
    });
    expect(sex?.basis.knowledgePoint).toMatch(/^KP-/);
    const frequency = flags.find((f) => f.ruleId === 'GZ-SERVICE-FREQUENCY');
    expect(frequency?.amountAtRisk).toBe(12.5);
    expect(frequency?.message).toContain('收费2次，超过每日上限1');
  });

  it('uses the action of the stage: pre-event alerts never reject', async () => {
    const { flags, decision } = await core.screener.screen(mixed, { stage: 'pre', now });
    expect(new Set(flags.map((f) => f.action))).toEqual(new Set(['alert']));
    expect(decision.outcome).toBe('pass');
  });

  it('gives the same flag ids on every run, so a redelivered claim cannot add flags', async () => {
    const first = await core.screener.screen(mixed, { stage: 'in', now });
    const again = await core.screener.screen(mixed, { stage: 'in', now: new Date() });
    expect(again.flags.map((f) => f.flagId)).toEqual(first.flags.map((f) => f.flagId));
    const c1 = { claimId: 'C-1', hospitalId: 'H1' };
    expect(flagIdFor(c1, 'R', 1, [2, 1])).toBe(flagIdFor(c1, 'R', 1, [1, 2]));
    expect(flagIdFor(c1, 'R', 2, [1, 2])).not.toBe(flagIdFor(c1, 'R', 1, [1, 2]));
    expect(flagIdFor({ ...c1, hospitalId: 'H2' }, 'R', 1, [1])).not.toBe(flagIdFor(c1, 'R', 1, [1]));
    expect(flagIdFor({ ...c1, version: 2 }, 'R', 1, [1])).not.toBe(flagIdFor(c1, 'R', 1, [1]));
    expect(flagIdFor({ ...c1, version: 1 }, 'R', 1, [1])).toBe(flagIdFor(c1, 'R', 1, [1]));
  });

  it('passes a clean claim untouched', async () => {
    const { flags, decision } = await core.screener.screen(claimOf({}), { stage: 'in', now });
    expect(flags).toEqual([]);
    expect(decision.outcome).toBe('pass');
  });

  it('rejects every line of a claim whose diagnosis belongs to the other sex: the flag names no line', async () => {
    // C61 (malignant neoplasm of prostate) for a woman: every line was billed under that diagnosis.
    const claim = claimOf({
      diagnoses: [{ code: 'C61.x00', primary: true }],
      items: [
        line(1, 'XA10BAE054A001010101234', '二甲双胍片', 'drug'),
        line(2, '001102000050000', '住院诊查费', 'service'),
      ],
    });
    const { flags, decision } = await core.screener.screen(claim, { stage: 'in', now });
    expect(flags.map((f) => [f.ruleId, f.lineNos, f.action])).toEqual([['NHSA-DIAGNOSIS-SEX', [], 'reject']]);
    expect(decision.outcome).toBe('reject');
    expect(decision.lines).toEqual([
      { lineNo: 1, action: 'reject', ruleIds: ['NHSA-DIAGNOSIS-SEX'] },
      { lineNo: 2, action: 'reject', ruleIds: ['NHSA-DIAGNOSIS-SEX'] },
    ]);
  });

  it('holds, never rejects, every line of a claim whose only flag is a suspicious claim-level one', async () => {
    const claim = claimOf({ diagnoses: [{ code: '2型糖尿病', primary: true }] });
    const { flags, decision } = await core.screener.screen(claim, { stage: 'in', now });
    expect(flags.map((f) => [f.ruleId, f.lineNos, f.action])).toEqual([['NHSA-DIAGNOSIS-CODE', [], 'hold']]);
    expect(decision.outcome).toBe('hold');
    expect(decision.lines).toEqual([{ lineNo: 1, action: 'hold', ruleIds: ['NHSA-DIAGNOSIS-CODE'] }]);
  });

  it('takes the age on the service date, not today', async () => {
    // 玛巴洛沙韦干混悬剂 is for children of 5 to 11 with influenza (药品限儿童使用 and 药品限适应症);
    // the patient turned 12 the day after the visit.
    const claim = claimOf({
      patient: { birthDate: '2014-10-04' },
      diagnoses: [{ code: 'J11.100', primary: true }],
      items: [line(1, 'XJ05AXM176X006010181735', '玛巴洛沙韦干混悬剂', 'drug')],
    });
    const { flags } = await core.screener.screen(claim, {
      stage: 'in',
      now: new Date('2027-01-01T00:00:00Z'),
    });
    expect(flags).toEqual([]);
  });

  it('skips a rule outside its effective dates', async () => {
    const claim = claimOf({
      patient: { sex: 'M' },
      items: [line(1, '002101030300000', '子宫造影', 'service', { serviceDate: '2024-12-31' })],
    });
    expect((await core.screener.screen(claim, { stage: 'in', now })).flags).toEqual([]);
  });
});

describe('the memo', () => {
  it('gives flag for flag what fresh engine runs give, over a generated stream with history', async () => {
    const { claims } = await generateClaims({ seed: 77, claims: 1_500, violationRate: 0.3 }, core);
    const files = core.ruleSet.rules.map(({ file, source }) => ({ file, source }));
    const memoised = new Screener(new RuleSet(files), core.catalogue);
    const fresh = new Screener(new RuleSet(files), core.catalogue);
    const histories = new Map<string, HistoryClaim[]>();
    const historyRules = new Set(core.ruleSet.rules.filter((r) => r.kind.history).map((r) => r.file.id));
    let flags = 0;
    let historyFlags = 0;
    for (const claim of claims) {
      const history = histories.get(claim.patient.insuredId) ?? [];
      const options = { stage: 'in' as const, now, history };
      const withMemo = await memoised.screen(claim, options);
      const without = await fresh.screen(claim, { ...options, memo: false });
      expect(withMemo.flags, claim.claimId).toEqual(without.flags);
      expect(withMemo.decision, claim.claimId).toEqual(without.decision);
      flags += withMemo.flags.length;
      historyFlags += withMemo.flags.filter((f) => historyRules.has(f.ruleId)).length;
      histories.set(claim.patient.insuredId, [...history, toHistoryClaim(claim)]);
    }
    // The comparison means something only if the stream raised flags, history ones among them,
    // and the memo answered most evaluations.
    expect(flags).toBeGreaterThan(300);
    expect(historyFlags).toBeGreaterThan(30);
    const memoEntries = memoised.ruleSet.rules.reduce((s, r) => s + r.memo.size, 0);
    expect(memoEntries).toBeGreaterThan(0);
    expect(fresh.ruleSet.rules.every((r) => r.memo.size === 0)).toBe(true);
  });
});
