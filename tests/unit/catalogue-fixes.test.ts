import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { addDays } from '../../src/dates.ts';
import { toHistoryClaim } from '../../src/history/store.ts';
import { deepMerge } from '../../src/rules/fixtures.ts';
import { claim, line as lineOf } from '../helpers/claims.ts';

// Each case is built from a knowledge point's own text in the committed catalogue (rules/catalogue),
// quoted beside it; the codes are the NHSA codes the point lists.
const core = loadCore();
let seq = 0;
const claimOf = (patch: Record<string, unknown>): Claim => {
  seq += 1;
  return claim(deepMerge({ claimId: `C-FIX-${seq}`, visit: { visitId: `V-FIX-${seq}` } }, patch));
};
const line = (lineNo: number, code: string, name: string, category: string, serviceDate = '2026-10-03') =>
  lineOf(lineNo, code, name, category, { unitPrice: 100, amount: 100, serviceDate });
const days = (from: string, n: number) => Array.from({ length: n }, (_, i) => addDays(from, i));
const now = new Date('2026-10-04T00:00:00Z');
const screen = async (claim: Claim, history: Claim[] = []): Promise<Flag[]> =>
  (await core.screener.screen(claim, { stage: 'in', now, history: history.map(toHistoryClaim) })).flags;
const byRule = (flags: Flag[], ruleId: string) => flags.filter((f) => f.ruleId === ruleId);

describe('exclusive pairs the source contradicts', () => {
  // KP-550f1580a2a06b4c 经皮冠状动脉腔内成形术(PTCA)×冠状动脉造影术: 含PTCA前的靶血管造影; the same source lists
  // 003205000020100 "若冠状动脉造影术后立即进行PTCA术，应视作二次手术分别计价".
  it('holds, not rejects, PTCA and coronary angiography on one day, as suspicious citing 003205000020100', async () => {
    const flags = await screen(
      claimOf({
        visit: { type: 'inpatient', admittedAt: '2026-10-02', dischargedAt: '2026-10-04' },
        items: [
          line(1, '003205000020000', '经皮冠状动脉腔内成形术(PTCA)', 'service'),
          line(2, '003205000010000', '冠状动脉造影术', 'service'),
        ],
      }),
    );
    const [flag, ...others] = byRule(flags, 'GZ-SERVICE-DUPLICATE');
    expect(others).toEqual([]);
    expect(flag).toMatchObject({ result: 'suspicious', action: 'hold', lineNos: [1, 2] });
    expect(flag?.basis.text).toBe('含PTCA前的靶血管造影');
    expect(flag?.basis.doubt).toContain('003205000020100');
  });

  it('still rejects a pair whose text contains what B charges: 急诊监护费 含…诊查 and 急诊诊查费', async () => {
    const flags = await screen(
      claimOf({
        visit: { type: 'emergency' },
        items: [
          line(1, '001103000010000', '急诊监护费', 'service'),
          line(2, '001102000030000', '急诊诊查费', 'service'),
        ],
      }),
    );
    expect(byRule(flags, 'GZ-SERVICE-DUPLICATE')).toMatchObject([{ result: 'violation', action: 'reject' }]);
    expect(byRule(flags, 'GZ-SERVICE-DUPLICATE')[0]?.basis.doubt).toBeUndefined();
  });
});

describe('sex rules and patients of indeterminate sex', () => {
  // KP-03e96cd241d2f1ae: 性别不清、两性畸形、染色体异常、性发育异常人群不纳入此规则范畴。
  it('does not flag a female-only examination for a patient registered male with androgen insensitivity (E34.5)', async () => {
    const items = [line(1, '002101030300000', '子宫造影', 'service')];
    const male = { sex: 'M' };
    expect(byRule(await screen(claimOf({ patient: male, items })), 'GZ-SERVICE-SEX')).toHaveLength(1);
    const flags = await screen(
      claimOf({ patient: male, diagnoses: [{ code: 'E34.500', primary: true }], items }),
    );
    expect(byRule(flags, 'GZ-SERVICE-SEX')).toEqual([]);
  });

  it('does not flag a male-only drug for a patient registered female with Turner syndrome (Q96) as a secondary diagnosis', async () => {
    const flags = await screen(
      claimOf({
        diagnoses: [
          { code: 'C61.x00', primary: true },
          { code: 'Q96.900', primary: false },
        ],
        items: [line(1, 'XL02BBA326A001010102180', '阿帕他胺片', 'drug')],
      }),
    );
    expect(byRule(flags, 'GZ-DRUG-SEX')).toEqual([]);
  });

  it('grades 妇炎康丸 for a man suspicious: its text lists 膀胱炎、慢性阑尾炎、尿路感染', async () => {
    const flags = await screen(
      claimOf({ patient: { sex: 'M' }, items: [line(1, 'ZD02AAF0251010103466', '妇炎康丸', 'drug')] }),
    );
    const [flag] = byRule(flags, 'GZ-DRUG-SEX');
    expect(flag).toMatchObject({ result: 'suspicious', action: 'hold' });
    expect(flag?.basis.doubt).toContain('尿路感染');
  });
});

