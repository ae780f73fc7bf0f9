import middy, { type MiddlewareObj, type Request } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HistoryStore } from '../history/store.ts';
import type { ScreenerOrSource } from '../rules/active.ts';
import { type AlertsStore, alertsScope, listAlerts, parseAlertsQuery } from './alerts.ts';
import type { CursorSigner } from './cursor.ts';
import { type Authenticate, authorizeHospital } from './identity.ts';
import { parseDraft, prescreen, type Verdict } from './prescreen.ts';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, type Problem, ProblemError, problem } from './problem.ts';
import { readJsonBody } from './request.ts';
import { matchRoute, methodsFor, ROUTES, type RouteName } from './routes.ts';

/** The part of Powertools' Logger the API uses; tests pass their own. */
export interface ApiLogger {
  error(message: string, attributes: Record<string, unknown>): void;
  debug(message: string, attributes: Record<string, unknown>): void;
}

/** What one request came to, for metrics. */
export interface ApiOutcome {
  route: RouteName | 'unknown';
  status: number;
  latencyMs: number;
  /** Prescreens only. */
  verdict?: Verdict;
}

export interface ApiDeps {
  /** A fixed screener, or the active published rule set (asked per request; a cached check). */
  screener: ScreenerOrSource;
  history: Pick<HistoryStore, 'claimsFor'>;
  alerts: AlertsStore;
  /** `byAuthorizerContext()` in AWS, `byApiKey(keyring)` locally and in tests. */
  authenticate: Authenticate;
  /** Seals the alerts listing's cursors; one secret for every instance (config, or .fundguard locally). */
  cursors: CursorSigner;
  logger: ApiLogger;
  now?: () => Date;
  /** The prescreen's time budget; default the screener's SCREEN_BUDGET_MS. */
  screenBudgetMs?: number;
  observe?: (outcome: ApiOutcome) => void;
}

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

function json(statusCode: number, body: unknown): ApiResult {
  return {
    statusCode,
    // Answers are per patient and per moment: no cache may keep them.
    headers: { 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function problemResult(body: Problem, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** A 500, or a 503 when middy's early timeout fired: retryable either way, with the id to trace it by. */
function faultProblem(error: Error | null, requestId: string): Problem {
  const retry = `the request may be retried (request id ${requestId})`;
  return error?.name === 'TimeoutError'
    ? problem(
        PROBLEM_TYPES.timeout,
        503,
        'Service unavailable',
        `the screening did not finish in time; ${retry}`,
      )
    : problem(PROBLEM_TYPES.internal, 500, 'Internal server error', `an internal error occurred; ${retry}`);
}

interface Timing extends Record<string, unknown> {
  startedAt?: number;
}

/**
 * The pre-event API as one API Gateway (HTTP API, payload v2) handler: `POST /v1/prescreen` and
 * `GET /v1/hospitals/{hospitalId}/alerts`. It answers every request with JSON — a problem body
 * (RFC 9457) for 4xx — and never throws: a 500 is reserved for faults of ours or of DynamoDB, and
 * those are logged with the request id that the 500 body carries.
 */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const verdicts = new WeakMap<object, Verdict>();

  const prescreenRoute = async (event: ApiEvent): Promise<ApiResult> => {
    const identity = deps.authenticate(event);
    const draft = parseDraft(readJsonBody(event));
    authorizeHospital(identity, draft.hospital.hospitalId);
    const answer = await prescreen(draft, deps);
    verdicts.set(event, answer.verdict);
    return json(200, answer);
  };

  const alertsRoute = async (event: ApiEvent): Promise<ApiResult> => {
    const identity = deps.authenticate(event);
    const hospitalId = event.pathParameters?.hospitalId ?? '';
    authorizeHospital(identity, hospitalId);
    const query = parseAlertsQuery(hospitalId, event.queryStringParameters, {
      signer: deps.cursors,
      callerHospitalId: identity.hospitalId,
    });
    const scope = alertsScope(identity.hospitalId, hospitalId, query.since);
    return json(200, await listAlerts(deps.alerts, query, { signer: deps.cursors, scope }));
  };

  const router = httpRouterHandler<ApiEvent, ApiResult>({
    routes: [
      { ...ROUTES.prescreen, handler: prescreenRoute },
      { ...ROUTES.hospitalAlerts, handler: alertsRoute },
    ],
    notFoundResponse: ({ method, path }) => {
      // A path the API has, asked with another method: 405 with what it takes (RFC 9110 §15.5.6).
      const allowed = methodsFor(path);
      if (allowed.length)
        throw new ProblemError(
          problem(
            PROBLEM_TYPES.methodNotAllowed,
            405,
            'Method not allowed',
            `${path.slice(0, 200)} takes ${allowed.join(', ')}, not ${method.slice(0, 20)}`,
          ),
          { allow: allowed.join(', ') },
        );
      throw new ProblemError(
        problem(
          PROBLEM_TYPES.notFound,
          404,
          'Not found',
          `no route ${method} ${path.slice(0, 200)}; the API has ${Object.values(ROUTES)
            .map((r) => `${r.method} ${r.path}`)
            .join(' and ')}`,
        ),
      );
    },
  });

  const finish = (request: Request<ApiEvent, ApiResult, Error, Context, Timing>): void => {
    if (!deps.observe || !request.response) return;
    const { method, path } = request.event.requestContext?.http ?? {};
    const matched = method && path ? matchRoute(method, path) : undefined;
    const route = (Object.keys(ROUTES) as RouteName[]).find((name) => ROUTES[name] === matched?.route);
    const verdict = verdicts.get(request.event);
    deps.observe({
      route: route ?? 'unknown',
      status: request.response.statusCode,
      latencyMs: performance.now() - (request.internal.startedAt ?? performance.now()),
      ...(verdict ? { verdict } : {}),
    });
  };

  const problems: MiddlewareObj<ApiEvent, ApiResult, Error, Context, Timing> = {
    before: (request) => {
      request.internal.startedAt = performance.now();
    },
    after: finish,
    onError: (request) => {
      const { error } = request;
      if (error instanceof ProblemError) {
        request.response = problemResult(error.problem, error.headers);
        deps.logger.debug('request refused', { status: error.problem.status, type: error.problem.type });
      } else {
        const requestId = request.context.awsRequestId ?? 'unknown';
        // Faults of ours or of DynamoDB, never of the input: logged in full, answered without internals.
        deps.logger.error('request failed', { error, requestId, path: request.event.rawPath });
        request.response = problemResult(faultProblem(error, requestId));
      }
      finish(request);
    },
  };

  const handler = middy<ApiEvent, ApiResult, Error, Context, Timing>(router)
    .use(problems)
    .use(httpHeaderNormalizer());
  return (event, context) => handler(event, context);
}
