/**
 * The review API as one API Gateway (HTTP API, payload v2) handler: middy's router over
 * REVIEW_ROUTES, zod contracts at the boundary, RFC 9457 problems for every refusal. It never
 * throws: a 500 is a fault of ours or of DynamoDB, logged with the request id its body carries.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { type CursorSigner, listingScope, CursorError as SignedCursorError } from '../api/cursor.ts';
import { fieldErrors, PROBLEM_CONTENT_TYPE, type Problem, ProblemError, problem } from '../api/problem.ts';
import { readJsonBody } from '../api/request.ts';
import {
  BulkBody,
  DEFAULT_PAGE,
  type FlagFilters,
  ListQuery,
  ScoresQuery,
  TransitionBody,
} from './contracts.ts';
import type { ExportWriter } from './export.ts';
import { type AuthenticateReviewer, UnauthenticatedError } from './identity.ts';
import { ReviewError } from './machine.ts';
import { REVIEW_ROUTES } from './routes.ts';
import { BulkRefusedError, FlagNotFoundError, ReviewForbiddenError, type ReviewService } from './service.ts';
import type { Reviewer } from './states.ts';
import { CursorError } from './store.ts';

export type ReviewEvent = APIGatewayProxyEventV2;
export type ReviewResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };
export type ReviewHandler = (event: ReviewEvent, context: Context) => Promise<ReviewResult>;

export interface ReviewLogger {
  error(message: string, attributes: Record<string, unknown>): void;
  debug(message: string, attributes: Record<string, unknown>): void;
}

export interface ReviewApiDeps {
  service: ReviewService;
  authenticate: AuthenticateReviewer;
  /** Seals the listings' cursors to the caller and the filters (src/api/cursor.ts). */
  cursors: CursorSigner;
  logger: ReviewLogger;
  /** Where the Lambda writes exports (S3); absent where the server streams them itself (locally). */
  exports?: ExportWriter;
}