describe("children's drugs", () => {
  // KP 小儿乳酸菌素片: 用于肠内异常发酵、消化不良、肠炎和小儿腹泻。（药品说明书包含成人用法用量）
  it('does not reject 小儿乳酸菌素片 for an adult: the label includes adult dosing, so the flag is suspicious', async () => {
    const flags = await screen(
      claimOf({ items: [line(1, 'XA07FAX121A001010102966', '小儿乳酸菌素片', 'drug')] }),
    );
    expect(byRule(flags, 'GZ-DRUG-CHILD-ONLY')).toMatchObject([{ result: 'suspicious', action: 'hold' }]);
  });

  // KP 小儿多种维生素注射液(13): 适用于接受肠外营养的11周岁以下患者维生素缺乏的预防。
  it('checks 小儿多种维生素注射液(13) at 11周岁以下: a 12-year-old is flagged, a 10-year-old is not', async () => {
    const items = [line(1, 'XB05BAX241B002010103889', '小儿多种维生素注射液(13)', 'drug')];
    const inpatient = { type: 'inpatient', admittedAt: '2026-10-02', dischargedAt: '2026-10-04' };
    const twelve = await screen(claimOf({ patient: { birthDate: '2014-06-01' }, visit: inpatient, items }));
    expect(byRule(twelve, 'GZ-DRUG-CHILD-ONLY')).toMatchObject([{ result: 'violation' }]);
    const ten = await screen(claimOf({ patient: { birthDate: '2016-06-01' }, visit: inpatient, items }));
    expect(byRule(ten, 'GZ-DRUG-CHILD-ONLY')).toEqual([]);
  });
});

describe('course limits in the scope and unit the text states', () => {
  const stay = (from: string, n: number, code: string, name: string) =>
    claimOf({
      visit: { type: 'inpatient', admittedAt: from, dischargedAt: addDays(from, n - 1) },
      items: days(from, n).map((d, i) => line(i + 1, code, name, 'drug', d)),
    });

  // KP 银杏内酯注射液: 限二级及以上医疗机构脑梗死恢复期患者，住院方可支付，单次最多支付14天。
  it('does not count an earlier stay against 单次最多支付14天: 10 days then 10 days in a new stay', async () => {
    const earlier = stay('2026-09-01', 10, 'ZA12HAY0759010106725', '银杏内酯注射液');
    const flags = await screen(stay('2026-09-21', 10, 'ZA12HAY0759010106725', '银杏内酯注射液'), [earlier]);
    expect(byRule(flags, 'GZ-DRUG-COURSE-HISTORY')).toEqual([]);
    expect(byRule(flags, 'GZ-DRUG-COURSE')).toEqual([]);
  });

  it('still limits one stay to 14 days under 单次最多支付14天', async () => {
    const flags = await screen(stay('2026-09-15', 16, 'ZA12HAY0759010106725', '银杏内酯注射液'));
    expect(byRule(flags, 'GZ-DRUG-COURSE')).toMatchObject([{ lineNos: [15, 16] }]);
  });

  // KP 奥扎格雷钠注射液: 限新发的急性血栓性脑梗死，支付不超过14天。— no 单次, so days count across stays.
  it('counts both stays against 支付不超过14天', async () => {
    const earlier = stay('2026-09-01', 10, 'XB01AXA223B002010100156', '奥扎格雷钠注射液');
    const flags = await screen(stay('2026-09-21', 10, 'XB01AXA223B002010100156', '奥扎格雷钠注射液'), [
      earlier,
    ]);
    expect(byRule(flags, 'GZ-DRUG-COURSE-HISTORY')).toHaveLength(1);
  });

  // KP 帕妥珠单抗注射液: …且支付不超过12个月 (detect logic: 第一次使用药品的日期开始计算的连续时间跨度超过限制天数).
  it('flags 帕妥珠单抗 billed 13 months after the first dose, though only 2 days were ever billed', async () => {
    const drug = (d: string) => [line(1, 'XL01FDP138B002010181735', '帕妥珠单抗注射液', 'drug', d)];
    const first = claimOf({ items: drug('2025-09-01') });
    const flags = await screen(claimOf({ items: drug('2026-10-03') }), [first]);
    expect(byRule(flags, 'GZ-DRUG-COURSE-SPAN')).toMatchObject([{ lineNos: [1], result: 'violation' }]);
    const within = await screen(claimOf({ items: drug('2026-10-03') }), [
      claimOf({ items: drug('2025-11-05') }),
    ]);
    expect(byRule(within, 'GZ-DRUG-COURSE-SPAN')).toEqual([]);
  });

  // KP 儿童听力障碍语言训练: 每周最多支付一次。（人社部发〔2016〕23号）
  const training = (d: string) =>
    claimOf({
      patient: { birthDate: '2020-03-01' },
      items: [line(1, '003402000350000', '儿童听力障碍语言训练', 'service', d)],
    });

  it('does not flag a Friday session and the next Monday session: two calendar weeks, however few days apart', async () => {
    const flags = await screen(training('2026-09-28'), [training('2026-09-25')]);
    expect(byRule(flags, 'NHSA-SERVICE-CYCLE')).toEqual([]);
    expect(byRule(flags, 'NHSA-SERVICE-CYCLE-WEEK')).toEqual([]);
  });

  it('flags a second session in the same Monday-to-Sunday week', async () => {
    const flags = await screen(training('2026-10-02'), [training('2026-09-28')]);
    expect(byRule(flags, 'NHSA-SERVICE-CYCLE-WEEK')).toMatchObject([{ lineNos: [1] }]);
  });
});

