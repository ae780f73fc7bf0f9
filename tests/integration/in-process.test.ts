import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsAlertSender } from '../../functions/commons/alerts.ts';
import type { Claim } from '../../src/contracts/claim.ts';
import { Decision } from '../../src/contracts/decision.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { localClientConfig } from '../../src/local/emulators.ts';
import { type Poller, type SqsBatchHandler, startPoller } from '../../src/local/poller.ts';
import type { LocalResources } from '../../src/local/provisioning.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { ThrottlingError, UnprocessedWritesError } from '../../src/stores/batch.ts';
import { DynamoHistoryStore, DynamoOutcomeStore, documentClient } from '../../src/stores/dynamo.ts';
import {
  drainAlerts,
  scan as scanTable,
  startTestStack,
  storedFlag,
  type TestStack,
  waitFor,
} from '../helpers/local-stack.ts';

/**
 * The in-process stage end to end on the real local stand-ins: claims sent to SQS, the Lambda
 * handler behind the Lambda-like poller, outcomes read back from DynamoDB Local.
 */
const core = loadCore();
// 5 s, not less: on a loaded machine a batch can take seconds, and a timed-out batch is retried whole.
const QUEUE_SETTINGS = { claims: { visibilityTimeoutSeconds: 5, maxReceiveCount: 2 } };

let stack: TestStack;
let resources: LocalResources;
let poller: Poller;
let createInProcessHandler: typeof import('../../functions/in-process.ts').createInProcessHandler;

beforeAll(async () => {
  stack = await startTestStack();
  resources = await stack.provision('inproc', QUEUE_SETTINGS);
  stack.configureFunctions(resources);
  // The deployed entry point, configured from the environment as in Lambda.
  const fn = await import('../../functions/in-process.ts');
  createInProcessHandler = fn.createInProcessHandler;
  poller = await startPoller({
    sqs: stack.sqs,
    queueUrl: resources.queues.claims.url,
    handler: fn.handler,
    concurrency: 4,
  });
});

afterAll(async () => {
  await poller?.stop();
  await stack?.stop();
});

const scan = (table: string) => scanTable(stack.dynamodb, table);

const send = (queueUrl: string, bodies: string[]) => stack.sendClaims(queueUrl, bodies);

async function decided(claimIds: readonly string[], table = resources.tables.decisions): Promise<boolean> {
  const ids = new Set((await scan(table)).map((d) => d.claimId));
  return claimIds.every((id) => ids.has(id));
}

const flagsOf = async (claimIds: readonly string[], table = resources.tables.flags): Promise<Flag[]> => {
  const wanted = new Set(claimIds);
  return (await scan(table)).filter((f) => wanted.has(String(f.claimId))).map(storedFlag);
};

/** What an auditor compares: which rule flagged which lines of which claim, and what it said. */
const comparable = (flags: readonly Flag[]) =>
  flags
    .map((f) => ({
      flagId: f.flagId,
      ruleId: f.ruleId,
      lineNos: f.lineNos,
      message: f.message,
      action: f.action,
    }))
    .sort((a, b) => a.flagId.localeCompare(b.flagId));

