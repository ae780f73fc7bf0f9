/**
 * The OpenAPI 3.1 document of both HTTP APIs — the hospitals' pre-event API and the review API —
 * generated from the zod contracts their handlers parse with (zod 4's JSON Schema output is
 * draft 2020-12, the dialect OpenAPI 3.1 uses). `npm run openapi` writes docs/openapi.json; the
 * local server serves it at /openapi.json; tests/integration/review-api.test.ts checks every answer
 * the API tests receive against it.
 */
import { z } from 'zod';
import { AlertsAnswerSchema, PrescreenAnswerSchema } from './api/answers.ts';
import { PrescreenDraft } from './api/prescreen.ts';
import { ROUTES } from './api/routes.ts';
import {
  BulkAnswer,
  BulkBody,
  Counts,
  ExportAnswer,
  FlagDetail,
  FlagPage,
  ListQuery,
  Me,
  PrecisionAnswer,
  ScoresAnswer,
  ScoresQuery,
  TransitionAnswer,
  TransitionBody,
} from './review/contracts.ts';
import { REVIEW_ROUTES } from './review/routes.ts';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, {
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as Json;
  return rest;
};

const ProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  current: z
    .looseObject({
      flagId: z.string(),
      status: z.string(),
      version: z.number().int(),
      trail: z.array(z.unknown()),
    })
    .optional(),
});

const problemResponse = (description: string): Json => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const jsonResponse = (name: string, description = 'OK'): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
});

/** Query parameters of an object schema, one per property, from the schema's input side. */
function queryParameters(s: z.ZodObject): Json[] {
  const json = schema(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

const pathParameter = (name: string): Json => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
});

const refusals = {
  '400': problemResponse(
    'Bad input: the problem names each invalid field or query parameter (unknown ones included, whatever their name), a body that is not UTF-8, or a cursor not issued to this caller for this listing and filters',
  ),
  '401': problemResponse('No valid credentials'),
  '403': problemResponse('The caller may not do this'),
  '500': problemResponse('A fault of ours; retry with the request id'),
};

const CURSOR_DESCRIPTION =
  "The previous page's nextCursor, signed for the caller and the listing's filters: refused (400) from another caller or with other filters";

const op = (path: string, method: string) => `${method.toLowerCase()} ${path}`;

