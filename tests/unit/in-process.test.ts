import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { processClaims } from '../../src/pipeline/in-process.ts';
import type { Screener } from '../../src/rules/screen.ts';
import { claim, metformin, uterography } from '../helpers/claims.ts';
import { memoryPorts } from '../helpers/ports.ts';

const core = loadCore();
const now = () => new Date('2026-10-04T08:00:00Z');

/** A male patient billed a female-only service: GZ-SERVICE-SEX rejects line 2. */
const flagged = (claimId: string, insuredId = `P-${claimId}`): Claim =>
  claim({ claimId, patient: { insuredId, sex: 'M' }, items: [metformin(), uterography(2)] });
/** The base claim: nothing to say. */
const clean = (claimId: string, insuredId = `P-${claimId}`): Claim =>
  claim({ claimId, patient: { insuredId } });

function stage() {
  const ports = memoryPorts();
  return { ...ports, deps: { screener: core.screener, now, ...ports } };
}

/** The core's screener, failing on one claim as a bug in a rule would. */
function failingOn(claimId: string): Screener {
  const screen: Screener['screen'] = async (c, options) => {
    if (c.claimId === claimId) throw new TypeError(`rule crashed on ${claimId}`);
    return core.screener.screen(c, options);
  };
  // A proxy, not a copy: the screener's private fields only answer to the screener itself.
  return new Proxy(core.screener, {
    get: (target, property) => (property === 'screen' ? screen : Reflect.get(target, property, target)),
  });
}

const ids = (list: readonly { claimId: string }[]) => list.map((c) => c.claimId).sort();

describe('processClaims', () => {
  it('decides every claim of a batch, writes each once and alerts the hospital of each flagged one', async () => {
    const { deps, outcomes, alerts } = stage();
    const { processed, failed } = await processClaims([flagged('C-1'), clean('C-2')], deps);
    expect(failed).toEqual([]);
    expect(ids(processed)).toEqual(['C-1', 'C-2']);
    expect(processed.map((p) => [p.claimId, p.result, p.decision.outcome]).sort()).toEqual([
      ['C-1', 'written', 'reject'],
      ['C-2', 'written', 'pass'],
    ]);
    expect(ids(outcomes.written.map((o) => o.claim))).toEqual(['C-1', 'C-2']);
    expect([...alerts.sent.keys()]).toEqual(['C-1']);
    expect(alerts.sent.get('C-1')).toMatchObject({
      outcome: 'reject',
      highestSeverity: 'high',
      flags: [{ ruleId: 'GZ-SERVICE-SEX', lineNos: [2] }],
    });
  });

  it('fails every claim of the batch with the reason when the history read fails, writing and alerting nothing', async () => {
    const { deps, history, outcomes, alerts } = stage();
    history.failure = new Error('history table unreachable');
    const { processed, failed } = await processClaims([flagged('C-1'), clean('C-2')], deps);
    expect(processed).toEqual([]);
    expect(failed.map((f) => [f.claimId, f.error.message]).sort()).toEqual([
      ['C-1', 'history table unreachable'],
      ['C-2', 'history table unreachable'],
    ]);
    expect(outcomes.written).toEqual([]);
    expect(alerts.sent.size).toBe(0);
  });

  it('fails only the claim whose screening throws; the rest of the batch is decided and written', async () => {
    const { deps, outcomes } = stage();
    const { processed, failed } = await processClaims([flagged('C-1'), clean('C-2')], {
      ...deps,
      screener: failingOn('C-2'),
    });
    expect(ids(processed)).toEqual(['C-1']);
    expect(failed).toMatchObject([{ claimId: 'C-2', error: { name: 'TypeError' } }]);
    expect(ids(outcomes.written.map((o) => o.claim))).toEqual(['C-1']);
  });

  it('fails only the claim whose screening outlives its time budget, with that reason, instead of timing the batch out', async () => {
    const { deps, outcomes } = stage();
    // The real screener; C-2 alone is given no time, as a pathological claim would use it all up.
    const screen: Screener['screen'] = (claim, options) =>
      core.screener.screen(claim, claim.claimId === 'C-2' ? { ...options, budgetMs: 0 } : options);
    const screener = new Proxy(core.screener, {
      get: (target, property) => (property === 'screen' ? screen : Reflect.get(target, property, target)),
    });
    const { processed, failed } = await processClaims([flagged('C-1'), clean('C-2')], { ...deps, screener });
    expect(ids(processed)).toEqual(['C-1']);
    expect(failed).toMatchObject([
      {
        claimId: 'C-2',
        error: {
          name: 'ScreenBudgetError',
          message: expect.stringMatching(/did not finish within its 0 ms budget/),
        },
      },
    ]);
    expect(ids(outcomes.written.map((o) => o.claim))).toEqual(['C-1']);
  });

  it('fails every screened claim when the recorder throws, and alerts nobody', async () => {
    const { deps, outcomes, alerts } = stage();
    outcomes.failure = new Error('throttled');
    const { processed, failed } = await processClaims([flagged('C-1'), clean('C-2')], deps);
    expect(processed).toEqual([]);
    expect(failed.map((f) => [f.claimId, f.error.message]).sort()).toEqual([
      ['C-1', 'throttled'],
      ['C-2', 'throttled'],
    ]);
    expect(alerts.sent.size).toBe(0);
  });

  it('fails only a claim the recorder could not write, without alerting its hospital', async () => {
    const { deps, outcomes, alerts } = stage();
    outcomes.refuse.set('C-1', new Error('unprocessed after retries'));
    const { processed, failed } = await processClaims([flagged('C-1'), flagged('C-3'), clean('C-2')], deps);
    expect(ids(processed)).toEqual(['C-2', 'C-3']);
    expect(failed.map((f) => [f.claimId, f.error.message])).toEqual([['C-1', 'unprocessed after retries']]);
    expect([...alerts.sent.keys()]).toEqual(['C-3']);
  });

  it('fails a claim whose alert could not be sent, and alerts it on the retry without writing it again', async () => {
    const { deps, outcomes, alerts } = stage();
    alerts.refuse.add('C-1');
    const first = await processClaims([flagged('C-1')], deps);
    expect(first.processed).toEqual([]);
    expect(first.failed.map((f) => f.claimId)).toEqual(['C-1']);
    expect(outcomes.written).toHaveLength(1);

    alerts.refuse.clear();
    const retry = await processClaims([flagged('C-1')], deps);
    expect(retry.failed).toEqual([]);
    expect(retry.processed.map((p) => [p.claimId, p.result])).toEqual([['C-1', 'duplicate']]);
    expect(outcomes.written).toHaveLength(1);
    expect([...alerts.sent.keys()]).toEqual(['C-1']);
  });

  it('decides a claim sent twice in one batch once', async () => {
    const { deps, outcomes } = stage();
    const { processed } = await processClaims([flagged('C-1'), flagged('C-1')], deps);
    expect(ids(processed)).toEqual(['C-1']);
    expect(outcomes.written).toHaveLength(1);
  });
});
