import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { DynamoAlertsStore } from '../src/api/alerts-dynamo.ts';
import { CursorSigner, cursorSecretFrom } from '../src/api/cursor.ts';
import { type ApiDeps, type ApiOutcome, createApiHandler } from '../src/api/handler.ts';
import { byAuthorizerContext } from '../src/api/identity.ts';
import { ApiEnv, parseEnvironment } from '../src/config.ts';
import { DynamoHistoryStore } from '../src/stores/dynamo.ts';
import { documents } from './commons/clients.ts';
import { logger, metrics } from './commons/observability.ts';
import { activeRuleSet } from './commons/rules.ts';

/** Per request: how many, how fast, how they ended; per prescreen, the verdict. */
function observe({ route, status, latencyMs, verdict }: ApiOutcome): void {
  metrics.addMetric(`${route}_${Math.floor(status / 100)}xx`, MetricUnit.Count, 1);
  metrics.addMetric(`${route}Latency`, MetricUnit.Milliseconds, latencyMs);
  if (verdict) metrics.addMetric(`verdict_${verdict}`, MetricUnit.Count, 1);
}

/** Dependencies from the environment, built once per container (cold start). */
function depsFromEnvironment(): ApiDeps {
  const config = parseEnvironment(ApiEnv);
  return {
    screener: activeRuleSet(config),
    history: new DynamoHistoryStore(documents, config.CLAIMS_TABLE),
    alerts: new DynamoAlertsStore(documents, {
      flags: config.FLAGS_TABLE,
      decisions: config.DECISIONS_TABLE,
    }),
    // Every route sits behind the Lambda authorizer (infra/api.ts), which has checked the key.
    authenticate: byAuthorizerContext(),
    cursors: new CursorSigner(cursorSecretFrom(config.CURSOR_SECRET)),
    logger,
    observe,
  };
}

/**
 * The pre-event API behind API Gateway (HTTP API, payload v2). The routes, the problem answers
 * and the catch-all live in createApiHandler; this file only wires it to AWS. Its own early
 * timeout is off: the inner handler's answers a late request with a 503 problem.
 */
export const handler = middy(createApiHandler(depsFromEnvironment()), { timeoutEarlyInMillis: 0 })
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
