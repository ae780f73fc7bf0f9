/**
 * The review API and the console on loopback: one node:http server that turns `/v1/review/*`
 * requests into API Gateway events for the same handler the Lambda runs, streams CSV exports
 * straight from the core to the socket (the Lambda writes them to S3 and redirects), serves the
 * OpenAPI document at `/openapi.json`, and the built console (console/dist) for every other path.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { consoleDistDir } from '../../console/build.ts';
import { CURSOR_SECRET_FILE, CursorSigner, localCursorSecret } from '../api/cursor.ts';
import { loadCore } from '../core.ts';
import { HOSPITALS } from '../generator/world.ts';
import { openApiDocument } from '../openapi.ts';
import type { TableName } from '../resources.ts';
import { ListQuery } from '../review/contracts.ts';
import { CSV_CONTENT_TYPE, CSV_DISPOSITION } from '../review/export.ts';
import {
  createReviewHandler,
  filtersOf,
  parseQuery,
  problemFor,
  type ReviewLogger,
} from '../review/handler.ts';
import { byLocalTokens, ensureLocalTokens, type TokenEntry } from '../review/identity.ts';
import { loadReviewPolicy } from '../review/policy.ts';
import { REVIEW_ROUTES } from '../review/routes.ts';
import { ReviewService } from '../review/service.ts';
import { DynamoReviewStore } from '../review/store.ts';
import type { RuleSet } from '../rules/rule-set.ts';
import { readBody, toEvent } from './api-server.ts';
import { type Endpoints, localClientConfig } from './emulators.ts';
import { lambdaContext } from './lambda-context.ts';

const LOOPBACK = '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface LocalReviewOptions {
  endpoints: Pick<Endpoints, 'dynamodb'>;
  tables: Pick<Record<TableName, string>, 'claims' | 'flags' | 'scores'>;
  stateDir?: string;
  port?: number;
  ruleSet?: RuleSet;
  logger?: ReviewLogger;
  /** Fixed clock for tests of time limits. */
  now?: () => Date;
}

export interface LocalReview {
  /** The console (and the API under `/v1/review`). */
  url: string;
  tokens: TokenEntry[];
  tokensFile: string;
  /** A link that signs into the console with `token`. */
  loginUrl(token: string): string;
  stop(): Promise<void>;
}

/** The review API and console on loopback against the local DynamoDB, with local tokens. */
export async function startLocalReview(options: LocalReviewOptions): Promise<LocalReview> {
  const stateDir = resolve(options.stateDir ?? '.fundguard');
  const tokens = ensureLocalTokens(
    stateDir,
    HOSPITALS.map((h) => h.hospitalId),
  );
  const dynamodb = new DynamoDBClient(localClientConfig(options.endpoints.dynamodb));
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const service = new ReviewService({
    store: new DynamoReviewStore(documents, options.tables),
    policy: loadReviewPolicy(),
    ruleSet: options.ruleSet ?? loadCore().ruleSet,
    ...(options.now ? { now: options.now } : {}),
  });
  const authenticate = byLocalTokens(tokens);
  const logger = options.logger ?? new Logger({ serviceName: 'fundguard-review' });
  const cursors = new CursorSigner(localCursorSecret(join(stateDir, CURSOR_SECRET_FILE)));
  const handler = createReviewHandler({ service, authenticate, cursors, logger });
  const openapi = JSON.stringify(openApiDocument(), null, 2);
  const dist = consoleDistDir();

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path === '/openapi.json') {
      response.writeHead(200, { 'content-type': MEDIA_TYPES['.json'] ?? '' });
      response.end(openapi);
      return;
    }
    if (path.startsWith('/v1/')) {
      const body = await readBody(request, MAX_BODY_BYTES);
      if (body === undefined) {
        response.writeHead(413, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'Request Entity Too Large' }));
        return;
      }
      const event = toEvent(request, body);
      if (request.method === REVIEW_ROUTES.exportFlags.method && path === REVIEW_ROUTES.exportFlags.path) {
        await streamExport(event, response);
        return;
      }
      const result = await handler(event, lambdaContext('fundguard-local-review', 10_000));
      response.writeHead(
        result.statusCode,
        Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
      );
      response.end(result.body);
      return;
    }
    serveStatic(path, response);
  };

  /** The export, streamed page by page: the whole set is never held in memory. */
  const streamExport = async (event: ReturnType<typeof toEvent>, response: ServerResponse): Promise<void> => {
    let chunks: AsyncGenerator<string>;
    let first: IteratorResult<string>;
    try {
      const reviewer = authenticate({ ...event, headers: lowerCase(event.headers) });
      chunks = service.exportCsv(filtersOf(parseQuery(ListQuery, event)), reviewer);
      first = await chunks.next();
    } catch (error) {
      const known = problemFor(error);
      if (!known) throw error;
      response.writeHead(known.problem.status, {
        'content-type': 'application/problem+json',
        ...(known.headers ?? {}),
      });
      response.end(JSON.stringify(known.problem));
      return;
    }
    response.writeHead(200, {
      'content-type': CSV_CONTENT_TYPE,
      'content-disposition': CSV_DISPOSITION,
      'cache-control': 'no-store',
    });
    if (!first.done) response.write(first.value);
    for await (const chunk of chunks) {
      // Backpressure: wait for the socket before reading the next page; a client gone stops the reads.
      if (!response.write(chunk))
        await new Promise((r) => {
          response.once('drain', r);
          response.once('close', r);
        });
      if (response.destroyed) return;
    }
    response.end();
  };

  const serveStatic = (path: string, response: ServerResponse): void => {
    const file = normalize(join(dist, path));
    const inside = file.startsWith(dist) && existsSync(file) && statSync(file).isFile();
    // Every page of the console is index.html; its router reads the path.
    const target = inside ? file : join(dist, 'index.html');
    if (!existsSync(target)) {
      response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('the console is not built: npm run console:build');
      return;
    }
    response.writeHead(200, { 'content-type': MEDIA_TYPES[extname(target)] ?? 'application/octet-stream' });
    createReadStream(target).pipe(response);
  };

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      logger.error('local review server failed', { error });
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'Internal Server Error' }));
      } else response.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, LOOPBACK, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${LOOPBACK}:${port}`;
  return {
    url,
    tokens: tokens.tokens,
    tokensFile: tokens.file,
    loginUrl: (token) => `${url}/login#token=${token}`,
    stop: async () => {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
      dynamodb.destroy();
    },
  };
}

const lowerCase = (headers: Record<string, string | undefined> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
