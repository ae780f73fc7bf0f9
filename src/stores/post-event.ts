import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Claim, ClaimOfBoundedJson, claimJsonWithinLimit } from '../contracts/claim.ts';
import type { PostFlag } from '../contracts/flag.ts';
import { parseContract } from '../contracts/issues.ts';
import { Score } from '../contracts/score.ts';
import { addDays } from '../dates.ts';
import { TABLES } from '../resources.ts';
import { addCounted, countedOf, writeCounted } from '../review/counts.ts';
import { writeInBatches } from './batch.ts';
import { CLAIM_ATTRIBUTE, flagItem, readDecisions } from './dynamo.ts';

/**
 * The audit's DynamoDB side: one parallel-scan segment of the claims table (a patient's claims all
 * lie in one segment, the table's partition key being the patient), flags written once, scores.
 */

/** Longest stay looked back over, as the history store does, so a stay begun earlier still counts. */
const MAX_STAY_DAYS = 90;
const PUT_CONCURRENCY = 16;

export interface SegmentRead {
  /** The segment's claims, by patient. */
  patients: Claim[][];
  /** History items written before the claims table kept the whole claim: not auditable, counted. */
  withoutClaim: number;
}

/** First day of a `YYYY-MM` period and the last. */
export function periodRange(period: string): { from: string; to: string } {
  const from = `${period}-01`;
  const next = addDays(`${period}-28`, 4).slice(0, 7);
  return { from, to: addDays(`${next}-01`, -1) };
}

/**
 * The claims of one scan segment whose first service date lies in the period or the `lookbackDays`
 * before it (the patient's history the period rules and the rerun claim rules need).
 */
export async function readSegment(
  client: DynamoDBDocumentClient,
  table: string,
  segment: { segment: number; totalSegments: number; period: string; lookbackDays: number },
): Promise<SegmentRead> {
  const { from, to } = periodRange(segment.period);
  const byPatient = new Map<string, Claim[]>();
  let withoutClaim = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        Segment: segment.segment,
        TotalSegments: segment.totalSegments,
        FilterExpression: '#service BETWEEN :from AND :to',
        ProjectionExpression: 'claimId, #claim',
        ExpressionAttributeNames: { '#claim': CLAIM_ATTRIBUTE, '#service': TABLES.claims.sortKey.name },
        ExpressionAttributeValues: {
          ':from': addDays(from, -(segment.lookbackDays + MAX_STAY_DAYS)),
          ':to': `${to}#\uffff`,
        },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const stored = item[CLAIM_ATTRIBUTE];
      if (typeof stored !== 'string') {
        withoutClaim += 1;
        continue;
      }
      // Stored as JSON.stringify wrote it: its length bounds the claim's size as JSON.
      const schema = claimJsonWithinLimit(Buffer.byteLength(stored)) ? ClaimOfBoundedJson : Claim;
      const claim = parseContract(schema, `stored claim ${String(item.claimId)}`, JSON.parse(stored));
      const list = byPatient.get(claim.patient.insuredId);
      if (list) list.push(claim);
      else byPatient.set(claim.patient.insuredId, [claim]);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { patients: [...byPatient.values()], withoutClaim };
}

/**
 * The version of each claim as the in-process stage recorded it (a hospital's correction of a
 * claim is version 2, 3, …), keyed `hospitalId/claimId`, for the claims given: the decisions table
 * holds it. A claim without a decision there (audited from elsewhere) is left out, i.e. version 1.
 */
export async function readClaimVersions(
  client: DynamoDBDocumentClient,
  table: string,
  claims: readonly { claimId: string; hospitalId: string }[],
): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  const wanted = new Set(claims.map((c) => `${c.hospitalId}/${c.claimId}`));
  const key = TABLES.decisions.partitionKey.name;
  const decisions = await readDecisions(
    client,
    table,
    claims.map((c) => c.claimId),
    { projection: '#id, hospitalId, version', names: { '#id': key } },
  );
  for (const item of decisions) {
    const at = `${String(item.hospitalId)}/${String(item[key])}`;
    if (wanted.has(at)) versions.set(at, Number(item.version ?? 1));
  }
  return versions;
}

/**
 * Writes post flags that are not there yet. A flag with the id of one already written — the
 * in-process flag of the same claim, rule, version and lines, or this audit run before — is left
 * as it is, review state and all: a conditional put, so two audits at once cannot both write it.
 */
export async function writeNewFlags(
  client: DynamoDBDocumentClient,
  table: string,
  flags: readonly PostFlag[],
): Promise<{ written: number; alreadyThere: number }> {
  let written = 0;
  let alreadyThere = 0;
  const queue = [...flags];
  const worker = async (): Promise<void> => {
    for (let flag = queue.shift(); flag; flag = queue.shift()) {
      try {
        // Counted for the review API (src/review/counts.ts) in the same transaction as the put.
        await writeCounted(
          client,
          table,
          {
            Put: {
              TableName: table,
              Item: flagItem(flag),
              ConditionExpression: 'attribute_not_exists(flagId)',
            },
          },
          addCounted(new Map(), countedOf(flag), 1),
        );
        written += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        alreadyThere += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker));
  return { written, alreadyThere };
}

/** The scores of a period, one item per subject: `subject` = `kind#id`, `period`, the score as JSON. */
export async function writeScores(
  client: DynamoDBDocumentClient,
  table: string,
  scores: readonly Score[],
): Promise<void> {
  await writeInBatches(
    client,
    table,
    scores.map((s) => ({
      PutRequest: {
        Item: {
          subject: `${s.kind}#${s.id}`,
          period: s.period,
          hospitalId: s.hospitalId,
          composite: s.composite,
          cases: s.cases,
          score: JSON.stringify(s),
        },
      },
    })),
    1,
  );
}

/** A hospital's or doctor's scores over periods (access pattern 9). */
export async function readScores(
  client: DynamoDBDocumentClient,
  table: string,
  subject: { kind: 'hospital' | 'doctor'; id: string },
  from: string,
  to: string,
): Promise<Score[]> {
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'subject = :s AND period BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':s': `${subject.kind}#${subject.id}`, ':from': from, ':to': to },
    }),
  );
  return (page.Items ?? []).map((item) =>
    parseContract(Score, 'stored score', JSON.parse(String(item.score))),
  );
}

/** Every score of a period, lowest composite first (the local demo's scorecard; a scan: scores are few). */
export async function readPeriodScores(
  client: DynamoDBDocumentClient,
  table: string,
  period: string,
): Promise<Score[]> {
  const scores: Score[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#period = :p',
        ExpressionAttributeNames: { '#period': 'period' },
        ExpressionAttributeValues: { ':p': period },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? [])
      scores.push(parseContract(Score, 'stored score', JSON.parse(String(item.score))));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return scores.sort(
    (a, b) => a.composite - b.composite || a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id),
  );
}