export function openApiDocument(): Json {
  const R = REVIEW_ROUTES;
  const paths: Record<string, Record<string, Json>> = {};
  const add = (route: { method: string; path: string }, operation: Json): void => {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Json>)[route.method.toLowerCase()] = {
      operationId: op(route.path, route.method).replace(/[^A-Za-z]+(.)/g, (_, c: string) => c.toUpperCase()),
      ...operation,
    };
  };
  const reviewSecurity = [{ reviewToken: [] }];

  add(ROUTES.prescreen, {
    tags: ['pre-event'],
    summary: '事前提醒: screen a draft order or claim and get alerts at once',
    security: [{ apiKey: [] }],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/DraftClaim' } } },
    },
    responses: {
      '200': jsonResponse('PrescreenAnswer'),
      ...refusals,
      '413': problemResponse('Body too large'),
      '415': problemResponse('Not JSON'),
      '422': problemResponse('The draft needs more screening than the time budget allows: split it'),
    },
  });
  add(ROUTES.hospitalAlerts, {
    tags: ['pre-event'],
    summary: "A hospital's in-process alerts, newest first",
    security: [{ apiKey: [] }],
    parameters: [
      pathParameter('hospitalId'),
      { name: 'since', in: 'query', required: false, schema: { type: 'string' } },
      {
        name: 'cursor',
        in: 'query',
        required: false,
        description: CURSOR_DESCRIPTION,
        schema: { type: 'string', maxLength: 512 },
      },
      { name: 'limit', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,3}$' } },
    ],
    responses: { '200': jsonResponse('AlertsAnswer'), ...refusals },
  });

  add(R.me, {
    tags: ['review'],
    summary: 'Who the token belongs to, and the review policy',
    security: reviewSecurity,
    responses: { '200': jsonResponse('Me'), ...refusals },
  });
  add(R.listFlags, {
    tags: ['review'],
    summary: 'Flags by filters, newest first, with cursor pagination (each filter served by an index)',
    security: reviewSecurity,
    parameters: queryParameters(ListQuery).map((p) =>
      p.name === 'cursor' ? { ...p, description: CURSOR_DESCRIPTION } : p,
    ),
    responses: { '200': jsonResponse('FlagPage'), ...refusals },
  });
  add(R.countFlags, {
    tags: ['review'],
    summary: 'Counts of the filtered set by status and rule class, amounts at risk, overdue flags',
    security: reviewSecurity,
    parameters: queryParameters(ListQuery).filter((p) => p.name !== 'cursor' && p.name !== 'limit'),
    responses: { '200': jsonResponse('Counts'), ...refusals },
  });
  add(R.exportFlags, {
    tags: ['review'],
    summary: 'The filtered set as CSV (UTF-8 with BOM), written while it is paged',
    description:
      'On AWS the CSV is written to S3 page by page (a multipart upload) and the answer is a 303 to a presigned URL valid for 5 minutes, or that URL as JSON when the request accepts application/json. The local server streams the CSV itself (200 text/csv).',
    security: reviewSecurity,
    parameters: queryParameters(ListQuery).filter((p) => p.name !== 'cursor' && p.name !== 'limit'),
    responses: {
      '200': {
        description:
          'The CSV streamed (local server), or where it was written (AWS, Accept: application/json)',
        content: {
          'text/csv': { schema: { type: 'string' } },
          'application/json': { schema: { $ref: '#/components/schemas/ExportAnswer' } },
        },
      },
      '303': {
        description:
          'Written to S3 (AWS): follow Location, a presigned GET of the CSV, without the Authorization header',
        headers: { location: { schema: { type: 'string', format: 'uri' } } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ExportAnswer' } } },
      },
      ...refusals,
    },
  });
  add(R.bulkDecide, {
    tags: ['review'],
    summary: 'One decision over a filtered set (at most 200 flags), each flag checked and reported',
    security: reviewSecurity,
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/BulkBody' } } },
    },
    responses: {
      '200': jsonResponse('BulkAnswer'),
      ...refusals,
      '409': problemResponse('The filtered set changed since the caller counted it'),
    },
  });
  add(R.flagDetail, {
    tags: ['review'],
    summary: 'A flag with its claim lines, rule, basis, siblings and review trail',
    security: reviewSecurity,
    parameters: [pathParameter('flagId')],
    responses: {
      '200': jsonResponse('FlagDetail'),
      ...refusals,
      '404': problemResponse('No such flag, or not one of the caller’s hospital'),
    },
  });
  add(R.decide, {
    tags: ['review'],
    summary: 'One review transition (confirm, dismiss, escalate, appeal, investigate, uphold, overturn)',
    security: reviewSecurity,
    parameters: [pathParameter('flagId')],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TransitionBody' } } },
    },
    responses: {
      '200': jsonResponse('TransitionAnswer'),
      ...refusals,
      '404': problemResponse('No such flag, or not one of the caller’s hospital'),
      '409': problemResponse(
        'Stale version, a transition the state does not allow, a closed time window or the same second reviewer; `current` holds the flag’s state',
      ),
    },
  });
  add(R.scores, {
    tags: ['review'],
    summary: 'Cost-quality scores of a subject over periods, or of every subject of a period',
    security: reviewSecurity,
    parameters: queryParameters(ScoresQuery),
    responses: { '200': jsonResponse('ScoresAnswer'), ...refusals },
  });
  add(R.rulePrecision, {
    tags: ['review'],
    summary: 'Per rule and version: flags confirmed, dismissed, appealed, overturned',
    security: reviewSecurity,
    responses: { '200': jsonResponse('PrecisionAnswer'), ...refusals },
  });

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'FundGuard APIs',
      version: '1.0.0',
      description:
        'The hospitals’ pre-event API (x-api-key) and the review API for auditors, hospitals and rule authors (bearer JWT in AWS, local tokens on loopback). Generated from the zod contracts; docs/api.md and docs/review.md explain them.',
    },
    tags: [
      { name: 'pre-event', description: '事前提醒 for hospital systems' },
      { name: 'review', description: '审核: flags, decisions, appeals, scores' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        reviewToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: {
        Problem: schema(ProblemSchema, 'output'),
        DraftClaim: schema(PrescreenDraft, 'input'),
        PrescreenAnswer: schema(PrescreenAnswerSchema, 'output'),
        AlertsAnswer: schema(AlertsAnswerSchema, 'output'),
        Me: schema(Me, 'output'),
        FlagPage: schema(FlagPage, 'output'),
        Counts: schema(Counts, 'output'),
        FlagDetail: schema(FlagDetail, 'output'),
        TransitionBody: schema(TransitionBody, 'input'),
        TransitionAnswer: schema(TransitionAnswer, 'output'),
        BulkBody: schema(BulkBody, 'input'),
        BulkAnswer: schema(BulkAnswer, 'output'),
        ScoresAnswer: schema(ScoresAnswer, 'output'),
        ExportAnswer: schema(ExportAnswer, 'output'),
        PrecisionAnswer: schema(PrecisionAnswer, 'output'),
      },
    },
  };
}
