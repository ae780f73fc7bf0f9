import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { ClaimIdTakenError, DynamoOutcomeStore } from '../../src/stores/dynamo.ts';
import { claim as baseClaim, line, metformin, uterography } from '../helpers/claims.ts';
import {
  drainAlerts,
  scan as scanTable,
  storedFlag,
  useInProcessStack,
  waitFor,
} from '../helpers/local-stack.ts';

/**
 * Batch isolation and claim identity on the real local stand-ins: claims sent to SQS, the deployed
 * handler behind the Lambda-like poller, outcomes read back from DynamoDB Local.
 */
const core = loadCore();

// 5 s, not less: on a loaded machine a batch can take seconds, and a timed-out batch is retried whole.
const env = useInProcessStack('identity', 2, { claims: { visibilityTimeoutSeconds: 5, maxReceiveCount: 2 } });

const scan = (table: string) => scanTable(env.stack.dynamodb, table);

const send = (bodies: string[]) => env.stack.sendClaims(env.resources.queues.claims.url, bodies);

const decisionsOf = async (claimId: string) =>
  (await scan(env.resources.tables.decisions)).filter((d) => d.claimId === claimId);
const historyOf = async (claimId: string) =>
  (await scan(env.resources.tables.claims)).filter((c) => c.claimId === claimId);
const flagsOf = async (claimId: string) =>
  (await scan(env.resources.tables.flags)).filter((f) => f.claimId === claimId).map(storedFlag);

/** The distinct bodies in the claims DLQ (a receive with no visibility timeout may return one twice). */
async function deadLetters(): Promise<string[]> {
  const { Messages = [] } = await env.stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: env.resources.queues.claims.dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      AttributeNames: ['All'],
    }),
  );
  return [...new Set(Messages.map((m) => m.Body ?? ''))];
}

describe('a claim that cannot be stored fails alone', () => {
  it('dead-letters a 2,100-character claim id and a claim over 256 KiB; their nine neighbours are decided once, with history', async () => {
    const { claims } = await generateClaims({ seed: 1101, claims: 8, violationRate: 0 }, core);
    const longId = JSON.stringify({ ...claims[0], claimId: `C-${'x'.repeat(2_100)}` });
    // Line names padded so the claim is 300 KB: each line valid, the whole past the contract's size.
    const oversize = JSON.stringify({
      ...claims[1],
      claimId: 'C-OVERSIZE',
      items: (claims[1] as Claim).items.map((item) => ({
        ...item,
        name: `${item.name}${'药'.repeat(100_000)}`,
      })),
    });
    await send([longId, ...claims.slice(0, 4).map((c) => JSON.stringify(c)), oversize]);
    await send(claims.slice(4).map((c) => JSON.stringify(c)));
    const ids = claims.map((c) => c.claimId);
    await waitFor(
      async () => (await deadLetters()).length === 2,
      'both unstorable claims in the DLQ',
      60_000,
    );
    // Compared by identity, not printed: the bodies are hundreds of kilobytes.
    const dead = await deadLetters();
    expect(dead.length === 2 && dead.includes(longId) && dead.includes(oversize)).toBe(true);
    const decisions = (await scan(env.resources.tables.decisions)).map((d) => String(d.claimId));
    expect(decisions.sort()).toEqual([...ids].sort());
    const history = (await scan(env.resources.tables.claims)).map((c) => String(c.claimId));
    expect(history.sort()).toEqual([...ids].sort());
    // Neighbours succeeded the first time: nothing of theirs was retried.
    expect(env.poller.counters.succeeded).toBe(ids.length);
  }, 120_000);

  it('attributes a write DynamoDB refuses to its own claim: the other claims of the batch are written in full', async () => {
    const store = new DynamoOutcomeStore(env.stack.documents, env.resources.tables);
    const { claims } = await generateClaims({ seed: 1102, claims: 9, violationRate: 0.3 }, core);
    // Past the schema (as from a caller that skipped it): DynamoDB itself refuses its sort key.
    const unstorable = { ...(claims[0] as Claim), claimId: `C-${'y'.repeat(1_100)}` };
    const batch = [unstorable, ...claims.slice(1)];
    const outcomes = [];
    for (const c of batch) {
      const { flags, decision } = await core.screener.screen(c, { stage: 'in' });
      outcomes.push({ claim: c, decision, flags, decidedAt: new Date().toISOString() });
    }
    const { results, failed } = await store.recordAll(outcomes);
    expect([...failed.keys()]).toEqual([unstorable.claimId]);
    expect(failed.get(unstorable.claimId)?.message).toMatch(/key/i);
    expect([...results.keys()].sort()).toEqual(
      claims
        .slice(1)
        .map((c) => c.claimId)
        .sort(),
    );
    for (const c of claims.slice(1)) {
      expect(await decisionsOf(c.claimId)).toHaveLength(1);
      expect(await historyOf(c.claimId)).toHaveLength(1);
    }
    // Nothing of the refused claim stays: its decision (the commit marker) was never put.
    expect((await scan(env.resources.tables.decisions)).some((d) => d.claimId === unstorable.claimId)).toBe(
      false,
    );
  }, 60_000);
});

