/**
 * Live counts of flags without reading the flags: counter items, updated with DynamoDB `ADD` in the
 * same transaction as every write that creates a flag, moves it to another status or supersedes it,
 * so a count is exact however many flags there are (docs/dynamodb.md, "Counts").
 *
 * A counter item covers one scope — the flags created in one month, or those of one hospital created
 * in one month — split over COUNTER_SHARDS items, so concurrent writers rarely touch one item (a
 * transaction on an item another transaction holds is cancelled and retried on another shard). Its
 * attributes: `n|status|ruleClass` flags and `a|status|ruleClass` cents at risk, and, for the statuses
 * an auditor owns, `e|status|day` flags that entered the status that day: the overdue count of a step
 * is the days before its limit's day plus one Query for the day the limit falls in.
 *
 * The items live in the flags table under keys no flag id takes (`#counts#…`); they hold none of the
 * indexes' key attributes, so no index and no listing ever sees them.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../resources.ts';
import { batchGet } from '../stores/batch.ts';
import { AUDITOR_STATUSES } from './states.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const FLAG_KEY = TABLES.flags.partitionKey.name;
export const COUNTER_PREFIX = '#counts';
/** Items a scope is spread over: eight writers at once on one month seldom meet on one item. */
export const COUNTER_SHARDS = 8;
/** A transaction cancelled by another on the same counter is tried again this often, each time on another shard. */
const CONFLICT_ATTEMPTS = 8;

/** What a flag adds to the counters: where it counts and under which status, class and day. */
export interface Counted {
  hospitalId: string;
  status: string;
  ruleClass: string;
  /** Month of creation, YYYY-MM: the scope. */
  createdMonth: string;
  cents: number;
  /** When the flag entered its status (its creation while it is open). */
  enteredAt: string;
  /** The rule and its version, for rule precision (the `rules` scope). */
  ruleId: string;
  ruleVersion: number;
}

/** A stored flag item, or a Flag about to be written, as the counters see it. */
export function countedOf(item: Record<string, unknown>): Counted {
  const basis = item.basis as { ruleClass?: unknown } | undefined;
  const createdAt = String(item.createdAt);
  return {
    hospitalId: String(item.hospitalId),
    status: String(item.status),
    ruleClass: String(item.ruleClass ?? basis?.ruleClass ?? ''),
    createdMonth: String(item.createdMonth ?? createdAt.slice(0, 7)),
    cents: Math.round(Number(item.amountAtRisk ?? 0) * 100),
    enteredAt: String(item.enteredAt ?? createdAt),
    ruleId: String(item.ruleId),
    ruleVersion: Number(item.ruleVersion),
  };
}

const AUDITOR = new Set<string>(AUDITOR_STATUSES);

export const countAttribute = (status: string, ruleClass: string): string => `n|${status}|${ruleClass}`;
export const centsAttribute = (status: string, ruleClass: string): string => `a|${status}|${ruleClass}`;
export const enteredAttribute = (status: string, day: string): string => `e|${status}|${day}`;
/** Flags of a rule version in a status, in the `rules` scope: rule precision without reading the flags. */
export const ruleAttribute = (status: string, ruleId: string, ruleVersion: number): string =>
  `r|${status}|${ruleId}|${ruleVersion}`;

/** The scope of every flag ever raised, by rule version and status only (rule precision is all-time). */
export const RULES_SCOPE = 'rules';

/** The scopes a flag counts in: its month, and its hospital's month (and RULES_SCOPE). */
export const monthScope = (month: string): string => `month#${month}`;
export const hospitalMonthScope = (hospitalId: string, month: string): string =>
  `hospital#${hospitalId}#month#${month}`;

/** Additions to counter attributes, by scope. */
export type Deltas = Map<string, Map<string, number>>;

/** Adds `sign` times each flag to `deltas` (a transition is its old state at -1 and its new at +1). */
export function addCounted(deltas: Deltas, flag: Counted, sign: 1 | -1): Deltas {
  for (const scope of [
    monthScope(flag.createdMonth),
    hospitalMonthScope(flag.hospitalId, flag.createdMonth),
  ]) {
    const attributes = deltas.get(scope) ?? new Map<string, number>();
    deltas.set(scope, attributes);
    const add = (name: string, by: number) => attributes.set(name, (attributes.get(name) ?? 0) + by);
    add(countAttribute(flag.status, flag.ruleClass), sign);
    add(centsAttribute(flag.status, flag.ruleClass), sign * flag.cents);
    if (AUDITOR.has(flag.status)) add(enteredAttribute(flag.status, flag.enteredAt.slice(0, 10)), sign);
  }
  const rules = deltas.get(RULES_SCOPE) ?? new Map<string, number>();
  deltas.set(RULES_SCOPE, rules);
  const name = ruleAttribute(flag.status, flag.ruleId, flag.ruleVersion);
  rules.set(name, (rules.get(name) ?? 0) + sign);
  return deltas;
}

