import { spawnSync } from 'node:child_process';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServices, startDynamoDbLocal } from '../../src/local/emulators.ts';
import { type Poller, type SqsBatchHandler, startPoller } from '../../src/local/poller.ts';
import { createResources } from '../../src/local/provisioning.ts';
import { claimEntry } from '../../src/pipeline/claims-queue.ts';
import { deadLetterQueueName, physicalName, QUEUES, TABLES, type TableName } from '../../src/resources.ts';
import { startTestStack, type TestStack, waitFor } from '../helpers/local-stack.ts';

let stack: TestStack;
let services: LocalServices;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startTestStack();
  ({ services, dynamodb, sqs } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function queueDepth(queueUrl: string) {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

async function sendClaims(queueUrl: string, bodies: string[]): Promise<string[]> {
  const { Successful = [] } = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, i) => ({
        ...claimEntry(String(i), body),
        MessageAttributes: { hospitalId: { DataType: 'String', StringValue: `H-${i}` } },
      })),
    }),
  );
  return Successful.sort((a, b) => Number(a.Id) - Number(b.Id)).map((s) => s.MessageId ?? '');
}

function pgrep(pattern: string): string[] {
  const { stdout } = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean);
}

describe('createResources', () => {
  it('creates every table with the keys, indexes and TTL of src/resources.ts', async () => {
    const resources = await createResources(services.endpoints, 'tables', { dynamodb, sqs });

    for (const name of Object.keys(TABLES) as TableName[]) {
      const def = TABLES[name];
      expect(resources.tables[name]).toBe(physicalName('tables', def.name));
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: resources.tables[name] }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        ...('sortKey' in def ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => ({
        name: i.IndexName,
        keys: i.KeySchema?.map((k) => k.AttributeName),
      }));
      expect(indexes).toHaveLength(def.indexes.length);
      for (const index of def.indexes) {
        expect(indexes).toContainEqual({
          name: index.indexName,
          keys: [index.partitionKey.name, ...('sortKey' in index ? [index.sortKey.name] : [])],
        });
      }
    }
    const { TimeToLiveDescription } = await dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: resources.tables.idempotency }),
    );
    expect(TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: TABLES.idempotency.ttlAttribute,
    });
  });

  it('gives every queue a dead-letter queue with the maxReceiveCount of src/resources.ts', async () => {
    const resources = await createResources(services.endpoints, 'queues', { dynamodb, sqs });

    for (const name of Object.keys(QUEUES) as (keyof typeof QUEUES)[]) {
      const { url, dlqUrl } = resources.queues[name];
      expect(url.endsWith(`/${physicalName('queues', QUEUES[name].name)}`)).toBe(true);
      expect(dlqUrl.endsWith(`/${physicalName('queues', deadLetterQueueName(name))}`)).toBe(true);
      const dlq = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
      );
      const queue = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
        }),
      );
      expect(JSON.parse(queue.Attributes?.RedrivePolicy ?? '{}')).toMatchObject({
        deadLetterTargetArn: dlq.Attributes?.QueueArn,
        maxReceiveCount: QUEUES[name].maxReceiveCount,
      });
      expect(queue.Attributes?.VisibilityTimeout).toBe(String(QUEUES[name].visibilityTimeoutSeconds));
    }
  });

  it('is idempotent: a second run finds the same tables and queues', async () => {
    const first = await createResources(services.endpoints, 'twice', { dynamodb, sqs });
    const second = await createResources(services.endpoints, 'twice');
    expect(second).toEqual(first);
  });
});

