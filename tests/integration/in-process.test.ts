import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsAlertSender } from '../../functions/commons/alerts.ts';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { applyEnvironment, lambdaEnvironment } from '../../src/local/lambda-env.ts';
import { type Poller, type SqsBatchHandler, startPoller } from '../../src/local/poller.ts';
import {
  createResources,
  type LocalResources,
  type LocalServices,
  localClientConfig,
  startLocalServices,
} from '../../src/local/services.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { DynamoHistoryStore, DynamoOutcomeStore } from '../../src/stores/dynamo.ts';

/**
 * The in-process stage end to end on the real local stand-ins: claims sent to SQS, the Lambda
 * handler behind the Lambda-like poller, outcomes read back from DynamoDB Local.
 */
const core = loadCore();
const QUEUE_SETTINGS = { claims: { visibilityTimeoutSeconds: 2, maxReceiveCount: 2 } };

let services: LocalServices;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;
let resources: LocalResources;
let poller: Poller;
let createInProcessHandler: typeof import('../../functions/in-process.ts').createInProcessHandler;

beforeAll(async () => {
  services = await startLocalServices();
  sqs = new SQSClient(localClientConfig(services.endpoints.sqs));
  dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  resources = await createResources(services.endpoints, 'inproc', { sqs, dynamodb, queues: QUEUE_SETTINGS });
  applyEnvironment({
    ...lambdaEnvironment(services.endpoints, resources),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  // The deployed entry point, configured from the environment as in Lambda.
  const fn = await import('../../functions/in-process.ts');
  createInProcessHandler = fn.createInProcessHandler;
  poller = await startPoller({
    sqs,
    queueUrl: resources.queues.claims.url,
    handler: fn.handler,
    concurrency: 4,
  });
});

afterAll(async () => {
  await poller?.stop();
  sqs?.destroy();
  dynamodb?.destroy();
  await services?.stop();
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return items;
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, k) => ({ Id: String(k), MessageBody })),
      }),
    );
    expect(Failed).toEqual([]);
  }
}

async function decided(claimIds: readonly string[], table = resources.tables.decisions): Promise<boolean> {
  const ids = new Set((await scan(table)).map((d) => d.claimId));
  return claimIds.every((id) => ids.has(id));
}

const flagsOf = async (claimIds: readonly string[], table = resources.tables.flags): Promise<Flag[]> => {
  const wanted = new Set(claimIds);
  return (await scan(table)).filter((f) => wanted.has(String(f.claimId))) as unknown as Flag[];
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
    const sequence = new SequentialScreening(core.screener, 'in');
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
      const { Attributes } = await sqs.send(
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
    const alerts = await drainAlerts();
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
      const { Messages = [] } = await sqs.send(
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
    const crash = await createResources(services.endpoints, 'crash', {
      sqs,
      dynamodb,
      queues: QUEUE_SETTINGS,
    });
    const documents = DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
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
        sqs,
        queueUrl: crash.queues.alerts.url,
        dynamo: dynamodb,
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
      sqs,
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

/** Every alert waiting on the alerts queue (deleted as read, as a hospital would). */
async function drainAlerts(): Promise<{ claimId: string }[]> {
  const alerts: { claimId: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.queues.alerts.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
      }),
    );
    if (!Messages.length) return alerts;
    for (const m of Messages) alerts.push(JSON.parse(m.Body ?? '{}'));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: resources.queues.alerts.url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}
