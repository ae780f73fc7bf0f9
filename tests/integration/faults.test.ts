import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsAlertSender } from '../../functions/commons/alerts.ts';
import { DynamoAlertsStore } from '../../src/api/alerts-dynamo.ts';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import {
  type DynamoDbLocal,
  localClientConfig,
  type RunningService,
  startDynamoDbLocal,
  startSqsLocal,
} from '../../src/local/emulators.ts';
import { applyEnvironment, lambdaEnvironment } from '../../src/local/lambda-env.ts';
import { type Poller, type SqsBatchHandler, startPoller } from '../../src/local/poller.ts';
import { freePort } from '../../src/local/processes.ts';
import { createResources, type LocalResources } from '../../src/local/provisioning.ts';
import { queueDepth } from '../../src/local/summary.ts';
import { claimEntry } from '../../src/pipeline/claims-queue.ts';
import { type InProcessDeps, processClaims } from '../../src/pipeline/in-process.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { DynamoHistoryStore, DynamoOutcomeStore, documentClient } from '../../src/stores/dynamo.ts';
import { scanFlags, scan as scanTable, waitFor } from '../helpers/local-stack.ts';

/**
 * The in-process stage under faults on the real local stand-ins: DynamoDB Local killed and
 * restarted (its tables on disk, as a real outage keeps them), SQS unreachable, the handler dying
 * between any two of its writes, DynamoDB throttling. Each ends with every claim sent either decided
 * or dead-lettered, never both, each decided once, and no flag but those of its claim's decision.
 *
 * A restart of local-aws-sqs itself is not among them: it keeps its queues in memory, so a restart
 * loses every message not yet consumed — a property of the stand-in, not of SQS, which the README
 * states. SQS faults are played by a proxy in front of it that drops every connection.
 */
const core = loadCore();
// Short visibility so retries come quickly; enough receives that faults alone never dead-letter a claim.
const QUEUE_SETTINGS = { claims: { visibilityTimeoutSeconds: 5, maxReceiveCount: 10 } };

let dataDir: string;
let dynamoPort: number;
let dynamoLocal: DynamoDbLocal;
let sqsLocal: RunningService;
let sqsProxy: Proxy;
/** Clients of the checks, straight to the stand-ins. */
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fundguard-faults-'));
  dynamoPort = await freePort();
  [dynamoLocal, sqsLocal] = await Promise.all([
    startDynamoDbLocal({ port: dynamoPort, dataDir }),
    startSqsLocal(),
  ]);
  sqsProxy = await startProxy(sqsLocal.port);
  dynamodb = new DynamoDBClient(localClientConfig(dynamoLocal.endpoint));
  sqs = new SQSClient(localClientConfig(sqsLocal.endpoint));
  // The function module builds its default handler from the environment when imported; each test
  // wires its own (startStage), so any stage's names will do for that one.
  const endpoints = { dynamodb: dynamoLocal.endpoint, sqs: sqsLocal.endpoint };
  applyEnvironment({
    ...lambdaEnvironment(endpoints, await createResources(endpoints, 'faults', { dynamodb, sqs })),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await sqsProxy?.stop();
  await Promise.all([dynamoLocal?.stop(), sqsLocal?.stop()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A TCP proxy that can drop every connection and refuse new ones, then take them again on its port. */
interface Proxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  stop(): Promise<void>;
}

async function startProxy(targetPort: number): Promise<Proxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          // A dropped connection is the fault being played; the SDK sees it as a network error.
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
      server = s;
    });
  const close = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await open();
  return { port, cut: close, restore: open, stop: close };
}

/** A fault injected into the handler's DynamoDB client, per call: throw to fail it. */
type Fault = (call: { commandName: string; write: boolean }) => void;

const WRITES = new Set([
  'BatchWriteItemCommand',
  'BatchExecuteStatementCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
]);

interface Stage {
  resources: LocalResources;
  poller: Poller;
  /** How many times the store wrote each claim as new: once, for a claim decided once. */
  written: Map<string, number>;
  /** The handler's DynamoDB and SQS clients (through the proxy), to destroy after. */
  destroy(): Promise<void>;
}

