import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Flag } from '../contracts/flag.ts';
import { parseContract } from '../contracts/issues.ts';
import { indexOf, TABLES } from '../resources.ts';
import { readDecisions } from '../stores/dynamo.ts';
import type { AlertsPage, AlertsPosition, AlertsQuery, AlertsStore } from './alerts.ts';

const BY_HOSPITAL = indexOf('flags', 'byHospital');
const FLAG_KEY = TABLES.flags.partitionKey.name;
const HOSPITAL_KEY = BY_HOSPITAL.partitionKey.name;
const TIME_KEY = BY_HOSPITAL.sortKey.name;

/** The alerts a hospital pulls are the in-process stage's; other stages' flags are for auditors. */
const ALERT_STAGE: Flag['stage'] = 'in';

/** BatchGetItem takes 100 keys a call. */

/**
 * A hospital's alerts from the flags table's byHospital index (pk hospitalId, sk
 * `createdAt#flagId`), newest first. Flags of other stages are filtered out, and so is every flag
 * its claim's decision does not list: the in-process stage writes a claim's flags before its
 * decision (the commit marker, docs/dynamodb.md), so a flag without one belongs to a claim still
 * being written or to an attempt that failed, and is no alert. Each Query evaluates at most the
 * items still wanted, so the position after the last one is exact for the next page.
 */
export class DynamoAlertsStore implements AlertsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { flags: string; decisions: string },
  ) {}

  async listForHospital(query: AlertsQuery): Promise<AlertsPage> {
    const flags: Flag[] = [];
    let start = query.after ? toKey(query.after) : undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.flags,
          IndexName: BY_HOSPITAL.indexName,
          KeyConditionExpression:
            query.since === undefined ? '#hospital = :hospital' : '#hospital = :hospital AND #time >= :since',
          FilterExpression: '#stage = :stage',
          ExpressionAttributeNames: {
            '#hospital': HOSPITAL_KEY,
            '#stage': 'stage',
            ...(query.since === undefined ? {} : { '#time': TIME_KEY }),
          },
          ExpressionAttributeValues: {
            ':hospital': query.hospitalId,
            ':stage': ALERT_STAGE,
            ...(query.since === undefined ? {} : { ':since': query.since }),
          },
          ScanIndexForward: false,
          Limit: query.limit - flags.length,
          ExclusiveStartKey: start,
        }),
      );
      const items = page.Items ?? [];
      const committed = await this.#committedFlagIds(items.map((item) => String(item.claimId)));
      for (const item of items) {
        if (!committed.has(String(item[FLAG_KEY]))) continue;
        // Index keys and the review state (src/review/) live beside the flag on its item.
        const flag = Object.fromEntries(Object.entries(item).filter(([name]) => name in Flag.shape));
        flags.push(parseContract(Flag, 'stored flag', flag));
      }
      start = page.LastEvaluatedKey;
    } while (start && flags.length < query.limit);
    return start ? { flags, next: fromKey(start) } : { flags };
  }

  /** The flag ids the decisions of these claims list, their superseded versions' included. */
  async #committedFlagIds(claimIds: readonly string[]): Promise<Set<string>> {
    const decisions = await readDecisions(this.client, this.tables.decisions, claimIds, {
      projection: 'flagIds, superseded',
    });
    return new Set(decisions.flatMap(listedFlagIds));
  }
}

/** A stored decision's `flagIds` and its superseded versions' (both JSON, src/stores/dynamo.ts). */
function listedFlagIds(decision: Record<string, unknown>): string[] {
  const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : []);
  const current = json(decision.flagIds) as string[];
  const superseded = json(decision.superseded) as { flagIds?: string[] }[];
  return [...current, ...superseded.flatMap((s) => s.flagIds ?? [])];
}

const toKey = (position: AlertsPosition): Record<string, string> => ({
  [FLAG_KEY]: position.flagId,
  [HOSPITAL_KEY]: position.hospitalId,
  [TIME_KEY]: position.createdAtFlagId,
});

function fromKey(key: Record<string, unknown>): AlertsPosition {
  const flagId = key[FLAG_KEY];
  const hospitalId = key[HOSPITAL_KEY];
  const createdAtFlagId = key[TIME_KEY];
  if (typeof flagId !== 'string' || typeof hospitalId !== 'string' || typeof createdAtFlagId !== 'string')
    throw new TypeError(
      `unexpected LastEvaluatedKey from the byHospital index: ${Object.keys(key).join(', ')}`,
    );
  return { flagId, hospitalId, createdAtFlagId };
}
