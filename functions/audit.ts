import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { z } from 'zod';
import { parseContract } from '../src/contracts/issues.ts';
import { loadAuditCore } from '../src/post/audit.ts';
import {
  type AuditJobDeps,
  auditSegment,
  MapInput,
  MapOutput,
  PlanInput,
  planAudit,
  ReduceInput,
  type ReduceOutput,
  reduceSegments,
} from '../src/stores/audit-job.ts';
import { S3PartialStore } from '../src/stores/partials-s3.ts';
import { documents } from './commons/clients.ts';
import { logger, metrics } from './commons/observability.ts';

/**
 * The post-event audit function, invoked by the audit state machine: `plan` picks the period and
 * the scan segments, a batch of segments (the map state's item batcher) audits them, `reduce`
 * merges their partials and writes scores. Thin: parse, call the job, report.
 */
export const AuditEvent = z.union([
  PlanInput.extend({ step: z.literal('plan') }),
  // The Distributed Map's item batcher: a few segments per invocation, the shared fields once.
  z.strictObject({
    Items: z.array(z.strictObject({ segment: MapInput.shape.segment })).min(1),
    BatchInput: MapInput.omit({ segment: true }).extend({ step: z.literal('map') }),
  }),
  // The map state's results: one list of segment outputs per batch.
  ReduceInput.extend({ step: z.literal('reduce'), segments: z.array(z.array(MapOutput)).min(1) }),
]);

const Env = z.object({
  CLAIMS_TABLE: z.string().min(1),
  DECISIONS_TABLE: z.string().min(1),
  FLAGS_TABLE: z.string().min(1),
  SCORES_TABLE: z.string().min(1),
  AUDIT_BUCKET: z.string().min(1),
});

export function createAuditHandler(deps: AuditJobDeps) {
  return async (event: unknown): Promise<ReturnType<typeof planAudit> | MapOutput[] | ReduceOutput> => {
    const parsed = parseContract(AuditEvent, 'audit event', event);
    if ('Items' in parsed) {
      const { step: _, ...shared } = parsed.BatchInput;
      const outputs: MapOutput[] = [];
      for (const { segment } of parsed.Items) {
        const out = await auditSegment({ ...shared, segment }, deps);
        metrics.addMetric('auditClaims', MetricUnit.Count, out.claims);
        metrics.addMetric('auditFlagsWritten', MetricUnit.Count, out.flagsWritten);
        if (out.withoutClaim)
          logger.warn('history items without the stored claim were not audited', {
            count: out.withoutClaim,
            segment,
          });
        outputs.push(out);
      }
      return outputs;
    }
    if (parsed.step === 'plan') {
      const { step: _, ...input } = parsed;
      return planAudit(input, deps.now());
    }
    const { step: _, segments, ...rest } = parsed;
    const out = await reduceSegments({ ...rest, segments: segments.flat() }, deps);
    metrics.addMetric('auditScores', MetricUnit.Count, out.scores);
    logger.info('audit reduced', { ...out });
    return out;
  };
}

/** Built once per container (cold start). */
function depsFromEnvironment(): AuditJobDeps {
  const env = parseContract(Env, 'environment', process.env);
  return {
    core: loadAuditCore(),
    documents,
    tables: {
      claims: env.CLAIMS_TABLE,
      decisions: env.DECISIONS_TABLE,
      flags: env.FLAGS_TABLE,
      scores: env.SCORES_TABLE,
    },
    partials: new S3PartialStore(new S3Client({}), env.AUDIT_BUCKET),
    now: () => new Date(),
  };
}

export const handler = middy(createAuditHandler(depsFromEnvironment()))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
