import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { scan, scanFlags, useInProcessStack, waitFor } from '../helpers/local-stack.ts';

/**
 * Per-patient ordering on the local stack: the claims queue is FIFO by patient and the poller
 * plays Lambda's FIFO event source, so claims of one patient sent at once are decided one after
 * another, each seeing the one before — exactly what `fundguard screen` (SequentialScreening)
 * yields for the same stream.
 */
const core = loadCore();

// As many receivers as the demo runs: enough for two batches of one patient to race, were they allowed to.
const env = useInProcessStack('ordering', 5);

/** Every claim of the first `n` distinct patients of `insuredIds`, in stream order. */
function ofPatients(claims: readonly Claim[], insuredIds: readonly string[], n: number): Claim[] {
  const chosen = new Set([...new Set(insuredIds.filter(Boolean))].slice(0, n));
  return claims.filter((c) => chosen.has(c.patient.insuredId));
}

const comparable = (flags: readonly Flag[]) =>
  flags
    .map((f) => ({ flagId: f.flagId, ruleId: f.ruleId, lineNos: f.lineNos, message: f.message }))
    .sort((a, b) => a.flagId.localeCompare(b.flagId));

describe('claims of one patient are decided one after another', () => {
  it('gives exactly the flags of fundguard screen when many claims of few patients are sent at once', async () => {
    // Rules that read the patient's history are the ones concurrent decisions got wrong.
    const historyRules = core.screener.ruleSet.rules
      .filter((r) => r.file.scope === 'history')
      .map((r) => r.file.id);
    const { claims: stream, truth } = await generateClaims(
      { seed: 1103, claims: 2_000, violationRate: 0.3, days: 60, ruleIds: historyRules },
      core,
    );
    const claims = ofPatients(
      stream,
      truth.map((t) => stream.find((c) => c.claimId === t.claimId)?.patient.insuredId ?? ''),
      40,
    );
    expect(claims.length).toBeGreaterThan(100);

    const sequence = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore());
    const expected: Flag[] = [];
    for (const claim of claims) expected.push(...(await sequence.screen(claim)).flags);
    expect(new Set(expected.map((f) => f.ruleId)).size).toBeGreaterThan(2);
    expect(expected.length).toBeGreaterThan(20);

    // All at once, ten to a call, no waves: nothing waits for a decision.
    await env.stack.sendClaims(
      env.resources.queues.claims.url,
      claims.map((c) => JSON.stringify(c)),
    );

    await waitFor(
      async () => (await scan(env.stack.dynamodb, env.resources.tables.decisions)).length === claims.length,
      'every claim decided',
      120_000,
    );
    const written = await scanFlags(env.stack.dynamodb, env.resources.tables.flags);
    expect(comparable(written)).toEqual(comparable(expected));
    expect(env.poller.counters.failed).toBe(0);
  }, 240_000);
});
