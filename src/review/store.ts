/**
 * The review API's DynamoDB adapter: flag listings by plan (src/review/plan.ts), a flag and its
 * claim, conditional transitions, scores and rule counts. Every read is a GetItem or a Query.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseJsonContract } from '../contracts/issues.ts';
import { Score } from '../contracts/score.ts';
import type { HistoryClaim } from '../history/store.ts';
import { TABLES } from '../resources.ts';
import { HISTORY_ATTRIBUTE, readHistory } from '../stores/dynamo.ts';
import { addCounted, countedOf, readCounters, writeCounted } from './counts.ts';
import type { ReviewState, TrailEntry, Transition } from './machine.ts';
import { FLAG_INDEX_KEYS, type ListPlan, type QueryStep } from './plan.ts';

export type FlagItem = Record<string, unknown> & { flagId: string; hospitalId: string; status: string };

export interface ReviewTables {
  flags: string;
  claims: string;
  scores: string;
}

/** Where a listing stopped: the plan step and the index key of the last item looked at. */
export interface Position {
  step: number;
  key?: Record<string, string>;
}

export interface FlagsPage {
  items: FlagItem[];
  next?: Position;
}

/** A cursor that does not decode, or was issued for other filters. */
export class CursorError extends Error {
  override readonly name = 'CursorError';
}

const CursorBody = z.strictObject({
  f: z.string(),
  s: z.number().int().nonnegative(),
  k: z.record(z.string(), z.string().max(300)).optional(),
});

export function encodeCursor(plan: ListPlan, position: Position): string {
  return Buffer.from(
    JSON.stringify({ f: plan.fingerprint, s: position.step, ...(position.key ? { k: position.key } : {}) }),
  ).toString('base64url');
}

export function decodeCursor(plan: ListPlan, cursor: string): Position {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) throw new CursorError('the cursor is not one this listing issued');
    throw error;
  }
  const parsed = CursorBody.safeParse(body);
  if (!parsed.success) throw new CursorError('the cursor is not one this listing issued');
  if (parsed.data.f !== plan.fingerprint)
    throw new CursorError('the cursor was issued for other filters; start again without it');
  if (parsed.data.s >= plan.steps.length) throw new CursorError('the cursor is past the end of this listing');
  return parsed.data.k ? { step: parsed.data.s, key: parsed.data.k } : { step: parsed.data.s };
}

/**
 * How many items a Query evaluates to find `want` more: `want` while every item read so far passed
 * the filter (the default filter, superseded and exempted flags out, keeps nearly all), else `want`
 * scaled by the share that passed, with a fifth to spare (between 20 and 1,000). Reading twice what
 * is wanted, as before, made every page of the queue read a second page it threw away.
 */
export function readSize(want: number, read: number, kept: number): number {
  if (kept === read) return want;
  return Math.min(1_000, Math.max(20, Math.ceil(((want * read) / Math.max(kept, 1)) * 1.2)));
}

/**
 * What a listing shows of a flag (FlagView) and the index keys its cursor is made of: everything
 * but the review trail, which only the detail shows and which grows with every decision.
 */
export const LISTED_ATTRIBUTES = new Set([
  'flagId',
  'claimId',
  'relatedClaimIds',
  'supersededBy',
  'lineNos',
  'ruleId',
  'ruleVersion',
  'stage',
  'severity',
  'result',
  'action',
  'amountAtRisk',
  'hospitalId',
  'doctorId',
  'insuredId',
  'message',
  'basis',
  'status',
  'createdAt',
  'reviewVersion',
  'enteredAt',
  'dueAt',
  ...TABLES.flags.indexes.flatMap((i) => [i.partitionKey.name, i.sortKey.name]),
]);

