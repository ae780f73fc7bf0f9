import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Flag } from '../contracts/flag.ts';
import { parseContract } from '../contracts/issues.ts';
import { indexOf, TABLES } from '../resources.ts';
import type { AlertsPage, AlertsPosition, AlertsQuery, AlertsStore } from './alerts.ts';

const BY_HOSPITAL = indexOf('flags', 'byHospital');
const FLAG_KEY = TABLES.flags.partitionKey.name;
const HOSPITAL_KEY = BY_HOSPITAL.partitionKey.name;
const TIME_KEY = BY_HOSPITAL.sortKey.name;

/** The alerts a hospital pulls are the in-process stage's; other stages' flags are for auditors. */
const ALERT_STAGE: Flag['stage'] = 'in';

/**
 * A hospital's alerts from the flags table's byHospital index (pk hospitalId, sk
 * `createdAt#flagId`), newest first. Flags of other stages are filtered out; each Query evaluates at
 * most the items still wanted, so the position after the last one is exact for the next page.
 */
export class DynamoAlertsStore implements AlertsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listForHospital(query: AlertsQuery): Promise<AlertsPage> {
    const flags: Flag[] = [];
    let start = query.after ? toKey(query.after) : undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
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
      for (const item of page.Items ?? []) {
        // Index keys and the review state (src/review/) live beside the flag on its item.
        const flag = Object.fromEntries(Object.entries(item).filter(([name]) => name in Flag.shape));
        flags.push(parseContract(Flag, 'stored flag', flag));
      }
      start = page.LastEvaluatedKey;
    } while (start && flags.length < query.limit);
    return start ? { flags, next: fromKey(start) } : { flags };
  }
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