describe('the in-process stage on the local stack', () => {
  it('yields exactly the flags the rules core yields on the same stream', async () => {
    const { claims, truth } = await generateClaims(
      { seed: 301, claims: 400, violationRate: 0.15, days: 20 },
      core,
    );
    const sequence = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore());
    const expected: Flag[] = [];
    for (const claim of claims) expected.push(...(await sequence.screen(claim)).flags);
    // Settlement sends a day's claims together; a patient's earlier claim is decided before the next day's.
    const byDay = new Map<string, Claim[]>();
    for (const claim of claims) {
      const day = claim.submittedAt.slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), claim]);
    }
    for (const day of [...byDay.keys()].sort()) {
      const wave = byDay.get(day) ?? [];
      await send(
        resources.queues.claims.url,
        wave.map((c) => JSON.stringify(c)),
      );
      await waitFor(() => decided(wave.map((c) => c.claimId)), `the claims of ${day}`);
    }
    const ids = claims.map((c) => c.claimId);
    const written = await flagsOf(ids);
    expect(comparable(written)).toEqual(comparable(expected));
    // The stream carried every kind of injected violation, history rules included.
    expect(new Set(written.map((f) => f.ruleId))).toEqual(new Set(truth.map((t) => t.ruleId)));
    const decisions = (await scan(resources.tables.decisions)).filter((d) => ids.includes(String(d.claimId)));
    expect(decisions).toHaveLength(claims.length);
    // Each stored decision is the Decision contract (its lines as JSON) plus what the table adds.
    for (const { claimId, outcome, lines, ruleSetVersion } of decisions)
      Decision.parse({ claimId, outcome, lines: JSON.parse(String(lines)), ruleSetVersion });
    const history = (await scan(resources.tables.claims)).filter((c) => ids.includes(String(c.claimId)));
    expect(history).toHaveLength(claims.length);
  }, 120_000);

  it('writes one decision and one set of flags for a claim sent twice, and alerts the hospital once', async () => {
    const { claims, truth } = await generateClaims({ seed: 302, claims: 30, violationRate: 0.3 }, core);
    const flagged = claims.find((c) => truth.some((t) => t.claimId === c.claimId)) as Claim;
    const body = JSON.stringify(flagged);
    await send(resources.queues.claims.url, [body, body]);
    await waitFor(() => decided([flagged.claimId]), 'the duplicated claim');
    const first = await flagsOf([flagged.claimId]);
    expect(first.length).toBeGreaterThan(0);
    // Sent again later: a resend after the first was decided.
    await send(resources.queues.claims.url, [body]);
    await waitFor(async () => {
      const { Attributes } = await stack.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: resources.queues.claims.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes?.ApproximateNumberOfMessages) +
          Number(Attributes?.ApproximateNumberOfMessagesNotVisible) ===
        0
      );
    }, 'the resend to be consumed');
    const decisions = (await scan(resources.tables.decisions)).filter((d) => d.claimId === flagged.claimId);
    expect(decisions).toHaveLength(1);
    const again = await flagsOf([flagged.claimId]);
    // Not rewritten: the same flags with their first createdAt.
    expect(again.map((f) => [f.flagId, f.createdAt]).sort()).toEqual(
      first.map((f) => [f.flagId, f.createdAt]).sort(),
    );
    const history = (await scan(resources.tables.claims)).filter((c) => c.claimId === flagged.claimId);
    expect(history).toHaveLength(1);
    const alerts = await drainAlerts(stack, resources.queues.alerts.url);
    expect(alerts.filter((a) => a.claimId === flagged.claimId)).toHaveLength(1);
  }, 60_000);

  it('dead-letters a poison message after maxReceiveCount while the rest of its batch is decided', async () => {
    const { claims } = await generateClaims({ seed: 303, claims: 9, violationRate: 0 }, core);
    const poison = JSON.stringify({
      ...claims[0],
      claimId: 'C-POISON',
      items: [{ lineNo: 1, quantity: 'two' }],
    });
    await send(resources.queues.claims.url, [
      ...claims.slice(0, 4).map((c) => JSON.stringify(c)),
      poison,
      ...claims.slice(4).map((c) => JSON.stringify(c)),
    ]);
    await waitFor(() => decided(claims.map((c) => c.claimId)), 'the valid claims of the batch');
    await waitFor(async () => {
      const { Messages = [] } = await stack.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: resources.queues.claims.dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          AttributeNames: ['All'],
        }),
      );
      return Messages.some((m) => m.Body === poison);
    }, 'the poison message in the DLQ');
    expect((await scan(resources.tables.decisions)).some((d) => d.claimId === 'C-POISON')).toBe(false);
  }, 60_000);

  it('raises a history rule across two claims sent apart (重复开药: supply not yet used up)', async () => {
    const { claims, truth } = await generateClaims(
      { seed: 304, claims: 60, violationRate: 0.5, ruleIds: ['GZ-REPEAT-PRESCRIPTION'] },
      core,
    );
    const violation = truth[0];
    const later = claims.find((c) => c.claimId === violation?.claimId) as Claim;
    const earlier = claims.find(
      (c) => c.patient.insuredId === later.patient.insuredId && c.claimId !== later.claimId,
    ) as Claim;
    await send(resources.queues.claims.url, [JSON.stringify(earlier)]);
    await waitFor(() => decided([earlier.claimId]), 'the earlier claim');
    expect(await flagsOf([earlier.claimId])).toEqual([]);
    await send(resources.queues.claims.url, [JSON.stringify(later)]);
    await waitFor(() => decided([later.claimId]), 'the later claim');
    const flags = await flagsOf([later.claimId]);
    expect(flags.map((f) => [f.ruleId, f.lineNos])).toEqual([['GZ-REPEAT-PRESCRIPTION', violation?.lineNos]]);
    expect(flags[0]?.message).toContain(`于${earlier.items[0]?.serviceDate}已开药`);
  }, 60_000);

  it('loses nothing and duplicates nothing when the handler dies after writing part of a batch', async () => {
    const crash = await stack.provision('crash', QUEUE_SETTINGS);
    const { documents } = stack;
    const store = new DynamoOutcomeStore(documents, {
      claims: crash.tables.claims,
      decisions: crash.tables.decisions,
      flags: crash.tables.flags,
    });
    // Writes decisions and flags, then fails on the history item: a death between the two writes.
    const dying = new DynamoOutcomeStore(documents, {
      claims: 'fundguard-crash-no-such-table',
      decisions: crash.tables.decisions,
      flags: crash.tables.flags,
    });
    let crashes = 0;
    const handler = createInProcessHandler({
      screener: core.screener,
      history: new DynamoHistoryStore(documents, crash.tables.claims),
      alerts: sqsAlertSender({
        sqs: stack.sqs,
        queueUrl: crash.queues.alerts.url,
        dynamo: stack.dynamodb,
        idempotencyTable: crash.tables.idempotency,
      }),
      outcomes: {
        // The first batch dies having written half its claims fully and the rest partly: no
        // response, so no message is deleted and all come back after the visibility timeout.
        recordAll: async (outcomes) => {
          if (crashes > 0) return store.recordAll(outcomes);
          crashes += 1;
          const half = Math.ceil(outcomes.length / 2);
          await store.recordAll(outcomes.slice(0, half));
          await dying.recordAll(outcomes.slice(half));
          throw new Error('killed mid-batch');
        },
      },
    });
    const crashPoller = await startPoller({
      sqs: stack.sqs,
      queueUrl: crash.queues.claims.url,
      handler: handler as SqsBatchHandler,
      concurrency: 1,
      logger: { warn: () => undefined },
    });
    try {
      const { claims, truth } = await generateClaims({ seed: 305, claims: 10, violationRate: 0.5 }, core);
      await send(
        crash.queues.claims.url,
        claims.map((c) => JSON.stringify(c)),
      );
      const ids = claims.map((c) => c.claimId);
      await waitFor(
        async () => crashPoller.counters.succeeded === claims.length,
        'every claim after redelivery',
      );
      expect(crashes).toBe(1);
      expect(crashPoller.counters.failed).toBe(claims.length);
      expect((await scan(crash.tables.decisions)).length).toBe(claims.length);
      expect((await scan(crash.tables.claims)).length).toBe(claims.length);
      const flags = await flagsOf(ids, crash.tables.flags);
      expect(new Set(flags.map((f) => f.flagId)).size).toBe(flags.length);
      expect(new Set(flags.map((f) => `${f.claimId}|${f.ruleId}`))).toEqual(
        new Set(truth.map((t) => `${t.claimId}|${t.ruleId}`)),
      );
    } finally {
      await crashPoller.stop();
    }
  }, 60_000);
});