describe('internet and maternity semantics', () => {
  // KP 芬太尼透皮贴剂: 医疗机构开展互联网诊疗活动时，不得开具麻醉药品、精神药品等特殊管理药品的处方。
  it('does not flag fentanyl in an outpatient visit at a hospital that also runs an internet service', async () => {
    const items = [line(1, 'XN02ABF027V002010101389', '芬太尼透皮贴剂', 'drug')];
    expect(
      byRule(await screen(claimOf({ hospital: { internet: true }, items })), 'NHSA-INTERNET-DRUG'),
    ).toEqual([]);
    const internet = await screen(
      claimOf({ hospital: { internet: true }, visit: { type: 'internet' }, items }),
    );
    expect(byRule(internet, 'NHSA-INTERNET-DRUG')).toHaveLength(1);
  });

  // KP 地诺前列酮栓: 限生育保险.
  it('does not flag 地诺前列酮栓 on a childbirth claim of an employee-insured patient, where employee insurance covers maternity', async () => {
    const items = [line(1, 'XG02ADD082D003010179504', '地诺前列酮栓', 'drug')];
    const childbirth = await screen(claimOf({ diagnoses: [{ code: 'O80.000', primary: true }], items }));
    expect(byRule(childbirth, 'GZ-DRUG-MATERNITY')).toEqual([]);
    expect(byRule(await screen(claimOf({ items })), 'GZ-DRUG-MATERNITY')).toHaveLength(1);
  });
});

describe('what the claim-only rules put at risk', () => {
  const metformin = line(1, 'XA10BAE054A001010101234', '二甲双胍片', 'drug');

  it('puts the totals beyond the lines at risk, naming no line, when a claim bills 130 on lines of 100', async () => {
    const flags = await screen(
      claimOf({ items: [metformin], totals: { amount: 130, fundPaid: 104, selfPaid: 26 } }),
    );
    expect(byRule(flags, 'NHSA-SETTLEMENT-TOTALS')).toMatchObject([{ lineNos: [], amountAtRisk: 30 }]);
  });

  it('names the six drugs of an oversized prescription but puts no amount at risk: which kinds are too many is not known', async () => {
    const codes = ['XA10BAE054A001010101234', 'XC10AAA071A001010100001', 'XC09AAB070A001010100001'];
    const drugs = [...codes, 'XA02BCA211E001010100001', 'XN02BEA030A001010100001', 'XR06AEA045A001010100001'];
    const flags = await screen(
      claimOf({ items: drugs.map((code, i) => line(i + 1, code, `药品${i + 1}`, 'drug')) }),
    );
    expect(byRule(flags, 'NHSA-DRUG-KINDS')).toMatchObject([
      { lineNos: [1, 2, 3, 4, 5, 6], amountAtRisk: 0, result: 'suspicious', action: 'hold' },
    ]);
  });
});
