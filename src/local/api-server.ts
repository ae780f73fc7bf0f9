/**
 * The pre-event API on loopback: a node:http server that turns each request into the API Gateway
 * HTTP API event (payload v2) and calls the same handler the Lambda runs.
 */

import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiEvent, ApiHandler } from '../api/handler.ts';
import { matchRoute, routeKey } from '../api/routes.ts';
import { lambdaContext } from './lambda-context.ts';

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

/** The body's bytes, or undefined past `limit` (API Gateway's payload limit by default; the rest is not read). */
export async function readBody(
  request: IncomingMessage,
  limit = GATEWAY_MAX_PAYLOAD_BYTES,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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

/**
 * The API Gateway HTTP API event (payload v2) for a request. A body that is not UTF-8 text goes
 * base64-encoded, as API Gateway passes bytes it cannot hand over as text, so the handler sees the
 * bytes the client sent rather than a string with the bad ones silently replaced.
 */
export function toEvent(request: IncomingMessage, bytes: Buffer): ApiEvent {
  const text = isUtf8(bytes);
  const body = text ? bytes.toString('utf8') : bytes.toString('base64');
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

  // No prototype: `?__proto__=1` or `?constructor=1` is a parameter like any other, for the handler to refuse.
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
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
    isBase64Encoded: !text,
  };
}