describe('claim identity: the claim id within its hospital', () => {
  /** A claim of H3001 raising the sex rule on line 2 (uterography for a male patient). */
  const flaggedClaim = (claimId: string) =>
    baseClaim({
      claimId,
      patient: { insuredId: `P-${claimId}`, sex: 'M' },
      items: [metformin(), uterography(2)],
      totals: { amount: 31, fundPaid: 24.8, selfPaid: 6.2 },
    });

  it('refuses the same claim id from another hospital to the DLQ and never touches the first claim', async () => {
    const first = flaggedClaim('C-SHARED-ID');
    await send([JSON.stringify(first)]);
    await waitFor(async () => (await decisionsOf(first.claimId)).length === 1, 'the first claim');
    const before = { decisions: await decisionsOf(first.claimId), flags: await flagsOf(first.claimId) };
    const intruder = baseClaim({
      claimId: 'C-SHARED-ID',
      patient: { insuredId: 'P-OTHER', sex: 'F' },
      hospital: { hospitalId: 'H9999' },
      items: [metformin({ quantity: 600, amount: 210 })],
      totals: { amount: 210, fundPaid: 168, selfPaid: 42 },
    });
    const body = JSON.stringify(intruder);
    await send([body]);
    await waitFor(async () => (await deadLetters()).includes(body), 'the intruding claim in the DLQ', 60_000);
    expect(await decisionsOf(first.claimId)).toEqual(before.decisions);
    expect(await flagsOf(first.claimId)).toEqual(before.flags);
    expect((await historyOf(first.claimId)).map((h) => h.insuredId)).toEqual([first.patient.insuredId]);
    expect((await scan(env.resources.tables.flags)).some((f) => f.hospitalId === 'H9999')).toBe(false);
  }, 120_000);

  it('refuses at the store with ClaimIdTakenError and writes nothing for the other hospital', async () => {
    const store = new DynamoOutcomeStore(env.stack.documents, env.resources.tables);
    const owner = flaggedClaim('C-TAKEN');
    const other = { ...flaggedClaim('C-TAKEN'), hospital: { ...owner.hospital, hospitalId: 'H8888' } };
    const outcome = async (c: Claim) => ({
      claim: c,
      ...(await core.screener.screen(c, { stage: 'in' })),
      decidedAt: new Date().toISOString(),
    });
    expect((await store.recordAll([await outcome(owner)])).results.get('C-TAKEN')?.result).toBe('written');
    const { failed } = await store.recordAll([await outcome(other)]);
    expect(failed.get('C-TAKEN')).toBeInstanceOf(ClaimIdTakenError);
    expect((await flagsOf('C-TAKEN')).map((f) => f.hospitalId)).toEqual([owner.hospital.hospitalId]);
  });

  it('decides a correction again: the earlier decision and flags kept and marked superseded, history replaced, the hospital alerted', async () => {
    await drainAlerts(env.stack, env.resources.queues.alerts.url);
    const original = flaggedClaim('C-CORRECTED');
    await send([JSON.stringify(original)]);
    await waitFor(async () => (await decisionsOf(original.claimId)).length === 1, 'the original');
    const [v1Flag] = await flagsOf(original.claimId);
    expect(v1Flag?.ruleId).toBe('GZ-SERVICE-SEX');

    // The hospital corrects the sex line away and bills a second metformin pack on another day.
    const corrected = baseClaim({
      ...original,
      items: [
        metformin(),
        line(3, '250102035000000', '血清葡萄糖测定', 'service', { serviceDate: '2026-10-03' }),
      ],
      totals: { amount: 31, fundPaid: 24.8, selfPaid: 6.2 },
    });
    await send([JSON.stringify(corrected)]);
    await waitFor(
      async () => (await decisionsOf(original.claimId)).some((d) => d.version === 2),
      'the corrected decision',
    );
    const [decision] = await decisionsOf(original.claimId);
    expect(decision?.outcome).toBe('pass');
    const superseded = JSON.parse(String(decision?.superseded));
    expect(superseded).toEqual([
      expect.objectContaining({ version: 1, outcome: 'reject', flagIds: [v1Flag?.flagId] }),
    ]);
    const flags = await flagsOf(original.claimId);
    expect(flags).toEqual([{ ...v1Flag, supersededBy: 2 }]);
    const history = await historyOf(original.claimId);
    expect(history).toHaveLength(1);
    expect(JSON.parse(String(history[0]?.history)).items.map((i: { lineNo: number }) => i.lineNo)).toEqual([
      1, 3,
    ]);
    const alerts = (await drainAlerts(env.stack, env.resources.queues.alerts.url)).filter(
      (a) => a.claimId === original.claimId,
    );
    expect(alerts.map((a) => [a.alertId, a.outcome, a.correction])).toEqual([
      ['C-CORRECTED', 'reject', undefined],
      [
        'C-CORRECTED@v2',
        'pass',
        { version: 2, previousOutcome: 'reject', supersededFlagIds: [v1Flag?.flagId] },
      ],
    ]);

    // The correction sent again is a duplicate of version 2: nothing rewritten.
    const again = {
      decisions: await decisionsOf(original.claimId),
      history: await historyOf(original.claimId),
    };
    const succeeded = env.poller.counters.succeeded;
    await send([JSON.stringify(corrected)]);
    await waitFor(() => env.poller.counters.succeeded > succeeded, 'the resend decided');
    expect(await decisionsOf(original.claimId)).toEqual(again.decisions);
    expect(await historyOf(original.claimId)).toEqual(again.history);
  }, 60_000);
});
