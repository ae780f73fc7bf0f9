/**
 * The pre-event API on loopback: a node:http server that turns each request into the API Gateway
 * HTTP API event (payload v2) and calls the same handler the Lambda runs, plus the local API keys
 * (random per state directory, hashed like the deployment's) that stand in for the authorizer.
 */

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoAlertsStore } from '../api/alerts-dynamo.ts';
import { type ApiEvent, type ApiHandler, type ApiLogger, createApiHandler } from '../api/handler.ts';
import { API_KEY_HEADER, byApiKey } from '../api/identity.ts';
import { hashKey, issueKey, Keyring, type KeysFile, KeysFileError, readKeysFile } from '../api/keys.ts';
import { matchRoute, ROUTES, routeKey } from '../api/routes.ts';
import { loadCore } from '../core.ts';
import { HOSPITALS } from '../generator/world.ts';
import type { TableName } from '../resources.ts';
import { deepMerge, readBaseClaim } from '../rules/fixtures.ts';
import { defaultRulesDir } from '../rules/load.ts';
import type { Screener } from '../rules/screen.ts';
import { DynamoHistoryStore } from '../stores/dynamo.ts';
import { lambdaContext } from './lambda-context.ts';
import { type Endpoints, localClientConfig } from './services.ts';

const LOOPBACK = '127.0.0.1';

/** API Gateway refuses larger payloads itself (HTTP APIs: 10 MB), before any Lambda runs. */
const GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface ApiServerOptions {
  handler: ApiHandler;
  /** Default: a free port. */
  port?: number;
  functionName?: string;
  /** The handler's time budget (`context.getRemainingTimeInMillis()`); default 6 s, the AWS function's timeout. */
  timeoutMs?: number;
  /** Where a handler that throws is reported (it never should); default console.error. */
  onHandlerError?: (error: unknown) => void;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Serve `handler` on 127.0.0.1 the way API Gateway (HTTP API, payload v2) would call it. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const functionName = options.functionName ?? 'fundguard-local-api';
  const reportError = options.onHandlerError ?? ((error: unknown) => console.error(error));
  const inFlight = new Set<Promise<void>>();
  const server = createServer((request, response) => {
    const served = serve(request, response, options, functionName)
      .catch((error: unknown) => {
        reportError(error);
        // What API Gateway answers when the integration fails.
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal Server Error' });
        else response.destroy();
      })
      .finally(() => inFlight.delete(served));
    inFlight.add(served);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    /** Stops taking requests, lets the ones in flight finish (their DynamoDB calls included), then closes. */
    stop: () => {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        // Keep-alive connections (fetch, autocannon) would otherwise hold close() open.
        server.closeAllConnections();
        await closed;
      })();
      return stopped;
    },
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: ApiServerOptions,
  functionName: string,
): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) {
    sendJson(response, 413, { message: 'Request Entity Too Large' });
    return;
  }
  const event = toEvent(request, body);
  const result = await options.handler(event, lambdaContext(functionName, options.timeoutMs ?? 6_000));
  response.writeHead(result.statusCode, {
    ...Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    ...(result.cookies?.length ? { 'set-cookie': result.cookies } : {}),
  });
  response.end(result.body);
}

/** The body as text, or undefined past API Gateway's payload limit (the rest is not read). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A path parameter as API Gateway passes it: percent-decoded where that is possible. */
function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    // A malformed escape (`%E0`) stays as sent, as API Gateway leaves it.
    if (error instanceof URIError) return raw;
    throw error;
  }
}

/** The API Gateway HTTP API event (payload v2) for a request. */
export function toEvent(request: IncomingMessage, body: string): ApiEvent {
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : url.slice(queryAt + 1);
  const method = (request.method ?? 'GET').toUpperCase();

  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (name === 'cookie' || !values) continue;
    // API Gateway joins repeated headers with commas.
    headers[name] = values.join(',');
  }
  const cookies = (request.headers.cookie ?? '').split(/;\s*/).filter(Boolean);

  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }

  const matched = matchRoute(method, rawPath);
  const pathParameters = matched
    ? Object.fromEntries(Object.entries(matched.pathParameters).map(([k, v]) => [k, decodeParameter(v)]))
    : undefined;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: matched ? routeKey(matched.route) : '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? LOOPBACK,
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? LOOPBACK,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: matched ? routeKey(matched.route) : '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Local API keys
// ---------------------------------------------------------------------------------------------

/** The plaintext keys, kept for the local stack only (the state directory is git-ignored). */
const PlaintextKeys = z.strictObject({
  note: z.string(),
  keys: z.array(z.strictObject({ keyId: z.string(), hospitalId: z.string(), key: z.string() })),
});

export interface LocalKeys {
  keyring: Keyring;
  /** hospitalId → its API key. */
  keys: Record<string, string>;
  /** The hashed keys file, in the format the deployment's authorizer reads. */
  keysFile: string;
  plaintextFile: string;
  /** True when this call made new keys (first use of the directory, or files that no longer matched). */
  created: boolean;
}

/**
 * One random API key per hospital of the generator's world, made on first use of a state
 * directory and reused after: `api-keys.json` holds the hashes (what the handler checks),
 * `api-keys.local.json` the plaintext to call with. A pair that no longer matches is replaced.
 */
