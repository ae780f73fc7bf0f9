import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Claim } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { addDays } from '../dates.ts';
import { type HistoryClaim, type HistoryStore, toHistoryClaim } from '../history/store.ts';
import type { Decision } from '../rules/screen.ts';

/** Longest stay we look back over so a claim that began before the window still counts. */
const MAX_STAY_DAYS = 90;

/** History from the claims table: one Query on the patient's partition, by service date. */
export class DynamoHistoryStore implements HistoryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claimsFor(insuredId: string, from: string, to: string): Promise<HistoryClaim[]> {
    const claims: HistoryClaim[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'insuredId = :p AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':p': insuredId,
            ':from': addDays(from, -MAX_STAY_DAYS),
            ':to': `${to}#\uffff`,
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const claim = item.history as HistoryClaim;
        if (claim.lastServiceDate >= from) claims.push(claim);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return claims;
  }
}

export interface ClaimOutcome {
  claim: Claim;
  decision: Decision;
  flags: Flag[];
  decidedAt: string;
}

/** DynamoDB allows 100 items a transaction: the claim, its decision and up to 98 flags. */
const FLAGS_PER_TRANSACTION = 98;

export type RecordResult = 'written' | 'duplicate';

export interface OutcomeTables {
  claims: string;
  decisions: string;
  flags: string;
}

/**
 * Writes a claim's outcome once. The history item, the decision and the flags go in one
 * transaction, each conditional on not existing, so a redelivered or duplicated claim (or a retry
 * after a crash) writes nothing new and a half-written claim is impossible.
 */
export class DynamoOutcomeStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: OutcomeTables,
  ) {}

  async record({ claim, decision, flags, decidedAt }: ClaimOutcome): Promise<RecordResult> {
    const history = toHistoryClaim(claim);
    const highest = highestSeverity(flags);
    const first = flags.slice(0, FLAGS_PER_TRANSACTION);
    let result: RecordResult = 'written';
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.claims,
                Item: {
                  insuredId: history.insuredId,
                  sk: `${history.firstServiceDate}#${claim.claimId}`,
                  claimId: claim.claimId,
                  hospitalPeriod: `${claim.hospital.hospitalId}#${history.firstServiceDate.slice(0, 7)}`,
                  doctorId: claim.doctorId,
                  amount: claim.totals.amount,
                  history,
                },
                ConditionExpression: 'attribute_not_exists(insuredId)',
              },
            },
            {
              Put: {
                TableName: this.tables.decisions,
                Item: {
                  ...decision,
                  hospitalId: claim.hospital.hospitalId,
                  flagCount: flags.length,
                  highestSeverity: highest,
                  decidedAt,
                },
                ConditionExpression: 'attribute_not_exists(claimId)',
              },
            },
            ...first.map((flag) => ({ Put: this.#flagPut(flag) })),
          ],
        }),
      );
    } catch (error) {
      const duplicate =
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed');
      if (!duplicate) throw error;
      result = 'duplicate';
    }
    // Flags beyond one transaction: each conditional, so a retry after a crash fills in the gaps.
    for (const flag of flags.slice(FLAGS_PER_TRANSACTION)) {
      try {
        await this.client.send(new PutCommand(this.#flagPut(flag)));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return result;
  }

  #flagPut(flag: Flag) {
    return {
      TableName: this.tables.flags,
      Item: { ...flag, createdAtFlagId: `${flag.createdAt}#${flag.flagId}` },
      ConditionExpression: 'attribute_not_exists(flagId)',
    };
  }
}

const SEVERITY_RANK = { low: 0, medium: 1, high: 2 } as const;

export function highestSeverity(flags: readonly Flag[]): Flag['severity'] | null {
  let best: Flag['severity'] | null = null;
  for (const f of flags) if (!best || SEVERITY_RANK[f.severity] > SEVERITY_RANK[best]) best = f.severity;
  return best;
}
