/**
 * Rebuilds the review counters (src/review/counts.ts) from the flags themselves: for flags written
 * before the counters existed, or counters a bug or a hand edit left wrong. Every flag of the table
 * is read once (a parallel Scan: this is the one job that must see every item), the counters each
 * scope should hold are summed as the writers sum them (countedOf, addCounted), and only a scope
 * whose stored counters differ is rewritten — its sums put on shard 0, its other shards deleted.
 * Run again, it finds nothing to change.
 *
 * Flags written while it runs may be miscounted (their ADD can land between the Scan and the
 * rewrite): run it while nothing writes flags, or run it again afterwards.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../resources.ts';
import { batchGet, type ItemWrite, writeInBatches } from '../stores/batch.ts';
import { addCounted, countedOf, counterItems, type Deltas, scopeOfKey } from './counts.ts';

const FLAG_KEY = TABLES.flags.partitionKey.name;
/** What a flag's counters depend on (countedOf), and whether it was superseded (then it counts nowhere). */
const COUNTED = [
  FLAG_KEY,
  'hospitalId',
  'status',
  'ruleClass',
  'basis',
  'createdMonth',
  'createdAt',
  'amountAtRisk',
  'enteredAt',
  'supersededBy',
  'ruleId',
  'ruleVersion',
];

export interface Recount {
  /** Flags read and counted (superseded ones are read, not counted). */
  flags: number;
  superseded: number;
  /** Scopes (a month, a hospital's month) the flags count in. */
  scopes: number;
  /** Scopes whose stored counters differed and were rewritten. */
  corrected: string[];
}

/** Recounts every scope of `table`'s counters from its flags; `segments` Scans run in parallel. */
export async function recountFlags(
  client: DynamoDBDocumentClient,
  table: string,
  segments = 4,
): Promise<Recount> {
  const wanted: Deltas = new Map();
  const storedKeys = new Map<string, string[]>();
  let flags = 0;
  let superseded = 0;
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            ProjectionExpression: COUNTED.map((_, i) => `#a${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(COUNTED.map((a, i) => [`#a${i}`, a])),
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const key = String(item[FLAG_KEY]);
          const scope = scopeOfKey(key);
          if (scope !== undefined) storedKeys.set(scope, [...(storedKeys.get(scope) ?? []), key]);
          else if (item.supersededBy !== undefined) superseded += 1;
          else {
            flags += 1;
            addCounted(wanted, countedOf(item), 1);
          }
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );

  const stored = await storedSums(client, table, [...storedKeys.values()].flat());
  const corrected: string[] = [];
  const writes: ItemWrite[] = [];
  for (const scope of new Set([...wanted.keys(), ...storedKeys.keys()])) {
    const should = nonZero(wanted.get(scope));
    if (sameCounts(should, stored.get(scope) ?? new Map())) continue;
    corrected.push(scope);
    const [item] = counterItems(new Map([[scope, should]]));
    if (item) writes.push({ PutRequest: { Item: item } });
    for (const key of storedKeys.get(scope) ?? [])
      if (!item || key !== item[FLAG_KEY]) writes.push({ DeleteRequest: { Key: { [FLAG_KEY]: key } } });
  }
  await writeInBatches(client, table, writes);
  return { flags, superseded, scopes: wanted.size, corrected: corrected.sort() };
}

/** The stored counter items, summed over shards, by scope. */
async function storedSums(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly string[],
): Promise<Map<string, Map<string, number>>> {
  const sums = new Map<string, Map<string, number>>();
  const items = await batchGet(
    client,
    table,
    keys.map((k) => ({ [FLAG_KEY]: k })),
  );
  for (const item of items) {
    const scope = scopeOfKey(String(item[FLAG_KEY])) as string;
    const attributes = sums.get(scope) ?? new Map<string, number>();
    sums.set(scope, attributes);
    for (const [name, value] of Object.entries(item))
      if (name !== FLAG_KEY && typeof value === 'number')
        attributes.set(name, (attributes.get(name) ?? 0) + value);
  }
  return sums;
}

const nonZero = (attributes: Map<string, number> | undefined): Map<string, number> =>
  new Map([...(attributes ?? [])].filter(([, n]) => n !== 0));

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  const b2 = nonZero(b);
  return a.size === b2.size && [...a].every(([name, n]) => b2.get(name) === n);
}
