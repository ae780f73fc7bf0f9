/**
 * Bulk writes to one table: BatchWriteItem 25 requests a call, a few calls in flight, unprocessed
 * requests retried with backoff. For loading many items at once (the review bench's 100,000 flags,
 * `fundguard review recount`), where one conditional write per item would take minutes.
 */
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
const MAX_ATTEMPTS = 8;

/** DynamoDB kept leaving some requests unprocessed (throttled) after every retry. */
export class UnwrittenItemsError extends Error {
  override readonly name = 'UnwrittenItemsError';
}

/** A request of the document client: plain JavaScript items and keys. */
export type ItemWrite =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/** Writes every request to `table`, `concurrency` batches at a time; throws UnwrittenItemsError if DynamoDB keeps refusing some. */
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
      next += BATCH;
      let pending: ItemWrite[] | undefined = requests.slice(start, start + BATCH);
      for (let attempt = 1; pending?.length; attempt++) {
        if (attempt > MAX_ATTEMPTS)
          throw new UnwrittenItemsError(
            `DynamoDB left ${pending.length} writes to ${table} unprocessed after ${MAX_ATTEMPTS} attempts`,
          );
        if (attempt > 1)
          await new Promise((r) => setTimeout(r, Math.min(2_000, 25 * 2 ** attempt * (0.5 + Math.random()))));
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as WriteRequest[] } }),
        );
        pending = UnprocessedItems?.[table] as ItemWrite[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