export const counterKey = (scope: string, shard: number): string => `${COUNTER_PREFIX}#${scope}#${shard}`;

/** The scope of a counter item's key (`#counts#<scope>#<shard>`), or undefined for a flag's key. */
export function scopeOfKey(key: string): string | undefined {
  if (!key.startsWith(`${COUNTER_PREFIX}#`)) return undefined;
  return key.slice(COUNTER_PREFIX.length + 1, key.lastIndexOf('#'));
}

/**
 * Whole counter items holding `deltas`, one per scope on shard 0, zeros left out: what a bulk load
 * (counters summed up front) or a recount puts, where a live write ADDs to a random shard.
 */
export function counterItems(deltas: Deltas): Record<string, unknown>[] {
  return [...deltas]
    .map(([scope, attributes]) => ({
      [FLAG_KEY]: counterKey(scope, 0),
      ...Object.fromEntries([...attributes].filter(([, n]) => n !== 0)),
    }))
    .filter((item) => Object.keys(item).length > 1);
}

/** The counter updates of `deltas` on one shard, zeros left out, for a transaction. */
export function counterUpdates(table: string, deltas: Deltas, shard: number): TransactItem[] {
  const updates: TransactItem[] = [];
  for (const [scope, attributes] of deltas) {
    const changed = [...attributes].filter(([, by]) => by !== 0);
    if (!changed.length) continue;
    updates.push({
      Update: {
        TableName: table,
        Key: { [FLAG_KEY]: counterKey(scope, shard) },
        UpdateExpression: `ADD ${changed.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(changed.map(([name], i) => [`#c${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(changed.map(([, by], i) => [`:c${i}`, by])),
      },
    });
  }
  return updates;
}

/**
 * Writes `write` (a flag, a decision: the item whose condition makes the count exactly-once) and the
 * counter updates of `deltas` in one transaction. The write's condition failing throws
 * ConditionalCheckFailedException, as the write alone would; a conflict with another transaction on a
 * counter is retried on another shard.
 */
export async function writeCounted(
  client: DynamoDBDocumentClient,
  table: string,
  write: TransactItem,
  deltas: Deltas,
): Promise<void> {
  let shard = Math.floor(Math.random() * COUNTER_SHARDS);
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(
        new TransactWriteCommand({ TransactItems: [write, ...counterUpdates(table, deltas, shard)] }),
      );
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (codes[0] === 'ConditionalCheckFailed')
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: error.$metadata,
        });
      if (!codes.includes('TransactionConflict') || attempt >= CONFLICT_ATTEMPTS) throw error;
      shard = (shard + 1) % COUNTER_SHARDS;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

/**
 * Marks a flag superseded by claim version `version` and takes it out of the counters, in one
 * transaction conditioned on the review version read: a decision landing meanwhile makes it read
 * again. A flag already marked, or gone, is left as it is.
 */
export async function supersedeCounted(
  client: DynamoDBDocumentClient,
  table: string,
  flagId: string,
  version: number,
): Promise<void> {
  for (let attempt = 1; attempt <= CONFLICT_ATTEMPTS; attempt++) {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: { [FLAG_KEY]: flagId }, ConsistentRead: true }),
    );
    if (!Item || Item.supersededBy !== undefined) return;
    const read = Item.reviewVersion;
    try {
      await writeCounted(
        client,
        table,
        {
          Update: {
            TableName: table,
            Key: { [FLAG_KEY]: flagId },
            UpdateExpression: 'SET supersededBy = :v',
            ConditionExpression:
              read === undefined
                ? 'attribute_exists(#id) AND attribute_not_exists(supersededBy) AND attribute_not_exists(reviewVersion)'
                : 'attribute_exists(#id) AND attribute_not_exists(supersededBy) AND reviewVersion = :read',
            ExpressionAttributeNames: { '#id': FLAG_KEY },
            ExpressionAttributeValues: { ':v': version, ...(read === undefined ? {} : { ':read': read }) },
          },
        },
        addCounted(new Map(), countedOf(Item), -1),
      );
      return;
    } catch (error) {
      // Decided or superseded meanwhile: read it again.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  throw new Error(`flag ${flagId} kept changing while it was being superseded`);
}

/** The counters of some scopes, summed over their shards. */
export async function readCounters(
  client: DynamoDBDocumentClient,
  table: string,
  scopes: readonly string[],
): Promise<Map<string, number>> {
  const keys = scopes.flatMap((scope) =>
    Array.from({ length: COUNTER_SHARDS }, (_, shard) => ({ [FLAG_KEY]: counterKey(scope, shard) })),
  );
  const sums = new Map<string, number>();
  for (const item of await batchGet(client, table, keys))
    for (const [name, value] of Object.entries(item))
      if (name !== FLAG_KEY && typeof value === 'number') sums.set(name, (sums.get(name) ?? 0) + value);
  return sums;
}
