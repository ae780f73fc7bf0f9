import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Aggregates } from '../post/aggregates.ts';
import { type AuditCore, auditContext, mapPatients, reduceFrom, withClaimVersions } from '../post/audit.ts';
import { readClaimVersions, readSegment, writeNewFlags, writeScores } from './post-event.ts';

/**
 * The audit as a job over the claims table: a map step per parallel-scan segment and one reduce
 * step. The Step Functions state machine (infra/audit.ts), the local stack and the integration test
 * run these two functions and nothing else; the state machine only fans out and collects.
 */

/** Where a map step leaves its partial aggregates for the reduce step (S3 in AWS, memory locally). */
export interface PartialStore {
  put(key: string, aggregates: Aggregates): Promise<void>;
  get(key: string): Promise<Aggregates>;
}

export class InMemoryPartialStore implements PartialStore {
  readonly #items = new Map<string, string>();
  async put(key: string, aggregates: Aggregates): Promise<void> {
    this.#items.set(key, JSON.stringify(aggregates));
  }
  async get(key: string): Promise<Aggregates> {
    const text = this.#items.get(key);
    if (text === undefined) throw new Error(`no partial aggregates at ${key}`);
    return JSON.parse(text) as Aggregates;
  }
}

export interface AuditJobDeps {
  core: AuditCore;
  documents: DynamoDBDocumentClient;
  /** `decisions`: where the in-process stage recorded each claim's version. */
  tables: { claims: string; decisions: string; flags: string; scores: string };
  partials: PartialStore;
  now: () => Date;
}

const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a period YYYY-MM');
/** A segment count the map state fans out to; DynamoDB allows up to 1,000,000, we bound it at 1,000. */
export const MAX_SEGMENTS = 1000;

export const MapInput = z.strictObject({
  period,
  segment: z.number().int().nonnegative(),
  totalSegments: z.number().int().positive().max(MAX_SEGMENTS),
  /** Names this run's partials (the Step Functions execution name). */
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
});
export type MapInput = z.infer<typeof MapInput>;

export const MapOutput = z.strictObject({
  segment: z.number().int(),
  partialKey: z.string(),
  claims: z.number().int(),
  patients: z.number().int(),
  flagsWritten: z.number().int(),
  flagsAlreadyThere: z.number().int(),
  withoutClaim: z.number().int(),
});
export type MapOutput = z.infer<typeof MapOutput>;

export const ReduceInput = z.strictObject({
  period,
  runId: MapInput.shape.runId,
  segments: z.array(MapOutput).min(1).max(MAX_SEGMENTS),
});
export type ReduceInput = z.infer<typeof ReduceInput>;

export interface ReduceOutput {
  period: string;
  claims: number;
  scores: number;
  subjectFlagsWritten: number;
  subjectFlagsAlreadyThere: number;
  claimFlagsWritten: number;
}

/** Segments an audit fans out to unless the execution input says otherwise. */
export const DEFAULT_SEGMENTS = 64;

export const PlanInput = z.strictObject({
  /** The execution's input: `{}` from the monthly schedule, `{"period": "YYYY-MM"}` on demand. */
  request: z.strictObject({
    /** The period to audit; the month before the run when absent. */
    period: period.optional(),
    totalSegments: z.number().int().positive().max(MAX_SEGMENTS).optional(),
  }),
  runId: MapInput.shape.runId,
});
export type PlanInput = z.infer<typeof PlanInput>;

/** The plan step: which period, and the list of segments the map state fans out over. */
export function planAudit(
  input: PlanInput,
  now: Date,
): { period: string; runId: string; totalSegments: number; segments: number[] } {
  const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))
    .toISOString()
    .slice(0, 7);
  const totalSegments = input.request.totalSegments ?? DEFAULT_SEGMENTS;
  return {
    period: input.request.period ?? previous,
    runId: input.runId,
    totalSegments,
    segments: Array.from({ length: totalSegments }, (_, i) => i),
  };
}

/** Days of history before the period the audit reads: the longest window any post rule looks at. */
export function lookbackDays(core: AuditCore): number {
  const windows = core.periodRules.rules.map((r) => Number(r.file.params.windowDays ?? 0));
  return Math.max(core.ruleSet.historyDays('post'), core.policy.scores.readmissionDays, ...windows);
}

/** The map step: audit one scan segment's patients, write their new flags, leave the partials. */
export async function auditSegment(input: MapInput, deps: AuditJobDeps): Promise<MapOutput> {
  const { patients, withoutClaim } = await readSegment(deps.documents, deps.tables.claims, {
    ...input,
    lookbackDays: lookbackDays(deps.core),
  });
  const mapped = await mapPatients(patients, auditContext(deps.core, input.period, deps.now()));
  const { aggregates } = mapped;
  // Only flagged claims are looked up: the decisions table knows which are corrections.
  const versions = await readClaimVersions(deps.documents, deps.tables.decisions, mapped.flags);
  const flags = withClaimVersions(mapped.flags, versions);
  const { written, alreadyThere } = await writeNewFlags(deps.documents, deps.tables.flags, flags);
  const partialKey = `audits/${input.period}/${input.runId}/segment-${String(input.segment).padStart(4, '0')}.json`;
  await deps.partials.put(partialKey, aggregates);
  return {
    segment: input.segment,
    partialKey,
    claims: aggregates.claims,
    patients: aggregates.patients,
    flagsWritten: written,
    flagsAlreadyThere: alreadyThere,
    withoutClaim,
  };
}

/** The reduce step: merge the segments' partials, flag hospitals and doctors, write the scores. */
export async function reduceSegments(input: ReduceInput, deps: AuditJobDeps): Promise<ReduceOutput> {
  const partials = await Promise.all(input.segments.map((s) => deps.partials.get(s.partialKey)));
  const { flags, scores } = await reduceFrom(partials, deps.core, input.period, deps.now());
  const { written, alreadyThere } = await writeNewFlags(deps.documents, deps.tables.flags, flags);
  await writeScores(deps.documents, deps.tables.scores, scores);
  return {
    period: input.period,
    claims: input.segments.reduce((s, x) => s + x.claims, 0),
    scores: scores.length,
    subjectFlagsWritten: written,
    subjectFlagsAlreadyThere: alreadyThere,
    claimFlagsWritten: input.segments.reduce((s, x) => s + x.flagsWritten, 0),
  };
}

/** Segments a one-process job audits at once: their scans overlap, their claims are held together. */
export const LOCAL_CONCURRENCY = 8;

/**
 * The whole job in one process: the segments' maps, `LOCAL_CONCURRENCY` at a time, then the reduce
 * (local stack, tests, bench). Many small segments read faster than a few large ones: a scan page
 * costs DynamoDB Local more the larger its segment is.
 */
export async function runAuditJob(
  period: string,
  totalSegments: number,
  deps: AuditJobDeps,
  runId = `local-${Date.now()}`,
): Promise<ReduceOutput> {
  const segments: MapOutput[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let segment = next++; segment < totalSegments; segment = next++)
      segments[segment] = await auditSegment({ period, segment, totalSegments, runId }, deps);
  };
  await Promise.all(Array.from({ length: Math.min(LOCAL_CONCURRENCY, totalSegments) }, lane));
  return reduceSegments({ period, runId, segments }, deps);
}
