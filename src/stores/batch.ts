/**
 * DynamoDB's batch calls with what every caller needs around them: chunks of the size a call takes,
 * unprocessed keys and writes retried with backoff, and an error of ours when DynamoDB keeps
 * leaving some. The stores, the review counters and their recount read and load through these.
 */
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

/** BatchWriteItem takes 25 requests a call, BatchGetItem 100 keys. */
export const WRITE_CHUNK = 25;
const READ_CHUNK = 100;
export const MAX_ATTEMPTS = 6;

/** Base of the DynamoDB adapters' errors. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** DynamoDB throttled a call past the SDK's own retries; the claims involved are retried by the queue. */
export class ThrottlingError extends StoreError {
  override readonly name = 'ThrottlingError';
}

/** A batch write still left items unprocessed after our retries with backoff. */
export class UnprocessedWritesError extends StoreError {
  override readonly name = 'UnprocessedWritesError';
  constructor(
    readonly tables: string[],
    options?: ErrorOptions,
  ) {
    super(`DynamoDB left items of ${tables.join(', ')} unprocessed after ${MAX_ATTEMPTS} attempts`, options);
  }
}

/** A batch read still left keys unprocessed after our retries with backoff. */
export class UnprocessedReadsError extends StoreError {
  override readonly name = 'UnprocessedReadsError';
  constructor(readonly table: string) {
    super(`DynamoDB left keys of ${table} unread after ${MAX_ATTEMPTS} attempts`);
  }
}

export const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt * (0.5 + Math.random()))));

/**
 * The items of these keys that exist, as `read` projects them: 100 keys to a BatchGetItem, the
 * calls in flight together, unprocessed keys retried with backoff, UnprocessedReadsError when
 * DynamoDB keeps leaving some.
 */
export async function batchGet(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  read: { projection?: string; names?: Record<string, string>; consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keys.length; i += READ_CHUNK) chunks.push(keys.slice(i, i + READ_CHUNK));
  const read1 = async (chunk: Record<string, unknown>[]): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] | undefined = chunk;
    for (let attempt = 1; pending?.length; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new UnprocessedReadsError(table);
      if (attempt > 1) await backoff(attempt);
      const output: BatchGetCommandOutput = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ...(read.projection ? { ProjectionExpression: read.projection } : {}),
              ...(read.names ? { ExpressionAttributeNames: read.names } : {}),
              ...(read.consistent ? { ConsistentRead: true } : {}),
            },
          },
        }),
      );
      items.push(...(output.Responses?.[table] ?? []));
      pending = output.UnprocessedKeys?.[table]?.Keys;
    }
    return items;
  };
  return (await Promise.all(chunks.map(read1))).flat();
}

/** A request of the document client: plain JavaScript items and keys. */
export type ItemWrite =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/**
 * Writes every request to `table`, `concurrency` batches of 25 at a time: unconditional puts and
 * deletes of many items (the audit's scores, the review bench's 100,000 flags, `fundguard review
 * recount`); UnprocessedWritesError if DynamoDB keeps refusing some.
 */
export async function writeInBatches(
  client: DynamoDBDocumentClient,
  table: string,
  requests: readonly ItemWrite[],
  concurrency = 4,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const start = next;
      next += WRITE_CHUNK;
      let pending: ItemWrite[] | undefined = requests.slice(start, start + WRITE_CHUNK);
      for (let attempt = 1; pending?.length; attempt++) {
        if (attempt > MAX_ATTEMPTS) throw new UnprocessedWritesError([table]);
        if (attempt > 1) await backoff(attempt);
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as WriteRequest[] } }),
        );
        pending = UnprocessedItems?.[table] as ItemWrite[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