describe('DynamoOutcomeStore when DynamoDB pushes back', () => {
  /** A client on the same DynamoDB Local whose batch writes `fault` answers instead, before the SDK's retries. */
  function faultyStore(fault: (input: { RequestItems?: unknown }) => unknown) {
    const client = new DynamoDBClient(localClientConfig(stack.services.endpoints.dynamodb));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        return { output: fault(args.input as { RequestItems?: unknown }), response: {} } as never;
      },
      { step: 'build', name: 'injectBatchWriteFault' },
    );
    return { client, store: new DynamoOutcomeStore(documentClient(client), resources.tables) };
  }

  async function outcomeOf(claimId: string) {
    const [claim] = (await generateClaims({ seed: 306, claims: 1, violationRate: 0 }, core)).claims;
    const settled = { ...(claim as Claim), claimId };
    const { flags, decision } = await core.screener.screen(settled, { stage: 'in' });
    return { claim: settled, decision, flags, decidedAt: new Date().toISOString() };
  }

  it('reports a claim DynamoDB keeps leaving unprocessed as UnprocessedWritesError, and writes it once it is taken', async () => {
    const outcome = await outcomeOf('C-UNPROCESSED');
    const { client, store } = faultyStore((input) => ({
      UnprocessedItems: input.RequestItems,
      $metadata: {},
    }));
    try {
      const { failed } = await store.recordAll([outcome]);
      expect(failed.get('C-UNPROCESSED')).toBeInstanceOf(UnprocessedWritesError);
    } finally {
      client.destroy();
    }
    expect((await scan(resources.tables.decisions)).some((d) => d.claimId === 'C-UNPROCESSED')).toBe(false);
    const healthy = new DynamoOutcomeStore(stack.documents, resources.tables);
    expect([...(await healthy.recordAll([outcome])).failed.keys()]).toEqual([]);
    expect((await scan(resources.tables.decisions)).some((d) => d.claimId === 'C-UNPROCESSED')).toBe(true);
  }, 30_000);

  it('reports a throttled batch write as ThrottlingError, with DynamoDB’s error as its cause', async () => {
    const outcome = await outcomeOf('C-THROTTLED');
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ThrottlingException',
    });
    const { client, store } = faultyStore(() => {
      throw throttled;
    });
    try {
      const error = (await store.recordAll([outcome])).failed.get('C-THROTTLED');
      expect(error).toBeInstanceOf(ThrottlingError);
      expect(error?.cause).toBe(throttled);
    } finally {
      client.destroy();
    }
  });
});
