import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { HospitalAlertMessage } from '../../src/contracts/alert.ts';
import { Flag } from '../../src/contracts/flag.ts';
import { parseContract, parseJsonContract } from '../../src/contracts/issues.ts';
import { type LocalServices, localClientConfig, startLocalServices } from '../../src/local/emulators.ts';
import { applyEnvironment, lambdaEnvironment } from '../../src/local/lambda-env.ts';
import { type Poller, startPoller } from '../../src/local/poller.ts';
import { createResources, type LocalResources, type QueueOverrides } from '../../src/local/provisioning.ts';
import { claimEntry } from '../../src/pipeline/claims-queue.ts';
import { COUNTER_PREFIX } from '../../src/review/counts.ts';
import { documentClient } from '../../src/stores/dynamo.ts';

/** DynamoDB Local and local SQS for one test file, with clients; `stop()` ends them (the JVM included). */
export interface TestStack {
  services: LocalServices;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** The tables and queues of src/resources.ts under `stage`, queues shortened by `queues`. */
  provision(stage: string, queues?: QueueOverrides): Promise<LocalResources>;
  /**
   * Sets the environment the in-process function reads for `resources` (src/config.ts), quiet:
   * no metrics, errors only in the logs. Import a function module after it.
   */
  configureFunctions(resources: LocalResources): void;
  /**
   * Sends claim bodies to a claims queue as a hospital's system does, ten to a call and one call
   * after the other, so SQS numbers each patient's claims in the order given; fails on any refusal.
   */
  sendClaims(queueUrl: string, bodies: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestStack(): Promise<TestStack> {
  const services = await startLocalServices();
  const dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  const sqs = new SQSClient(localClientConfig(services.endpoints.sqs));
  return {
    services,
    dynamodb,
    documents: documentClient(dynamodb),
    sqs,
    provision: (stage, queues) =>
      createResources(services.endpoints, stage, { dynamodb, sqs, ...(queues ? { queues } : {}) }),
    configureFunctions: (resources) =>
      applyEnvironment({
        ...lambdaEnvironment(services.endpoints, resources),
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      }),
    sendClaims: async (queueUrl, bodies) => {
      for (let i = 0; i < bodies.length; i += 10) {
        const entries = bodies.slice(i, i + 10).map((body, k) => claimEntry(String(k), body));
        const { Failed = [] } = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
        );
        if (Failed.length) throw new Error(`SQS refused claims: ${JSON.stringify(Failed)}`);
      }
    },
    stop: async () => {
      sqs.destroy();
      dynamodb.destroy();
      await services.stop();
    },
  };
}

/**
 * The deployed in-process entry point behind the Lambda-like poller on `resources`' claims queue,
 * configured from the environment as in Lambda.
 */
export async function startInProcessPoller(
  stack: TestStack,
  resources: LocalResources,
  concurrency: number,
): Promise<Poller> {
  stack.configureFunctions(resources);
  const fn = await import('../../functions/in-process.ts');
  return startPoller({
    sqs: stack.sqs,
    queueUrl: resources.queues.claims.url,
    handler: fn.handler,
    concurrency,
  });
}

/** A test file's local stack, its resources and the in-process poller on them, once started. */
export interface InProcessStack {
  readonly stack: TestStack;
  readonly resources: LocalResources;
  readonly poller: Poller;
}

/**
 * Starts the local stack before the file's tests, provisions `stage` (queues shortened by
 * `queues`) and runs the deployed in-process handler behind `concurrency` receivers; stops them
 * all after. Its fields are there once the tests run.
 */
export function useInProcessStack(
  stage: string,
  concurrency: number,
  queues?: QueueOverrides,
): InProcessStack {
  let started: InProcessStack | undefined;
  const get = (): InProcessStack => {
    if (!started) throw new Error('the in-process stack is not started: use it inside a test');
    return started;
  };
  beforeAll(async () => {
    const stack = await startTestStack();
    const resources = await stack.provision(stage, queues);
    started = { stack, resources, poller: await startInProcessPoller(stack, resources, concurrency) };
  });
  afterAll(async () => {
    await started?.poller.stop();
    await started?.stack.stop();
  });
  return {
    get stack() {
      return get().stack;
    },
    get resources() {
      return get().resources;
    },
    get poller() {
      return get().poller;
    },
  };
}

/** Every hospital alert waiting on `queueUrl`, deleted as read (as a hospital's system would). */
export async function drainAlerts(stack: TestStack, queueUrl: string): Promise<HospitalAlertMessage[]> {
  const alerts: HospitalAlertMessage[] = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
      }),
    );
    if (!Messages.length) return alerts;
    for (const m of Messages)
      alerts.push(parseJsonContract(HospitalAlertMessage, 'hospital alert', m.Body ?? ''));
    await stack.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every item of a table, unmarshalled. */
export async function scan(client: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every flag of a flags table as the Flag contract, without the review counters kept beside them (src/review/counts.ts). */
export async function scanFlags(client: DynamoDBClient, table: string): Promise<Flag[]> {
  return (await scan(client, table))
    .filter((item) => !String(item.flagId).startsWith(COUNTER_PREFIX))
    .map(storedFlag);
}

/** A stored flag item as the Flag contract: the index keys the store adds, and any review state, are not part of it. */
export function storedFlag(item: Record<string, unknown>): Flag {
  const flag = Object.fromEntries(Object.entries(item).filter(([name]) => name in Flag.shape));
  return parseContract(Flag, 'stored flag', flag);
}
