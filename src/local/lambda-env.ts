import type { EnvironmentOf, InProcessEnv } from '../config.ts';
import { type Endpoints, LOCAL_REGION } from './emulators.ts';
import type { LocalResources } from './provisioning.ts';

/**
 * The environment the in-process function reads in AWS (src/config.ts; set by infra/stack.ts), pointed at the local
 * stand-ins. The SDK's own AWS_ENDPOINT_URL_* variables redirect every client, so the functions
 * run unchanged. Set it before importing a function module: handlers read it at cold start.
 */
export function lambdaEnvironment(
  endpoints: Endpoints,
  resources: LocalResources,
  // Shorter than AWS's 30 s, so that a publish shows in the demo and the tests within seconds.
  ruleSetCheckSeconds = 5,
): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    // The project's own rules/: FUNDGUARD_RULES_DIR stays unset.
    ...({
      CLAIMS_TABLE: resources.tables.claims,
      DECISIONS_TABLE: resources.tables.decisions,
      FLAGS_TABLE: resources.tables.flags,
      SCORES_TABLE: resources.tables.scores,
      IDEMPOTENCY_TABLE: resources.tables.idempotency,
      ALERTS_QUEUE_URL: resources.queues.alerts.url,
      RULE_SETS_TABLE: resources.tables.ruleSets,
      RULE_SET_CHECK_SECONDS: String(ruleSetCheckSeconds),
    } satisfies Omit<EnvironmentOf<typeof InProcessEnv>, 'FUNDGUARD_RULES_DIR'>),
  };
}

export function applyEnvironment(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}
