import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { ParsedRecord } from '@aws-lambda-powertools/batch/types';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InProcessEnv, parseEnvironment } from '../src/config.ts';
import { Claim } from '../src/contracts/claim.ts';
import { type InProcessDeps, processClaims } from '../src/pipeline/in-process.ts';
import { ClaimIdTakenError, DynamoHistoryStore, DynamoOutcomeStore } from '../src/stores/dynamo.ts';
import { sqsAlertSender } from './commons/alerts.ts';
import { documents, dynamo, sqs } from './commons/clients.ts';
import { logger, metrics } from './commons/observability.ts';
import { activeRuleSet } from './commons/rules.ts';

type ClaimRecord = ParsedRecord<SQSRecord, Claim>;

/**
 * The SQS record with its body parsed as JSON and checked against Claim v1, built once: given only
 * the inner schema, the batch parser would rebuild (and recompile) this schema for every record.
 */
const ClaimRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(Claim) });

/**
 * The in-process stage as an SQS batch handler. Powertools parses each record against Claim v1: a
 * poison message fails only itself and, after maxReceiveCount, sits in the DLQ with its reason in
 * the logs. The valid claims are then processed together (one history read per patient, batched
 * writes); a claim that could not be written is reported failed on its own, so only it is retried.
 */
export function createInProcessHandler(
  deps: InProcessDeps & { alerts: { registerContext?(context: Context): void } },
) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // A processor holds one batch's records and failures: one per invocation, so batches handled
    // concurrently in one process (the local poller) never mix.
    const processor = new BatchProcessor(EventType.SQS, { parser, schema: ClaimRecordSchema, logger });
    deps.alerts.registerContext?.(context);
    const parsed = new Map<string, Claim>();
    const response = await processPartialResponse(
      event,
      async (record: ClaimRecord) => {
        parsed.set(record.messageId, record.body);
      },
      processor,
      { context },
    );
    processor.errors.forEach((error, i) => {
      const record = processor.failureMessages[i] as SQSRecord | undefined;
      logger.warn('claim failed', { messageId: record?.messageId, reason: describe(error) });
    });

    const started = performance.now();
    const { processed, failed } = await processClaims([...parsed.values()], deps);
    const failedClaims = new Set(failed.map((f) => f.claimId));
    for (const { claimId, error } of failed)
      logger.warn('claim failed', { claimId, reason: describe(error) });
    // A new response: Powertools may hand back its shared default object, which must never be mutated.
    // Records that can never be decided (not a Claim v1, or another hospital's claim id) fail
    // alone; a claim that failed for a reason a retry may cure holds its patient's later claims.
    const refused = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const retried = new Set<string>();
    const refusedClaims = new Set(
      failed.filter((f) => f.error instanceof ClaimIdTakenError).map((f) => f.claimId),
    );
    for (const [messageId, claim] of parsed) {
      if (refusedClaims.has(claim.claimId)) refused.add(messageId);
      else if (failedClaims.has(claim.claimId)) retried.add(messageId);
    }
    const batchItemFailures = [...refused, ...withLaterOfGroup(event.Records, retried, refused)].map(
      (itemIdentifier) => ({ itemIdentifier }),
    );

    const elapsed = performance.now() - started;
    metrics.addMetric('claimsProcessed', MetricUnit.Count, processed.length);
    metrics.addMetric('claimsFailed', MetricUnit.Count, failed.length + processor.errors.length);
    metrics.addMetric('batchLatency', MetricUnit.Milliseconds, elapsed);
    for (const { decision, flags, result } of processed) {
      metrics.addMetric(`decision_${decision.outcome}`, MetricUnit.Count, 1);
      if (result === 'duplicate') metrics.addMetric('duplicateClaims', MetricUnit.Count, 1);
      for (const flag of flags) metrics.addMetric(`flags_${flag.ruleId}`, MetricUnit.Count, 1);
    }
    logger.debug('batch decided', { claims: processed.length, failed: failed.length, ms: elapsed });
    return { batchItemFailures };
  };
}

/**
 * On a FIFO queue a claim retried must take every later claim of its group (its patient) with it,
 * as Lambda requires: otherwise the later claim is decided without the earlier one in its history.
 * A refused record holds nothing back: it will never be decided, so nothing waits for it (and its
 * neighbours are not dead-lettered with it). Records without a group (a standard queue) fail alone.
 */
function withLaterOfGroup(
  records: readonly SQSRecord[],
  retried: ReadonlySet<string>,
  refused: ReadonlySet<string>,
): string[] {
  const failedGroups = new Set<string>();
  const ids: string[] = [];
  for (const record of records) {
    if (refused.has(record.messageId)) continue;
    const group = record.attributes.MessageGroupId;
    if (retried.has(record.messageId) || (group !== undefined && failedGroups.has(group))) {
      ids.push(record.messageId);
      if (group !== undefined) failedGroups.add(group);
    }
  }
  return ids;
}

function describe(error: Error): string {
  const cause = error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined;
  if (cause?.issues) return cause.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return `${error.name}: ${error.message}`;
}

/** Dependencies from the environment, built once per container (cold start). */
function depsFromEnvironment(): InProcessDeps {
  const config = parseEnvironment(InProcessEnv);
  return {
    screener: activeRuleSet(config),
    history: new DynamoHistoryStore(documents, config.CLAIMS_TABLE),
    outcomes: new DynamoOutcomeStore(documents, {
      claims: config.CLAIMS_TABLE,
      decisions: config.DECISIONS_TABLE,
      flags: config.FLAGS_TABLE,
    }),
    alerts: sqsAlertSender({
      sqs,
      queueUrl: config.ALERTS_QUEUE_URL,
      dynamo,
      idempotencyTable: config.IDEMPOTENCY_TABLE,
    }),
  };
}

export const handler = middy(createInProcessHandler(depsFromEnvironment()))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
