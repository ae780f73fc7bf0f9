import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/core.ts';
import { claim, line } from '../helpers/claims.ts';

const core = loadCore();
const now = new Date('2026-10-07T00:00:00Z');
const stay = {
  type: 'inpatient',
  admittedAt: '2026-10-02',
  dischargedAt: '2026-10-06',
  department: 'surgery',
};
const surgery = (lineNo: number, code: string, name: string, unitPrice: number, quantity = 1) =>
  line(lineNo, code, name, 'service', { unitPrice, quantity, amount: unitPrice * quantity });

async function surgeryFlags(items: Record<string, unknown>[]) {
  const { flags, decision } = await core.screener.screen(claim({ visit: stay, items }), { stage: 'in', now });
  return { flags: flags.filter((f) => f.ruleId === 'NHSA-SURGERY-DISCOUNT'), decision };
}

describe('手术项目未按规定折价收费 (经同一切口进行的两种及以上不同的手术，第二及以后的手术未按规定折价计收)', () => {
  it('every one of the 378 knowledge points is read as its surgery group, none kept as text', () => {
    const points = core.catalogue.knowledgePoints.filter((kp) => kp.ruleClass === '手术项目未按规定折价收费');
    expect(points).toHaveLength(378);
    for (const kp of points) expect(kp.restriction).toEqual({ kind: 'surgeryGroup', group: kp.text });
    expect(new Set(points.map((kp) => kp.text)).size).toBe(7);
  });

  it('holds the cheaper of two 胃肠手术组 surgeries billed at full price on one day, citing its point', async () => {
    const { flags, decision } = await surgeryFlags([
      surgery(1, '003310010140000', '食管癌根治+结肠代食管术', 3000),
      surgery(2, '003310010180000', '食管再造术', 2000),
    ]);
    expect(flags.map((f) => [f.lineNos, f.result, f.action, f.amountAtRisk])).toEqual([
      [[2], 'suspicious', 'hold', 2000],
    ]);
    expect(flags[0]?.basis).toMatchObject({ knowledgePoint: 'KP-3c351218a5965965', text: '胃肠手术组' });
    expect(flags[0]?.message).toBe(
      '2026-10-03同一胃肠手术组的2种手术（食管癌根治+结肠代食管术、食管再造术），第二及以后的手术按全价收费，未见折价',
    );
    expect(decision.lines.map((l) => l.action)).toEqual(['pass', 'hold']);
  });

  it('finds nothing when the second surgery is billed as half of one, its discount shown', async () => {
    const { flags } = await surgeryFlags([
      surgery(1, '003310010140000', '食管癌根治+结肠代食管术', 3000),
      surgery(2, '003310010180000', '食管再造术', 2000, 0.5),
    ]);
    expect(flags).toEqual([]);
  });

  it('counts two variants of one surgery (食管再造术, 食管再造术(胃)) as one surgery', async () => {
    const { flags } = await surgeryFlags([
      surgery(1, '003310010180000', '食管再造术', 2000),
      surgery(2, '003310010180100', '食管再造术(胃)', 2000),
    ]);
    expect(flags).toEqual([]);
  });
});