/** Batches the stage's poller runs at once. */
const POLLER_CONCURRENCY = 4;

/**
 * A stage of its own (tables, queues) with the deployed handler's wiring — the real DynamoDB
 * stores and alert sender — on a DynamoDB client that passes each call through `fault` first,
 * and an SQS client that goes through the proxy. `wrap` may stand between the poller and the handler.
 */
async function startStage(
  name: string,
  fault: Fault,
  wrap: (handler: SqsBatchHandler) => SqsBatchHandler = (h) => h,
): Promise<Stage> {
  const resources = await createResources({ dynamodb: dynamoLocal.endpoint, sqs: sqsLocal.endpoint }, name, {
    dynamodb,
    sqs,
    queues: QUEUE_SETTINGS,
  });
  const { createInProcessHandler } = await import('../../functions/in-process.ts');
  const faulty = new DynamoDBClient({ ...localClientConfig(dynamoLocal.endpoint), maxAttempts: 2 });
  faulty.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = String(context.commandName);
      fault({ commandName, write: WRITES.has(commandName) });
      return next(args);
    },
    { step: 'build', name: 'injectFault' },
  );
  const proxied = new SQSClient({
    ...localClientConfig(`http://127.0.0.1:${sqsProxy.port}`),
    // Otherwise the SDK sends each call to the queue URL's own host, around the proxy.
    useQueueUrlAsEndpoint: false,
    maxAttempts: 2,
  });
  const documents = documentClient(faulty);
  const store = new DynamoOutcomeStore(documents, resources.tables);
  const written = new Map<string, number>();
  const handler = createInProcessHandler({
    screener: core.screener,
    history: new DynamoHistoryStore(documents, resources.tables.claims),
    outcomes: {
      recordAll: async (outcomes) => {
        const recorded = await store.recordAll(outcomes);
        for (const [claimId, { result }] of recorded.results)
          if (result === 'written') written.set(claimId, (written.get(claimId) ?? 0) + 1);
        return recorded;
      },
    },
    alerts: sqsAlertSender({
      sqs: proxied,
      queueUrl: resources.queues.alerts.url,
      dynamo: faulty,
      idempotencyTable: resources.tables.idempotency,
    }),
  });
  const poller = await startPoller({
    sqs: proxied,
    queueUrl: resources.queues.claims.url,
    handler: wrap(handler as SqsBatchHandler),
    concurrency: POLLER_CONCURRENCY,
    logger: { warn: () => undefined },
  });
  return {
    resources,
    poller,
    written,
    destroy: async () => {
      await poller.stop();
      faulty.destroy();
      proxied.destroy();
    },
  };
}

async function send(queueUrl: string, claims: readonly Claim[]): Promise<void> {
  for (let i = 0; i < claims.length; i += 10) {
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: claims.slice(i, i + 10).map((c, k) => claimEntry(String(k), JSON.stringify(c))),
      }),
    );
    expect(Failed).toEqual([]);
  }
}

/** The claim ids of every message in a queue (read without consuming: visibility 0). */
async function claimIdsIn(queueUrl: string): Promise<string[]> {
  const ids = new Map<string, string>();
  for (let empty = 0; empty < 3; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        AttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((m) => !ids.has(m.MessageId ?? ''));
    if (!fresh.length) empty++;
    for (const m of fresh) ids.set(m.MessageId ?? '', String(JSON.parse(m.Body ?? '{}').claimId));
  }
  return [...ids.values()];
}

/**
 * What every fault must leave: each claim sent decided or dead-lettered and never both, each
 * decided once (written once by the store, or again by its retry where `rewritten` allows for a write
 * the emulator lost; one history item), no flag but those its decision lists,
 * and alerts only for decided claims. Alerts are at least once — a death between the alert's send
 * and its idempotency record sends it again — so hospitals deduplicate them by `alertId`.
 */
