/**
 * The pre-event API of the local stack: the handler the Lambda runs, against DynamoDB Local, behind
 * the loopback server (api-server.ts) with a local key per hospital (api-keys.ts).
 */
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAlertsStore } from '../api/alerts-dynamo.ts';
import { CURSOR_SECRET_FILE, CursorSigner, localCursorSecret } from '../api/cursor.ts';
import { type ApiLogger, createApiHandler } from '../api/handler.ts';
import { byApiKey } from '../api/identity.ts';
import { loadCore } from '../core.ts';
import { HOSPITALS } from '../generator/world.ts';
import type { TableName } from '../resources.ts';
import { ActiveRuleSet, type ScreenerOrSource } from '../rules/active.ts';
import { DynamoHistoryStore, documentClient } from '../stores/dynamo.ts';
import { RuleSetVersions } from '../stores/rule-sets.ts';
import { curlExamples } from './api-examples.ts';
import { ensureLocalKeys } from './api-keys.ts';
import { startApiServer } from './api-server.ts';
import { type Endpoints, localClientConfig } from './emulators.ts';

export interface LocalApiOptions {
  endpoints: Pick<Endpoints, 'dynamodb'>;
  /** Physical table names (createResources' `tables`); the API reads claims, flags, decisions and rule sets. */
  tables: Pick<Record<TableName, string>, 'claims' | 'flags' | 'decisions' | 'ruleSets'>;
  /** Where the local keys live; default `.fundguard` in the working directory. */
  stateDir?: string;
  /** Default: a free port. */
  port?: number;
  /** Share the caller's screener or active rule set (one load); default the active published set. */
  screener?: ScreenerOrSource;
  /** How long a check of the active rule set is trusted (5 s locally; AWS: 30 s). */
  ruleSetCheckSeconds?: number;
  /** Default: a Powertools logger, made at start so it honours the environment the caller set. */
  logger?: ApiLogger;
}

export interface LocalApi {
  url: string;
  /** hospitalId → API key. */
  keys: Record<string, string>;
  /** A prescreen of a draft with an over-long supply, ready to paste. */
  curlExample: string;
  /** The alerts listing of the same hospital, ready to paste. */
  alertsCurlExample: string;
  stop(): Promise<void>;
}

/** The pre-event API on loopback against the local DynamoDB, with local keys for every hospital. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const stateDir = resolve(options.stateDir ?? '.fundguard');
  const local = ensureLocalKeys(stateDir);
  const dynamodb = new DynamoDBClient(localClientConfig(options.endpoints.dynamodb));
  const documents = documentClient(dynamodb);
  const logger = options.logger ?? new Logger({ serviceName: 'fundguard-api' });
  const screener =
    options.screener ??
    new ActiveRuleSet(new RuleSetVersions(documents, options.tables.ruleSets), loadCore(), {
      checkEveryMs: (options.ruleSetCheckSeconds ?? 5) * 1000,
      log: new Logger({ serviceName: 'fundguard-api' }),
    });
  const handler = createApiHandler({
    screener,
    history: new DynamoHistoryStore(documents, options.tables.claims),
    alerts: new DynamoAlertsStore(documents, options.tables),
    authenticate: byApiKey(local.keyring),
    cursors: new CursorSigner(localCursorSecret(join(stateDir, CURSOR_SECRET_FILE))),
    logger,
  });
  const server = await startApiServer({
    handler,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const hospitalId = HOSPITALS[0]?.hospitalId ?? Object.keys(local.keys)[0] ?? '';
  const examples = curlExamples(server.url, hospitalId, local.keys[hospitalId] ?? '');
  return {
    url: server.url,
    keys: local.keys,
    curlExample: examples.prescreen,
    alertsCurlExample: examples.alerts,
    stop: async () => {
      await server.stop();
      dynamodb.destroy();
    },
  };
}