export function ensureLocalKeys(
  stateDir: string,
  hospitalIds: readonly string[] = HOSPITALS.map((h) => h.hospitalId),
): LocalKeys {
  const keysFile = join(stateDir, 'api-keys.json');
  const plaintextFile = join(stateDir, 'api-keys.local.json');
  const existing = readLocalKeys(keysFile, plaintextFile, hospitalIds);
  if (existing) return { ...existing, keysFile, plaintextFile, created: false };

  const issued = hospitalIds.map((hospitalId) => ({
    hospitalId,
    ...issueKey(hospitalId, `local-${hospitalId}`),
  }));
  const hashed: KeysFile = { keys: issued.map((i) => i.entry) };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(keysFile, `${JSON.stringify(hashed, null, 2)}\n`);
  writeFileSync(
    plaintextFile,
    `${JSON.stringify(
      {
        note: 'Local API keys of the FundGuard pre-event API; api-keys.json holds their hashes. Never deploy these.',
        keys: issued.map((i) => ({ keyId: i.entry.keyId, hospitalId: i.hospitalId, key: i.key })),
      },
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );
  return {
    keyring: new Keyring(hashed),
    keys: Object.fromEntries(issued.map((i) => [i.hospitalId, i.key])),
    keysFile,
    plaintextFile,
    created: true,
  };
}

/** The keys of an earlier run, or undefined when they are missing, unreadable or no longer match. */
function readLocalKeys(
  keysFile: string,
  plaintextFile: string,
  hospitalIds: readonly string[],
): Pick<LocalKeys, 'keyring' | 'keys'> | undefined {
  if (!existsSync(keysFile) || !existsSync(plaintextFile)) return undefined;
  let hashed: KeysFile;
  let plaintext: unknown;
  try {
    hashed = readKeysFile(keysFile);
    plaintext = JSON.parse(readFileSync(plaintextFile, 'utf8'));
  } catch (error) {
    // Local state only: a damaged pair is replaced by new keys (ensureLocalKeys reports `created`).
    if (error instanceof KeysFileError || error instanceof SyntaxError) return undefined;
    throw error;
  }
  const plain = PlaintextKeys.safeParse(plaintext);
  if (!plain.success) return undefined;
  const keys: Record<string, string> = {};
  for (const { keyId, hospitalId, key } of plain.data.keys) {
    const entry = hashed.keys.find((k) => k.keyId === keyId);
    if (entry?.hospitalId !== hospitalId || entry.sha256 !== hashKey(key)) return undefined;
    keys[hospitalId] = key;
  }
  if (!hospitalIds.every((id) => keys[id])) return undefined;
  return { keyring: new Keyring(hashed), keys };
}

// ---------------------------------------------------------------------------------------------
// The local API
// ---------------------------------------------------------------------------------------------

export interface LocalApiOptions {
  endpoints: Pick<Endpoints, 'dynamodb'>;
  /** Physical table names (createResources' `tables`); the API reads claims and flags. */
  tables: Pick<Record<TableName, string>, 'claims' | 'flags'>;
  /** Where the local keys live; default `.fundguard` in the working directory. */
  stateDir?: string;
  /** Default: a free port. */
  port?: number;
  /** Share the caller's screener (one rule set load); default a new one. */
  screener?: Screener;
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
  const local = ensureLocalKeys(resolve(options.stateDir ?? '.fundguard'));
  const screener = options.screener ?? loadCore().screener;
  const dynamodb = new DynamoDBClient(localClientConfig(options.endpoints.dynamodb));
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const handler = createApiHandler({
    screener,
    history: new DynamoHistoryStore(documents, options.tables.claims),
    alerts: new DynamoAlertsStore(documents, options.tables.flags),
    authenticate: byApiKey(local.keyring),
    logger: options.logger ?? new Logger({ serviceName: 'fundguard-api' }),
  });
  const server = await startApiServer({
    handler,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const hospitalId = HOSPITALS[0]?.hospitalId ?? Object.keys(local.keys)[0] ?? '';
  const key = local.keys[hospitalId] ?? '';
  return {
    url: server.url,
    keys: local.keys,
    curlExample: [
      `curl -s -X POST ${server.url}${ROUTES.prescreen.path}`,
      `-H 'content-type: application/json' -H '${API_KEY_HEADER}: ${key}'`,
      `-d '${JSON.stringify(exampleDraft(hospitalId))}'`,
    ].join(' \\\n  '),
    alertsCurlExample: `curl -s '${server.url}${ROUTES.hospitalAlerts.path.replace('{hospitalId}', hospitalId)}?limit=5' -H '${API_KEY_HEADER}: ${key}'`,
    stop: async () => {
      await server.stop();
      dynamodb.destroy();
    },
  };
}

/** The rules' base fixture as a draft of `hospitalId`: metformin for 60 days, past the 30-day outpatient limit. */
function exampleDraft(hospitalId: string): Record<string, unknown> {
  const {
    claimId: _claimId,
    submittedAt: _submittedAt,
    totals: _totals,
    ...draft
  } = readBaseClaim(defaultRulesDir());
  const hospital = HOSPITALS.find((h) => h.hospitalId === hospitalId);
  return deepMerge(draft, {
    hospital: {
      hospitalId,
      ...(hospital ? { level: hospital.level, region: hospital.region, internet: hospital.internet } : {}),
    },
    items: [
      {
        lineNo: 1,
        code: 'XA10BAE054A001010101234',
        name: '二甲双胍片',
        category: 'drug',
        quantity: 120,
        unitPrice: 0.35,
        amount: 42,
        serviceDate: '2026-10-03',
        daysSupply: 60,
      },
    ],
  });
}