async function expectNothingLostOrDoubled(
  stage: Stage,
  claims: readonly Claim[],
  { rewritten = 0 }: { rewritten?: number } = {},
): Promise<void> {
  const { tables, queues } = stage.resources;
  const sent = claims.map((c) => c.claimId);
  const decisions = await scanTable(dynamodb, tables.decisions);
  const decided = decisions.map((d) => String(d.claimId));
  const deadLettered = await claimIdsIn(queues.claims.dlqUrl);
  expect([...decided, ...deadLettered].sort()).toEqual([...sent].sort());
  // Never written twice, but for what `rewritten` allows. A decision DynamoDB committed just before
  // it died is reported failed, and its retry finds it a duplicate (and alerts): decided once,
  // though never reported `written`.
  const decidedIds = new Set(decided);
  const twice = [...stage.written].filter(([, times]) => times === 2).map(([claimId]) => claimId);
  expect(twice.length, `written twice: ${twice.join(', ')}`).toBeLessThanOrEqual(rewritten);
  for (const [claimId, times] of stage.written) {
    expect(times, claimId).toBeLessThanOrEqual(rewritten ? 2 : 1);
    expect(decidedIds.has(claimId), claimId).toBe(true);
  }

  const history = (await scanTable(dynamodb, tables.claims)).map((h) => String(h.claimId));
  expect(history.sort()).toEqual([...decided].sort());
  const listed = new Set(decisions.flatMap((d) => JSON.parse(String(d.flagIds)) as string[]));
  const flags = await scanFlags(dynamodb, tables.flags);
  expect(flags.map((f) => f.flagId).sort()).toEqual([...listed].sort());

  const alerted = new Set(await claimIdsIn(queues.alerts.url));
  expect([...alerted].filter((id) => !decidedIds.has(id))).toEqual([]);
}

/** The flags `fundguard screen` raises for the same stream: what the stage must have written. */
async function expectedFlags(claims: readonly Claim[]): Promise<string[]> {
  const sequence = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore());
  const flags: Flag[] = [];
  for (const claim of claims) flags.push(...(await sequence.screen(claim)).flags);
  return flags.map((f) => f.flagId).sort();
}

const storedFlagIds = async (stage: Stage) =>
  (await scanFlags(dynamodb, stage.resources.tables.flags)).map((f) => f.flagId).sort();

/** Every claim decided or dead-lettered, and the claims queue empty (redeliveries consumed too). */
async function settled(stage: Stage, claims: readonly Claim[]): Promise<void> {
  const { tables, queues } = stage.resources;
  await waitFor(
    async () =>
      (await scanTable(dynamodb, tables.decisions)).length +
        (await claimIdsIn(queues.claims.dlqUrl)).length >=
      claims.length,
    'every claim decided or dead-lettered',
    120_000,
  );
  await waitFor(
    async () => (await queueDepth(sqs, queues.claims.url)) === 0,
    'the claims queue drained',
    60_000,
  );
}

const stream = async (seed: number, claims: number) =>
  (await generateClaims({ seed, claims, violationRate: 0.3, days: 10 }, core)).claims;