const type = (slug: string): string => `urn:fundguard:problem:${slug}`;
export const REVIEW_PROBLEMS = {
  invalidQuery: type('invalid-query'),
  invalidBody: type('invalid-body'),
  invalidCursor: type('invalid-cursor'),
  unauthenticated: type('unauthenticated'),
  forbidden: type('forbidden'),
  notFound: type('not-found'),
  conflict: type('review-conflict'),
  notAllowed: type('transition-not-allowed'),
  deadlinePassed: type('deadline-passed'),
  sameReviewer: type('same-reviewer'),
  bulkRefused: type('bulk-refused'),
  exportUnavailable: type('export-unavailable'),
  internal: type('internal'),
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';
const json = (statusCode: number, body: unknown): ReviewResult => ({
  statusCode,
  headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const INVALID = {
  query: [REVIEW_PROBLEMS.invalidQuery, 'Invalid query', 'the query string has invalid parameters'],
  body: [REVIEW_PROBLEMS.invalidBody, 'Invalid body', 'the request body has invalid fields'],
} as const;

/** `input` by `schema`, or a 400 naming every invalid field of the query string or body. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown, part: keyof typeof INVALID): z.infer<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const [type, title, detail] = INVALID[part];
  throw new ProblemError(problem(type, 400, title, detail, fieldErrors(parsed.error.issues, input)));
}

/** Query string parameters as the contracts read them (API Gateway joins repeated ones with commas). */
export const parseQuery = <S extends z.ZodType>(schema: S, event: ReviewEvent): z.infer<S> =>
  parseInput(schema, event.queryStringParameters ?? {}, 'query');

const parseBody = <S extends z.ZodType>(schema: S, event: ReviewEvent): z.infer<S> =>
  parseInput(schema, readJsonBody(event), 'body');

export function filtersOf(query: z.infer<typeof ListQuery>): FlagFilters {
  const { limit: _limit, cursor: _cursor, ...filters } = query;
  return filters;
}

/** A core error as the problem the caller reads; undefined for a fault (answered 500). */
export function problemFor(
  error: unknown,
): { problem: Problem & { current?: unknown }; headers?: Record<string, string> } | undefined {
  if (error instanceof ProblemError) return { problem: error.problem, headers: error.headers };
  if (error instanceof UnauthenticatedError)
    return {
      problem: problem(REVIEW_PROBLEMS.unauthenticated, 401, 'Unauthorized', error.message),
      headers: { 'www-authenticate': 'Bearer' },
    };
  if (error instanceof ReviewForbiddenError)
    return { problem: problem(REVIEW_PROBLEMS.forbidden, 403, 'Forbidden', error.message) };
  if (error instanceof FlagNotFoundError)
    return { problem: problem(REVIEW_PROBLEMS.notFound, 404, 'Not found', error.message) };
  if (error instanceof CursorError || error instanceof SignedCursorError)
    return { problem: problem(REVIEW_PROBLEMS.invalidCursor, 400, 'Invalid cursor', error.message) };
  if (error instanceof BulkRefusedError)
    return {
      problem: problem(REVIEW_PROBLEMS.bulkRefused, error.status, 'Bulk decision refused', error.message),
    };
  if (error instanceof ReviewError) {
    if (error.kind === 'forbidden')
      return { problem: problem(REVIEW_PROBLEMS.forbidden, 403, 'Forbidden', error.message) };
    const types = {
      conflict: [REVIEW_PROBLEMS.conflict, 'Conflict'],
      'not-allowed': [REVIEW_PROBLEMS.notAllowed, 'Transition not allowed'],
      'deadline-passed': [REVIEW_PROBLEMS.deadlinePassed, 'Time limit passed'],
      'same-reviewer': [REVIEW_PROBLEMS.sameReviewer, 'Second review needs another auditor'],
    } as const;
    const [problemType, title] = types[error.kind];
    const { current } = error;
    // The current state rides along, so the caller can show what happened without another read.
    return {
      problem: {
        ...problem(problemType, 409, title, error.message),
        current: {
          flagId: current.flagId,
          status: current.status,
          version: current.version,
          trail: current.trail,
        },
      },
    };
  }
  return undefined;
}

/** Who a cursor is issued to: the role, the person and, for a hospital, its hospital. */
const callerOf = (reviewer: Reviewer): string =>
  reviewer.role === 'hospital'
    ? `hospital:${reviewer.hospitalId}:${reviewer.actorId}`
    : `${reviewer.role}:${reviewer.actorId}`;

/** The review API handler; `REVIEW_ROUTES` names its routes. */
export function createReviewHandler(deps: ReviewApiDeps): ReviewHandler {
  const { service } = deps;
  const who = (event: ReviewEvent): Reviewer => deps.authenticate(event);
  const flagId = (event: ReviewEvent): string => event.pathParameters?.flagId ?? '';

  const routes: Record<keyof typeof REVIEW_ROUTES, (event: ReviewEvent) => Promise<ReviewResult>> = {
    me: async (event) => {
      const reviewer = who(event);
      return json(200, { ...reviewer, policy: service.policy.steps });
    },
    listFlags: async (event) => {
      const reviewer = who(event);
      const query = parseQuery(ListQuery, event);
      const filters = filtersOf(query);
      const scope = {
        caller: callerOf(reviewer),
        listing: listingScope(REVIEW_ROUTES.listFlags.path, filters),
      };
      const cursor = query.cursor === undefined ? undefined : deps.cursors.open(scope, query.cursor);
      const page = await service.list(filters, reviewer, query.limit ?? DEFAULT_PAGE, cursor);
      return json(200, {
        ...page,
        nextCursor: page.nextCursor === null ? null : deps.cursors.seal(scope, page.nextCursor),
      });
    },
    countFlags: async (event) => {
      const reviewer = who(event);
      return json(200, await service.counts(filtersOf(parseQuery(ListQuery, event)), reviewer));
    },
    exportFlags: async (event) => {
      const reviewer = who(event);
      const chunks = service.exportCsv(filtersOf(parseQuery(ListQuery, event)), reviewer);
      if (!deps.exports)
        throw new ProblemError(
          problem(
            REVIEW_PROBLEMS.exportUnavailable,
            501,
            'Not implemented',
            'this server has no export store',
          ),
        );
      // The first chunk is read before anything is written, so a refusal (a hospital naming another) stays a 4xx.
      const first = await chunks.next();
      const written = await deps.exports(prepend(first, chunks));
      // The console asks for JSON and follows the link itself; any other client is redirected.
      if (event.headers?.accept?.includes('application/json')) return json(200, written);
      const redirect = json(303, written);
      return { ...redirect, headers: { ...redirect.headers, location: written.url } };
    },
    bulkDecide: async (event) => {
      const reviewer = who(event);
      const body = parseBody(BulkBody, event);
      const decision = { action: body.action, reason: body.reason };
      return json(
        200,
        'flags' in body
          ? await service.bulkChecked(body.flags, decision, reviewer)
          : await service.bulk(body.filters, decision, body.expectedCount, reviewer),
      );
    },
    flagDetail: async (event) => {
      const reviewer = who(event);
      return json(200, await service.detail(flagId(event), reviewer));
    },
    decide: async (event) => {
      const reviewer = who(event);
      const body = parseBody(TransitionBody, event);
      const request = {
        action: body.action,
        reason: body.reason,
        expectedVersion: body.expectedVersion,
        ...(body.evidence ? { evidence: body.evidence } : {}),
      };
      return json(200, await service.decide(flagId(event), request, reviewer));
    },
    scores: async (event) => {
      const reviewer = who(event);
      return json(200, await service.scores(parseQuery(ScoresQuery, event), reviewer));
    },
    rulePrecision: async (event) => json(200, await service.precision(who(event))),
  };

  const router = httpRouterHandler<ReviewEvent, ReviewResult>({
    routes: (Object.keys(REVIEW_ROUTES) as (keyof typeof REVIEW_ROUTES)[]).map((name) => ({
      ...REVIEW_ROUTES[name],
      handler: routes[name],
    })),
    notFoundResponse: ({ method, path }) => {
      throw new ProblemError(
        problem(REVIEW_PROBLEMS.notFound, 404, 'Not found', `no route ${method} ${path.slice(0, 200)}`),
      );
    },
  });

  const problems: MiddlewareObj<ReviewEvent, ReviewResult, Error, Context> = {
    onError: (request) => {
      const known = problemFor(request.error);
      if (known) {
        deps.logger.debug('request refused', { status: known.problem.status, type: known.problem.type });
        request.response = {
          statusCode: known.problem.status,
          headers: {
            'content-type': PROBLEM_CONTENT_TYPE,
            'cache-control': 'no-store',
            ...(known.headers ?? {}),
          },
          body: JSON.stringify(known.problem),
        };
        return;
      }
      const requestId = request.context.awsRequestId ?? 'unknown';
      deps.logger.error('request failed', { error: request.error, requestId, path: request.event.rawPath });
      request.response = {
        statusCode: 500,
        headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' },
        body: JSON.stringify(
          problem(
            REVIEW_PROBLEMS.internal,
            500,
            'Internal server error',
            `an internal error occurred (request id ${requestId})`,
          ),
        ),
      };
    },
  };

  const handler = middy<ReviewEvent, ReviewResult, Error, Context>(router)
    .use(problems)
    .use(httpHeaderNormalizer());
  return (event, context) => handler(event, context);
}

/** The chunks of a generator whose first was already read. */
async function* prepend<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  if (first.done) return;
  yield first.value;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