describe('startPoller', () => {
  let poller: Poller | undefined;

  afterAll(async () => {
    await poller?.stop();
  });

  it('delivers a batch as an SQSEvent and deletes the messages the handler processed', async () => {
    const { queues } = await createResources(services.endpoints, 'deliver', {
      dynamodb,
      sqs,
      queues: { claims: { visibilityTimeoutSeconds: 5 } },
    });
    const ids = await sendClaims(queues.claims.url, [
      '{"claimId":"C-1"}',
      '{"claimId":"C-2"}',
      '{"claimId":"C-3"}',
    ]);
    const events: SQSEvent[] = [];
    poller = await startPoller({
      sqs,
      queueUrl: queues.claims.url,
      handler: async (event) => {
        events.push(event);
      },
    });

    await waitFor(() => poller?.counters.succeeded === 3, 'three successes');
    await poller.stop();

    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    const { QueueArn } =
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queues.claims.url, AttributeNames: ['QueueArn'] }),
        )
      ).Attributes ?? {};
    const first = records.find((r) => r.messageId === ids[0]);
    expect(first).toMatchObject({
      body: '{"claimId":"C-1"}',
      eventSource: 'aws:sqs',
      eventSourceARN: QueueArn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { hospitalId: { dataType: 'String', stringValue: 'H-0' } },
    });
    expect(first?.receiptHandle).not.toBe('');
    expect(first?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(poller.counters).toEqual({
      received: 3,
      succeeded: 3,
      failed: 0,
      deadLettered: 0,
      handlerErrors: 0,
    });
    // Deleted, not merely hidden for the visibility timeout.
    expect(await queueDepth(queues.claims.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('dead-letters a message reported in batchItemFailures after maxReceiveCount and deletes the rest of its batch', async () => {
    const { queues } = await createResources(services.endpoints, 'redrive', {
      dynamodb,
      sqs,
      queues: { claims: { visibilityTimeoutSeconds: 1 } },
    });
    const [poisonId, ...goodIds] = await sendClaims(queues.claims.url, ['poison', 'good-1', 'good-2']);
    const deliveries: SQSRecord[][] = [];
    const handler: SqsBatchHandler = async (event): Promise<SQSBatchResponse> => {
      deliveries.push(event.Records);
      return {
        batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    };
    poller = await startPoller({ sqs, queueUrl: queues.claims.url, handler, concurrency: 1 });

    await waitFor(async () => (await queueDepth(queues.claims.dlqUrl)).visible === 1, 'the dead letter');
    await poller.stop();

    const maxReceiveCount = QUEUES.claims.maxReceiveCount;
    // The three arrived together; the healthy two were deleted after their first delivery.
    expect(deliveries[0]?.map((r) => r.messageId).sort()).toEqual([poisonId, ...goodIds].sort());
    const poisonDeliveries = deliveries.flat().filter((r) => r.messageId === poisonId);
    expect(poisonDeliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(
      Array.from({ length: maxReceiveCount }, (_, i) => String(i + 1)),
    );
    expect(deliveries.flat().filter((r) => r.messageId !== poisonId)).toHaveLength(2);
    expect(poller.counters).toMatchObject({
      succeeded: 2,
      failed: maxReceiveCount,
      deadLettered: 1,
      handlerErrors: 0,
    });
    expect(await queueDepth(queues.claims.url)).toEqual({ visible: 0, inFlight: 0 });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.claims.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((m) => [m.MessageId, m.Body])).toEqual([[poisonId, 'poison']]);
  });

  it('retries the whole batch when the handler throws', async () => {
    const { queues } = await createResources(services.endpoints, 'throws', {
      dynamodb,
      sqs,
      queues: { claims: { visibilityTimeoutSeconds: 1 } },
    });
    await sendClaims(queues.claims.url, ['a', 'b']);
    const receiveCounts: string[] = [];
    const warnings: string[] = [];
    let calls = 0;
    poller = await startPoller({
      sqs,
      queueUrl: queues.claims.url,
      concurrency: 1,
      logger: { warn: (message) => warnings.push(message) },
      handler: async (event) => {
        receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        calls++;
        if (calls === 1) throw new Error('DynamoDB throttled');
      },
    });

    await waitFor(() => poller?.counters.succeeded === 2, 'both messages to succeed on redelivery');
    await poller.stop();

    expect(receiveCounts).toEqual(['1', '1', '2', '2']);
    expect(warnings).toEqual([expect.stringContaining('batch failed as a whole')]);
    expect(poller.counters).toEqual({
      received: 4,
      succeeded: 2,
      failed: 2,
      deadLettered: 0,
      handlerErrors: 1,
    });
  });
});

describe('startDynamoDbLocal', () => {
  it('leaves no DynamoDB Local JVM running once stopped', async () => {
    const dynamoDbLocal = await startDynamoDbLocal();
    const ours = `DynamoDBLocal.jar -port ${dynamoDbLocal.port} `;
    expect(pgrep(ours).length).toBeGreaterThan(0);

    await dynamoDbLocal.stop();

    expect(pgrep(ours)).toEqual([]);
    expect(spawnSync('pgrep', ['-g', String(dynamoDbLocal.pid)]).stdout.toString()).toBe('');
  });
});