describe('the in-process stage under faults', () => {
  it('decides every claim exactly once when the handler dies between any two of its writes', async () => {
    // Each batch's first attempt dies after its n-th DynamoDB write (n = 1, 2, 3 … by batch):
    // nothing after the crash is written, no response is returned, the whole batch comes back.
    const context = new AsyncLocalStorage<{ writes: number; crashAfter: number; crashed: boolean }>();
    const attempted = new Set<string>();
    let crashes = 0;
    const stage = await startStage(
      'faults-crash',
      ({ write }) => {
        const attempt = context.getStore();
        if (!attempt) return;
        if (!attempt.crashed && write && ++attempt.writes > attempt.crashAfter) attempt.crashed = true;
        if (attempt.crashed) throw new Error('the handler died here');
      },
      (handler) => async (event: SQSEvent, lambda: Context) => {
        const key = event.Records[0]?.messageId ?? '';
        const first = !attempted.has(key);
        attempted.add(key);
        const attempt = {
          writes: 0,
          crashAfter: first ? attempted.size : Number.POSITIVE_INFINITY,
          crashed: false,
        };
        const response = await context.run(attempt, () => handler(event, lambda));
        if (attempt.crashed) {
          crashes++;
          throw new Error('the handler died between two writes');
        }
        return response;
      },
    );
    try {
      const claims = await stream(401, 80);
      await send(stage.resources.queues.claims.url, claims);
      await settled(stage, claims);
      expect(crashes).toBeGreaterThan(3);
      await expectNothingLostOrDoubled(stage, claims);
      expect(await storedFlagIds(stage)).toEqual(await expectedFlags(claims));
    } finally {
      await stage.destroy();
    }
  }, 180_000);

  it('decides every claim exactly once through DynamoDB throttling', async () => {
    // A throttled stretch (every call for 1.5 s), then every fifth write throttled, past the SDK's retries.
    let calls = 0;
    let writes = 0;
    let throttledUntil = 0;
    const stage = await startStage('faults-throttle', ({ write }) => {
      calls++;
      if (calls === 20) throttledUntil = Date.now() + 1_500;
      if (Date.now() < throttledUntil || (write && ++writes % 5 === 0))
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
          name: 'ThrottlingException',
        });
    });
    try {
      const claims = await stream(402, 80);
      await send(stage.resources.queues.claims.url, claims);
      await settled(stage, claims);
      expect(throttledUntil).toBeGreaterThan(0);
      await expectNothingLostOrDoubled(stage, claims);
      expect(await storedFlagIds(stage)).toEqual(await expectedFlags(claims));
    } finally {
      await stage.destroy();
    }
  }, 180_000);

  it('decides every claim exactly once when DynamoDB Local is killed mid-stream and restarted', async () => {
    const stage = await startStage('faults-dynamo', () => undefined);
    try {
      const claims = await stream(403, 120);
      await send(stage.resources.queues.claims.url, claims);
      await waitFor(() => stage.poller.counters.succeeded >= 20, 'the stream under way');
      // SIGKILL: no shutdown of its own. Unlike DynamoDB, DynamoDB Local can lose a transaction it
      // has acknowledged (a decision with its counters, as a whole): four writers in a loop lost
      // their last acknowledged TransactWriteItems in 4 of 16 kills, plain puts in none of 6. A claim
      // so lost is decided again by its retry, so each batch in flight may write one claim twice;
      // the tables must still hold every claim once.
      process.kill(-dynamoLocal.pid, 'SIGKILL');
      await waitFor(() => stage.poller.counters.failed > 0, 'batches failing while DynamoDB is down');
      dynamoLocal = await startDynamoDbLocal({ port: dynamoPort, dataDir });
      await settled(stage, claims);
      await expectNothingLostOrDoubled(stage, claims, { rewritten: POLLER_CONCURRENCY });
      expect(await storedFlagIds(stage)).toEqual(await expectedFlags(claims));
    } finally {
      await stage.destroy();
    }
  }, 180_000);

  it('decides every claim exactly once when SQS is unreachable mid-stream', async () => {
    const stage = await startStage('faults-sqs', () => undefined);
    try {
      const claims = await stream(404, 120);
      await send(stage.resources.queues.claims.url, claims);
      await waitFor(() => stage.poller.counters.succeeded >= 20, 'the stream under way');
      // Receives, deletes and alerts fail: processed messages stay undeleted and come back.
      await sqsProxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await sqsProxy.restore();
      await settled(stage, claims);
      await expectNothingLostOrDoubled(stage, claims);
      // A receive whose answer the cut lost leaves its messages in flight unseen by the local
      // poller. SQS FIFO holds their patient's group until they return; the poller's own group lock
      // cannot, so here a later claim of that patient may be decided first (docs/in-process.md). The history
      // rules are compared flag for flag in the cases above; here each claim's own rules are.
      const own = (flags: readonly Flag[]) =>
        flags
          .filter((f) => !core.ruleSet.rule(f.ruleId)?.kind.history)
          .map((f) => f.flagId)
          .sort();
      const sequence = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore());
      const expected: Flag[] = [];
      for (const claim of claims) expected.push(...(await sequence.screen(claim)).flags);
      expect(own(await scanFlags(dynamodb, stage.resources.tables.flags))).toEqual(own(expected));
    } finally {
      await stage.destroy();
    }
  }, 180_000);
});