export class DynamoReviewStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: ReviewTables,
  ) {}

  #query(
    step: QueryStep,
    plan: ListPlan,
    limit: number,
    start?: Record<string, unknown>,
    projection?: string[],
    select?: 'COUNT',
  ) {
    const keys = FLAG_INDEX_KEYS[step.index];
    const names: Record<string, string> = { '#pk': keys.partition, ...(plan.filter?.names ?? {}) };
    const values: Record<string, unknown> = { ':pk': step.partition, ...(plan.filter?.values ?? {}) };
    let keyCondition = '#pk = :pk';
    const { from, to } = step.range ?? {};
    if (from !== undefined || to !== undefined) names['#sk'] = keys.sort;
    if (from !== undefined && to !== undefined) {
      keyCondition += ' AND #sk BETWEEN :from AND :to';
      values[':from'] = from;
      values[':to'] = to;
    } else if (from !== undefined) {
      keyCondition += ' AND #sk >= :from';
      values[':from'] = from;
    } else if (to !== undefined) {
      keyCondition += ' AND #sk <= :to';
      values[':to'] = to;
    }
    if (projection) for (const [i, p] of projection.entries()) names[`#p${i}`] = p;
    const input: QueryCommandInput = {
      TableName: this.tables.flags,
      IndexName: step.index,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: limit,
      ...(plan.filter ? { FilterExpression: plan.filter.expression } : {}),
      ...(start ? { ExclusiveStartKey: start } : {}),
      ...(projection ? { ProjectionExpression: projection.map((_, i) => `#p${i}`).join(', ') } : {}),
      ...(select ? { Select: select } : {}),
    };
    return this.client.send(new QueryCommand(input));
  }

  /**
   * Up to `limit` flags of the plan after `after`, newest first within each step. The position
   * after the page is the key of the last item returned (or the last one the Query evaluated),
   * so the next page starts exactly there: no gaps, no repeats.
   */
  async page(plan: ListPlan, limit: number, after?: Position): Promise<FlagsPage> {
    const items: FlagItem[] = [];
    let step = after?.step ?? 0;
    let start: Record<string, unknown> | undefined = after?.key;
    let read = 0;
    // Bounded work per page: a very selective filter returns a shorter page with a cursor.
    for (let calls = 0; step < plan.steps.length && calls < 25; calls++) {
      const current = plan.steps[step] as QueryStep;
      const want = limit - items.length;
      const answer = await this.#query(current, plan, readSize(want, read, items.length), start, [
        ...LISTED_ATTRIBUTES,
      ]);
      read += answer.ScannedCount ?? 0;
      const found = (answer.Items ?? []) as FlagItem[];
      if (found.length > want) {
        items.push(...found.slice(0, want));
        return { items, next: { step, key: indexKey(current, items.at(-1) as FlagItem) } };
      }
      items.push(...found);
      if (answer.LastEvaluatedKey) start = answer.LastEvaluatedKey;
      else {
        step += 1;
        start = undefined;
      }
      if (items.length === limit)
        return step < plan.steps.length
          ? { items, next: start ? { step, key: stringKey(start) } : { step } }
          : { items };
    }
    if (step >= plan.steps.length) return { items };
    return { items, next: start ? { step, key: stringKey(start) } : { step } };
  }

  /** Every flag of the plan, page by page, only `projection` when given (export, bulk). */
  async *all(plan: ListPlan, projection?: string[]): AsyncGenerator<FlagItem[]> {
    for await (const { items } of this.pages(plan, projection)) if (items.length) yield items;
  }

  /**
   * The plan's flags a Query page at a time (`size` evaluated), with how many items DynamoDB evaluated
   * for the page and whether any remain: what a bounded count stops on, since evaluating an item is
   * what costs, whether the filter keeps it or not.
   */
  async *pages(
    plan: ListPlan,
    projection?: string[],
    select?: 'COUNT',
    size = 500,
  ): AsyncGenerator<{ items: FlagItem[]; count: number; scanned: number; more: boolean }> {
    for (const [i, step] of plan.steps.entries()) {
      let start: Record<string, unknown> | undefined;
      do {
        const answer = await this.#query(step, plan, size, start, projection, select);
        start = answer.LastEvaluatedKey;
        yield {
          items: (answer.Items ?? []) as FlagItem[],
          count: answer.Count ?? 0,
          scanned: answer.ScannedCount ?? 0,
          more: start !== undefined || i < plan.steps.length - 1,
        };
      } while (start);
    }
  }

  /** The live counters of `scopes` (src/review/counts.ts), summed over their shards. */
  counters(scopes: readonly string[]): Promise<Map<string, number>> {
    return readCounters(this.client, this.tables.flags, scopes);
  }

  /**
   * How many flags the plan lists, counted by DynamoDB (`Select: COUNT`: no item leaves the table),
   * evaluating at most about `maxRead` items; `exact` is false when it stopped there.
   */
  async count(plan: ListPlan, maxRead: number): Promise<{ count: number; exact: boolean }> {
    let count = 0;
    let read = 0;
    for await (const page of this.pages(plan, undefined, 'COUNT', Math.min(1_000, maxRead))) {
      count += page.count;
      read += page.scanned;
      if (read >= maxRead && page.more) return { count, exact: false };
    }
    return { count, exact: true };
  }

  async flag(flagId: string): Promise<FlagItem | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.flags, Key: { flagId } }),
    );
    return Item as FlagItem | undefined;
  }

  /** The other flags of a claim (byClaim index). */
  async flagsOfClaim(claimId: string): Promise<FlagItem[]> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.flags,
        IndexName: 'byClaim',
        KeyConditionExpression: 'claimId = :c',
        ExpressionAttributeValues: { ':c': claimId },
        ProjectionExpression: 'flagId, ruleId, #s, hospitalId',
        ExpressionAttributeNames: { '#s': 'status' },
        Limit: 100,
      }),
    );
    return (Items ?? []) as FlagItem[];
  }

  /**
   * A settled claim from its patient's history partition (the flag carries the patient). The sort
   * key begins with the claim's first service date, which precedes the flag's creation: read
   * newest first from the flag's day, a few items, so the claim is usually the first evaluated
   * instead of every claim of the patient; the rest of the partition only if it is not there.
   */
  async claim(insuredId: string, claimId: string, flaggedAt: string): Promise<HistoryClaim | undefined> {
    const sortKey = TABLES.claims.sortKey.name;
    const through = `${flaggedAt.slice(0, 10)}\uffff`;
    for (const [range, limit] of [
      [`#sk <= :d`, 4],
      [`#sk > :d`, undefined],
    ] as const) {
      let start: Record<string, unknown> | undefined;
      do {
        const answer = await this.client.send(
          new QueryCommand({
            TableName: this.tables.claims,
            KeyConditionExpression: `#pk = :p AND ${range}`,
            FilterExpression: 'claimId = :c',
            // Only the history JSON: the item's copy of the whole claim (for the post-event audit) is as large again.
            ProjectionExpression: '#h',
            ExpressionAttributeNames: {
              '#pk': TABLES.claims.partitionKey.name,
              '#sk': sortKey,
              '#h': HISTORY_ATTRIBUTE,
            },
            ExpressionAttributeValues: { ':p': insuredId, ':c': claimId, ':d': through },
            ScanIndexForward: false,
            ...(limit && !start ? { Limit: limit } : {}),
            ExclusiveStartKey: start,
          }),
        );
        const item = answer.Items?.[0];
        if (item) return readHistory(item);
        start = answer.LastEvaluatedKey;
      } while (start);
    }
    return undefined;
  }

  /**
   * Writes a transition if the flag is still at the version it was computed from; returns false
   * when another decision got there first (the caller re-reads and answers 409).
   */
  async transition(item: FlagItem, from: ReviewState, transition: Transition): Promise<boolean> {
    const { next, entry, dueAt } = transition;
    // The flag leaves its status's counters and joins the next one's, in the same transaction.
    const counted = countedOf(item);
    const deltas = addCounted(new Map(), counted, -1);
    addCounted(deltas, { ...counted, status: next.status, enteredAt: next.enteredAt }, 1);
    const sets = [
      '#status = :to',
      'reviewVersion = :version',
      'enteredAt = :at',
      'enteredAtFlagId = :atFlag',
      'trail = list_append(if_not_exists(trail, :none), :entry)',
      ...(dueAt ? ['dueAt = :due'] : []),
    ];
    try {
      await writeCounted(
        this.client,
        this.tables.flags,
        {
          Update: {
            TableName: this.tables.flags,
            Key: { flagId: from.flagId },
            UpdateExpression: `SET ${sets.join(', ')}${dueAt ? '' : ' REMOVE dueAt'}`,
            ConditionExpression:
              // A correction superseding the flag meanwhile refuses the decision, as a newer version does.
              from.version === 0
                ? 'attribute_exists(flagId) AND attribute_not_exists(reviewVersion) AND #status = :from AND attribute_not_exists(supersededBy)'
                : 'reviewVersion = :expected AND #status = :from AND attribute_not_exists(supersededBy)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':to': next.status,
              ':from': from.status,
              ':version': next.version,
              ':at': next.enteredAt,
              ':atFlag': `${next.enteredAt}#${from.flagId}`,
              ':none': [],
              ':entry': [entry satisfies TrailEntry],
              ...(from.version === 0 ? {} : { ':expected': from.version }),
              ...(dueAt ? { ':due': dueAt } : {}),
            },
          },
        },
        deltas,
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** A subject's scores over periods (base table: `kind#id`, period range), as the post-event stage wrote them. */
  async scores(subject: string, from = '0000-00', to = '9999-99'): Promise<Score[]> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.scores,
        KeyConditionExpression: '#s = :s AND #p BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#s': 'subject', '#p': 'period' },
        ExpressionAttributeValues: { ':s': subject, ':from': from, ':to': to },
        Limit: 120,
      }),
    );
    return (Items ?? []).map(readScore);
  }

  /** Every subject of a kind in one period (the byPeriod index), of one hospital when given. */
  async scoresOfPeriod(period: string, kind: string, hospitalId?: string): Promise<Score[]> {
    const scores: Score[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const answer = await this.client.send(
        new QueryCommand({
          TableName: this.tables.scores,
          IndexName: 'byPeriod',
          KeyConditionExpression: '#p = :p AND begins_with(#s, :kind)',
          ...(hospitalId === undefined ? {} : { FilterExpression: 'hospitalId = :h' }),
          ExpressionAttributeNames: { '#s': 'subject', '#p': 'period' },
          ExpressionAttributeValues: {
            ':p': period,
            ':kind': `${kind}#`,
            ...(hospitalId === undefined ? {} : { ':h': hospitalId }),
          },
          ExclusiveStartKey: start,
        }),
      );
      scores.push(...(answer.Items ?? []).map(readScore));
      start = answer.LastEvaluatedKey;
    } while (start && scores.length < 5_000);
    return scores;
  }
}

/** The ExclusiveStartKey of an item in an index: the table key and the index's keys. */
function indexKey(step: QueryStep, item: FlagItem): Record<string, string> {
  const keys = FLAG_INDEX_KEYS[step.index];
  return stringKey({
    flagId: item.flagId,
    [keys.partition]: item[keys.partition],
    [keys.sort]: item[keys.sort],
  });
}

/** A score item as src/stores/post-event.ts writes it: the Score contract as JSON in `score`. */
const readScore = (item: Record<string, unknown>): Score =>
  parseJsonContract(Score, 'stored score', String(item.score));

function stringKey(key: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(key).map(([k, v]) => [k, String(v)]));
}
