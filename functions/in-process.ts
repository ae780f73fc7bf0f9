import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { ParsedRecord } from '@aws-lambda-powertools/batch/types';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig } from '../src/config.ts';
import { Claim } from '../src/contracts/claim.ts';
import { loadCore } from '../src/core.ts';
import { type InProcessDeps, processClaim } from '../src/pipeline/in-process.ts';
import { DynamoHistoryStore, DynamoOutcomeStore } from '../src/stores/dynamo.ts';
import { sqsAlertSender } from './commons/alerts.ts';
import { documents, dynamo, sqs } from './commons/clients.ts';
import { logger, metrics } from './commons/observability.ts';

type ClaimRecord = ParsedRecord<SQSRecord, Claim>;

/**
 * The in-process stage as an SQS batch handler. Each record is parsed against Claim v1 (a poison
 * message fails only itself and, after maxReceiveCount, sits in the DLQ) and then processed by the
 * core; failures are reported per record so the rest of the batch is not retried.
 */
export function createInProcessHandler(deps: InProcessDeps) {
  const processor = new BatchProcessor(EventType.SQS, {
    parser,
    innerSchema: Claim,
    transformer: 'json',
    logger,
  });

  const recordHandler = async (record: ClaimRecord): Promise<void> => {
    const started = performance.now();
    const { result, decision, flags } = await processClaim(record.body, deps);
    metrics.addMetric('claimsProcessed', MetricUnit.Count, 1);
    metrics.addMetric(`decision_${decision.outcome}`, MetricUnit.Count, 1);
    if (result === 'duplicate') metrics.addMetric('duplicateClaims', MetricUnit.Count, 1);
    metrics.addMetric('flags', MetricUnit.Count, flags.length);
    metrics.addMetric('claimLatency', MetricUnit.Milliseconds, performance.now() - started);
    logger.debug('claim decided', {
      claimId: decision.claimId,
      outcome: decision.outcome,
      flags: flags.length,
      result,
    });
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(event, recordHandler, processor, { context });
    processor.errors.forEach((error, i) => {
      const record = processor.failureMessages[i] as SQSRecord | undefined;
      // Poison or failed claims stay visible in the logs with the reason; the queue redrives them.
      logger.warn('claim failed', { messageId: record?.messageId, reason: describe(error) });
    });
    return response;
  };
}

function describe(error: Error): string {
  const cause = error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined;
  if (cause?.issues) return cause.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return `${error.name}: ${error.message}`;
}

/** Dependencies from the environment, built once per container (cold start). */
function depsFromEnvironment(): InProcessDeps {
  const config = loadConfig();
  const { screener } = loadCore();
  return {
    screener,
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