describe('a failed attempt’s partial writes', () => {
  it('are never listed to the hospital, and are gone after the retry: flags the retry does not raise are deleted', async () => {
    const resources = await createResources(
      { dynamodb: dynamoLocal.endpoint, sqs: sqsLocal.endpoint },
      'faults-partial',
      { dynamodb, sqs },
    );
    const documents = documentClient(dynamodb);
    const claims = (await generateClaims({ seed: 405, claims: 30, violationRate: 0.5 }, core)).claims;
    const screenings = await Promise.all(claims.map((c) => core.screener.screen(c, { stage: 'in' })));
    const flagged = screenings.findIndex((s) => s.flags.length > 0);
    const claim = claims[flagged] as Claim;
    const raised = (screenings[flagged]?.flags ?? []).map((f) => f.flagId).sort();
    const template = screenings[flagged]?.flags[0] as Flag;
    const alerts = { send: async () => undefined };
    const history = new DynamoHistoryStore(documents, resources.tables.claims);
    // The first attempt ran a rule set with a rule since withdrawn, which flagged the claim, and
    // died before its decision: its history item and that flag are stored, no decision.
    const withdrawn: Flag = { ...template, flagId: `F-withdrawn-${claim.claimId}`, ruleId: 'WITHDRAWN-RULE' };
    const withWithdrawnRule: InProcessDeps['screener'] = {
      ruleSet: core.screener.ruleSet,
      screen: async (...args) => {
        const screening = await core.screener.screen(...args);
        return { ...screening, flags: [...screening.flags, withdrawn] };
      },
    };
    const noDecisions = new DynamoDBClient(localClientConfig(dynamoLocal.endpoint));
    noDecisions.middlewareStack.add(
      (next, context) => async (args) => {
        // A clean claim's decision is a batched INSERT, a flagged one's a transaction with its counts.
        if (
          context.commandName === 'BatchExecuteStatementCommand' ||
          context.commandName === 'TransactWriteItemsCommand'
        )
          throw new Error('died before the decision');
        return next(args);
      },
      { step: 'build', name: 'dieBeforeDecision' },
    );
    try {
      const first = await processClaims([claim], {
        screener: withWithdrawnRule,
        history,
        outcomes: new DynamoOutcomeStore(documentClient(noDecisions), resources.tables),
        alerts,
      });
      expect(first.failed.map((f) => f.claimId)).toEqual([claim.claimId]);
    } finally {
      noDecisions.destroy();
    }
    const flagIds = async () =>
      (await scanFlags(dynamodb, resources.tables.flags)).map((f) => f.flagId).sort();
    expect(await flagIds()).toEqual([...raised, withdrawn.flagId].sort());
    // The hospital's alert listing shows none of them: the claim has no decision.
    const listing = new DynamoAlertsStore(documents, resources.tables);
    const listed = async () =>
      (await listing.listForHospital({ hospitalId: claim.hospital.hospitalId, limit: 50 })).flags
        .map((f) => f.flagId)
        .sort();
    expect(await listed()).toEqual([]);

    const retry = await processClaims([claim], {
      screener: core.screener,
      history,
      outcomes: new DynamoOutcomeStore(documents, resources.tables),
      alerts,
    });
    expect(retry.failed).toEqual([]);
    expect(await scanTable(dynamodb, resources.tables.decisions)).toHaveLength(1);
    expect(await flagIds()).toEqual(raised);
    expect(await listed()).toEqual(raised);
  }, 60_000);
});
