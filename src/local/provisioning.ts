/**
 * The tables and queues of src/resources.ts, created on the local stand-ins exactly as the CDK stack
 * defines them in AWS (keys, indexes, TTL, dead-letter queues and redrive policies).
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deadLetterQueueName,
  type IndexDef,
  type KeyDef,
  physicalName,
  QUEUES,
  type QueueDef,
  type QueueName,
  TABLES,
  type TableDef,
  type TableName,
} from '../resources.ts';
import { type Endpoints, localClientConfig } from './emulators.ts';
import { LocalServiceError } from './errors.ts';

/** A table left by an earlier run (a persisted `dataDir`) whose keys no longer match the definitions. */
export class ResourceMismatchError extends LocalServiceError {
  override readonly name = 'ResourceMismatchError';
}

export interface QueueUrls {
  url: string;
  dlqUrl: string;
}

export interface LocalResources {
  /** Physical table names by logical name. */
  tables: Record<TableName, string>;
  queues: Record<QueueName, QueueUrls>;
}

/** Per-queue settings that tests shorten (a 30-second visibility timeout would make them slow). */
export type QueueOverrides = Partial<
  Record<QueueName, Partial<Pick<QueueDef, 'visibilityTimeoutSeconds' | 'maxReceiveCount'>>>
>;

export interface CreateResourcesOptions {
  dynamodb?: DynamoDBClient;
  sqs?: SQSClient;
  queues?: QueueOverrides;
}

/**
 * Creates every table (with its indexes and TTL, on demand) and every queue with its dead-letter
 * queue and redrive policy. Idempotent: what exists already is kept, provided its keys match.
 */
export async function createResources(
  endpoints: Endpoints,
  stage: string,
  options: CreateResourcesOptions = {},
): Promise<LocalResources> {
  const dynamodb = options.dynamodb ?? new DynamoDBClient(localClientConfig(endpoints.dynamodb));
  const sqs = options.sqs ?? new SQSClient(localClientConfig(endpoints.sqs));
  try {
    const tables = {} as Record<TableName, string>;
    for (const name of Object.keys(TABLES) as TableName[]) {
      tables[name] = await ensureTable(dynamodb, TABLES[name], physicalName(stage, TABLES[name].name));
    }
    const queues = {} as Record<QueueName, QueueUrls>;
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      queues[name] = await ensureQueue(sqs, stage, name, { ...QUEUES[name], ...options.queues?.[name] });
    }
    return { tables, queues };
  } finally {
    // Only the clients made here; injected ones belong to the caller.
    if (!options.dynamodb) dynamodb.destroy();
    if (!options.sqs) sqs.destroy();
  }
}

async function ensureTable(client: DynamoDBClient, def: TableDef, tableName: string): Promise<string> {
  const keys = [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  const attributes = new Map<string, AttributeDefinition>();
  for (const key of keys) {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes.values()],
        KeySchema: keySchema(def.partitionKey, def.sortKey),
        GlobalSecondaryIndexes: def.indexes.length
          ? def.indexes.map((index) => ({
              IndexName: index.indexName,
              KeySchema: keySchema(index.partitionKey, index.sortKey),
              Projection: { ProjectionType: projectionOf(index) },
            }))
          : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    assertSameKeys(def, tableName, Table);
  }
  if (def.ttlAttribute) await ensureTimeToLive(client, tableName, def.ttlAttribute);
  return tableName;
}

const projectionOf = (index: IndexDef) => index.projection ?? 'ALL';

const keySchema = (partitionKey: KeyDef, sortKey?: KeyDef) => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
];

function assertSameKeys(def: TableDef, tableName: string, table: TableDescription | undefined): void {
  const wanted = JSON.stringify({
    keys: keySchema(def.partitionKey, def.sortKey),
    indexes: def.indexes
      .map((i) => ({ name: i.indexName, keys: keySchema(i.partitionKey, i.sortKey) }))
      .sort(byName),
  });
  const found = JSON.stringify({
    keys: table?.KeySchema ?? [],
    indexes: (table?.GlobalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName ?? '', keys: i.KeySchema ?? [] }))
      .sort(byName),
  });
  if (wanted !== found) {
    throw new ResourceMismatchError(
      `table ${tableName} exists with other keys or indexes than src/resources.ts defines; ` +
        `delete it (or its data directory) to recreate it. wanted ${wanted}, found ${found}`,
    );
  }
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

async function ensureTimeToLive(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  // Enabling it twice is a ValidationException, so ask first.
  if (TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
    }),
  );
}

async function ensureQueue(
  client: SQSClient,
  stage: string,
  name: QueueName,
  def: QueueDef,
): Promise<QueueUrls> {
  const fifo: Record<string, string> = def.fifo ? { FifoQueue: 'true' } : {};
  const dlqUrl = await createQueue(client, physicalName(stage, deadLetterQueueName(name)), {
    ...fifo,
    MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
  });
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const deadLetterTargetArn = Attributes?.QueueArn;
  if (!deadLetterTargetArn) throw new LocalServiceError(`no ARN for dead-letter queue ${dlqUrl}`);
  const url = await createQueue(client, physicalName(stage, def.name), {
    ...fifo,
    ...(def.fifo ? { ContentBasedDeduplication: 'true' } : ({} as Record<string, string>)),
    VisibilityTimeout: String(def.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(def.retentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: def.maxReceiveCount }),
  });
  return { url, dlqUrl };
}

async function createQueue(client: SQSClient, queueName: string, attributes: Record<string, string>) {
  // CreateQueue is itself idempotent for identical attributes, as in AWS.
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: queueName,
      Attributes: { SqsManagedSseEnabled: 'true', ...attributes },
    }),
  );
  if (!QueueUrl) throw new LocalServiceError(`CreateQueue returned no URL for ${queueName}`);
  return QueueUrl;
}
