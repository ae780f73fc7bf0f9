import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertsPosition,
  type AlertsQuery,
  type AlertsStore,
  encodeCursor,
} from '../../src/api/alerts.ts';
import { CursorSigner } from '../../src/api/cursor.ts';
import { type ApiDeps, type ApiEvent, type ApiResult, createApiHandler } from '../../src/api/handler.ts';
import { authorizeRequest, byApiKey, byAuthorizerContext } from '../../src/api/identity.ts';
import { issueKey, Keyring, KeysFile } from '../../src/api/keys.ts';
import { MAX_ALERTS_PER_RULE, parseDraft } from '../../src/api/prescreen.ts';
import { MAX_FIELD_ERRORS } from '../../src/api/problem.ts';
import { MAX_BODY_BYTES } from '../../src/api/request.ts';
import { CLAIM_LIMITS } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { type HistoryStore, historyFor, toHistoryClaim } from '../../src/history/store.ts';
import { claim, draft, type Json, line, metformin, uterography } from '../helpers/claims.ts';

const core = loadCore();

const OWN = 'H3001';
const NEIGHBOUR = 'H3002';
const ownKey = issueKey(OWN, 'test-own');
const neighbourKey = issueKey(NEIGHBOUR, 'test-neighbour');
const keyring = new Keyring({ keys: [ownKey.entry, neighbourKey.entry] });
const cursors = new CursorSigner(randomBytes(32));

/** An earlier settled claim of a patient, as history. */
function settled(insuredId: string, claimId: string, patch: Json) {
  return toHistoryClaim(
    claim({ claimId, patient: { insuredId }, hospital: { hospitalId: NEIGHBOUR }, ...patch }),
  );
}

interface RecordingAlerts extends AlertsStore {
  queries: AlertsQuery[];
}
/** Records each query; with `next`, every page says where it ended. */
const recordingAlerts = (next?: (query: AlertsQuery) => AlertsPosition): RecordingAlerts => {
  const queries: AlertsQuery[] = [];
  return {
    queries,
    listForHospital: async (query) => {
      queries.push(query);
      return next ? { flags: [], next: next(query) } : { flags: [] };
    },
  };
};

interface Harness {
  call(request: Request): Promise<ApiResult>;
  /** An event as given, for what `Request` cannot say (bytes that are not UTF-8). */
  send(event: ApiEvent): Promise<ApiResult>;
  errors: unknown[];
  alerts: RecordingAlerts;
}

function harness(overrides: Partial<ApiDeps> = {}): Harness {
  const errors: unknown[] = [];
  const alerts = recordingAlerts();
  const handler = createApiHandler({
    screener: core.screener,
    history: new InMemoryHistoryStore(),
    alerts,
    authenticate: byApiKey(keyring),
    cursors,
    logger: { error: (_message, attributes) => errors.push(attributes.error), debug: () => {} },
    now: () => new Date('2026-10-03T12:00:00Z'),
    ...overrides,
  });
  return {
    call: (request) => handler(apiEvent(request), lambdaContext),
    send: (event) => handler(event, lambdaContext),
    errors,
    alerts,
  };
}

interface Request {
  method?: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  key?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}

const lambdaContext = { awsRequestId: 'test-request' } as Context;

/** The API Gateway HTTP API event (payload v2) for a request, with our hospital's key unless told otherwise. */
function apiEvent(request: Request): ApiEvent {
  const method =
    request.method ?? (request.body === undefined && request.rawBody === undefined ? 'GET' : 'POST');
  const key = request.key === undefined ? ownKey.key : request.key;
  let body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
  if (body !== undefined && request.base64) body = Buffer.from(body, 'utf8').toString('base64');
  const rawQueryString = new URLSearchParams(request.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString,
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { 'x-api-key': key }),
      ...request.headers,
    },
    ...(request.query ? { queryStringParameters: request.query } : {}),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: request.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'test-request',
      routeKey: '$default',
      stage: '$default',
      time: '03/Oct/2026:12:00:00 +0000',
      timeEpoch: 0,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: request.base64 ?? false,
  };
}

const prescreen = (body: unknown, extra: Partial<Request> = {}): Request => ({
  method: 'POST',
  path: '/v1/prescreen',
  body,
  ...extra,
});

const bodyOf = (result: ApiResult) => JSON.parse(result.body);

describe('POST /v1/prescreen: verdicts on the real rule set', () => {
  it('answers ok with no alerts for a draft no rule objects to', async () => {
    const result = await harness().call(prescreen(draft({ items: [metformin()] })));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toMatch(/^application\/json/);
    expect(bodyOf(result)).toMatchObject({ verdict: 'ok', alerts: [], claimId: null, visitId: 'V-FIXTURE' });
  });

  it('warns, with the largest payable quantity, when a supply exceeds the 30-day outpatient limit', async () => {
    const result = await harness().call(
      prescreen(draft({ items: [metformin({ quantity: 120, amount: 42, daysSupply: 60 })] })),
    );
    const answer = bodyOf(result);
    expect(answer.verdict).toBe('warn');
    expect(answer.alerts).toEqual([
      {
        alertId: expect.stringMatching(/^F-[0-9a-f]{24}$/),
        ruleId: 'NHSA-DRUG-MAX-SUPPLY',
        ruleClass: '药品限最大开药天数/开药量',
        severity: 'medium',
        result: 'suspicious',
        inProcessAction: 'hold',
        message: '二甲双胍片开药60天，超过门诊单次最大开药天数30天',
        lineNos: [1],
        amountAtRisk: 42,
        basis: {
          ruleClass: '药品限最大开药天数/开药量',
          code: 'NHSA2025-9',
          text: '门诊开药量原则上不超过30天（长期处方须有慢性病诊断依据）。',
        },
        suggestion: '按每日用量计，最多可开60（30天用量）',
      },
    ]);
  });

  it('answers would-reject when a line would be rejected in-process, listing that alert first', async () => {
    const result = await harness().call(
      prescreen(
        draft({
          patient: { sex: 'M' },
          items: [
            metformin({ quantity: 120, amount: 42, daysSupply: 60 }),
            line(2, '002101030300000', '子宫造影', 'service'),
          ],
        }),
      ),
    );
    const answer = bodyOf(result);
    expect(answer.verdict).toBe('would-reject');
    expect(answer.alerts.map((a: Json) => [a.ruleId, a.inProcessAction, a.lineNos])).toEqual([
      ['GZ-SERVICE-SEX', 'reject', [2]],
      ['NHSA-DRUG-MAX-SUPPLY', 'hold', [1]],
    ]);
    expect(answer.alerts[0].message).toBe('子宫造影为女性项目，患者为男性');
    expect(answer.alerts[0].basis.knowledgePoint).toMatch(/^KP-/);
  });

  it('answers warn, not would-reject, for a point graded suspicious: 妇炎康丸 for a man (its text lists 膀胱炎、尿路感染)', async () => {
    const result = await harness().call(
      prescreen(
        draft({ patient: { sex: 'M' }, items: [line(1, 'ZD02AAF0251010103466', '妇炎康丸', 'drug')] }),
      ),
    );
    const answer = bodyOf(result);
    expect(answer.verdict).toBe('warn');
    expect(answer.alerts).toEqual([
      expect.objectContaining({ ruleId: 'GZ-DRUG-SEX', result: 'suspicious', inProcessAction: 'hold' }),
    ]);
    expect(answer.alerts[0].basis.doubt).toContain('尿路感染');
  });

  it('gives the earliest date a drug can be prescribed again when the last supply is not used up', async () => {
    const history = new InMemoryHistoryStore();
    history.add(settled('P-REPEAT', 'C-EARLIER', { items: [metformin({ serviceDate: '2026-09-20' })] }));
    const result = await harness({ history }).call(
      prescreen(draft({ patient: { insuredId: 'P-REPEAT' }, items: [metformin()] })),
    );
    const [alert, ...others] = bodyOf(result).alerts;
    expect(others).toEqual([]);
    expect(alert).toMatchObject({
      ruleId: 'GZ-REPEAT-PRESCRIPTION',
      inProcessAction: 'hold',
      message: '二甲双胍片于2026-09-20已开药，至本次仍余17天用量（允许提前7天）',
      // Supply to 2026-10-20, less the 7 days' grace.
      suggestion: '前次（2026-09-20）所开药量尚余17天，最早可于2026-10-13再次开具',
    });
    expect(bodyOf(result).verdict).toBe('warn');
  });

  it('gives the days left in a course already partly paid in an earlier stay', async () => {
    const drug = (lineNo: number, day: string) =>
      line(lineNo, 'XC05CAQ005B001010100526', '注射用七叶皂苷钠', 'drug', { serviceDate: day });
    const history = new InMemoryHistoryStore();
    history.add(
      settled('P-COURSE', 'C-STAY-1', {
        visit: { type: 'inpatient', admittedAt: '2026-09-20', dischargedAt: '2026-09-27' },
        items: Array.from({ length: 8 }, (_, i) => drug(i + 1, `2026-09-${20 + i}`)),
      }),
    );
    const stay = draft({
      patient: { insuredId: 'P-COURSE' },
      visit: { type: 'inpatient', admittedAt: '2026-10-01' },
      items: [drug(1, '2026-10-01'), drug(2, '2026-10-02'), drug(3, '2026-10-03')],
    });
    const answer = bodyOf(await harness({ history }).call(prescreen(stay)));
    const course = answer.alerts.find((a: Json) => a.ruleId === 'GZ-DRUG-COURSE-HISTORY');
    expect(course).toMatchObject({
      lineNos: [3],
      message: '注射用七叶皂苷钠支付不超过10天，此前已计费8天，本次再计费3天',
      suggestion: '注射用七叶皂苷钠本疗程尚可支付2天',
    });
    expect(answer.verdict).toBe('warn');
  });

  it('accepts a base64-encoded body, as API Gateway sends some', async () => {
    const result = await harness().call(prescreen(draft({ items: [metformin()] }), { base64: true }));
    expect(result.statusCode).toBe(200);
  });
});

describe('POST /v1/prescreen: bad input', () => {
  it('lists each invalid path in an RFC 9457 problem body', async () => {
    const body = draft({ foo: 1, patient: { sex: 'X' }, items: [metformin({ quantity: '60', bar: true })] });
    const result = await harness().call(prescreen(body));
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    const problem = bodyOf(result);
    expect(problem).toMatchObject({
      type: 'urn:fundguard:problem:invalid-claim',
      title: 'Invalid draft claim',
      status: 400,
      detail: expect.stringContaining('4 invalid paths'),
    });
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: 'foo', message: 'unknown field' },
        { path: 'patient.sex', message: 'expected one of "M", "F", got "X"' },
        { path: 'items[0].quantity', message: 'expected number, got string' },
        { path: 'items[0].bar', message: 'unknown field' },
      ]),
    );
    expect(problem.errors).toHaveLength(4);
  });

  it('names a missing field as missing', async () => {
    const { doctorId: _d, ...body } = draft();
    const problem = bodyOf(await harness().call(prescreen(body)));
    expect(problem.errors).toEqual([{ path: 'doctorId', message: 'required string is missing' }]);
  });

  it('caps the field errors of a thoroughly broken body and says how many there were', async () => {
    const body = draft({ items: Array.from({ length: 80 }, (_, i) => ({ lineNo: i + 1, junk: 'x' })) });
    const problem = bodyOf(await harness().call(prescreen(body)));
    expect(problem.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(problem.detail).toMatch(new RegExp(`the first ${MAX_FIELD_ERRORS} of \\d+ are listed`));
  });

  it('answers 400 to nesting far deeper than any claim, in the body and in a field', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const asBody = await harness().call(prescreen(undefined, { rawBody: deep }));
    const inField = await harness().call(
      prescreen(undefined, { rawBody: JSON.stringify(draft()).replace('"M"', deep).replace('"F"', deep) }),
    );
    expect([asBody.statusCode, inField.statusCode]).toEqual([400, 400]);
    expect(bodyOf(inField).errors).toEqual([
      { path: 'patient.sex', message: 'expected one of "M", "F", got an array' },
    ]);
  });

  it('refuses an insured id that could not be a history key', async () => {
    const problem = bodyOf(
      await harness().call(prescreen(draft({ patient: { insuredId: 'P'.repeat(65) } }))),
    );
    expect(problem.errors).toEqual([
      { path: 'patient.insuredId', message: 'expected at most 64 characters of well-formed Unicode' },
    ]);
  });

  it('names the parser’s reason for a body that is not JSON', async () => {
    const result = await harness().call(prescreen(undefined, { rawBody: '{"patient": {' }));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:invalid-json',
      detail: expect.stringMatching(/^the body is not valid JSON: .+/),
    });
  });

  it('asks for a body when there is none', async () => {
    const result = await harness().call(prescreen(undefined, { rawBody: '' }));
    expect(bodyOf(result)).toMatchObject({
      status: 400,
      detail: expect.stringContaining('the body is empty'),
    });
  });

  it('refuses a body that is not declared as JSON with 415', async () => {
    const result = await harness().call(
      prescreen(draft(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    );
    expect(result.statusCode).toBe(415);
    expect(bodyOf(result).type).toBe('urn:fundguard:problem:unsupported-media-type');
  });

  it('refuses a body over the size limit with 413 before parsing it', async () => {
    const result = await harness().call(prescreen(undefined, { rawBody: `"${'x'.repeat(MAX_BODY_BYTES)}"` }));
    expect(result.statusCode).toBe(413);
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:payload-too-large',
      detail: expect.stringContaining(`limit is ${MAX_BODY_BYTES} bytes`),
    });
  });

  it.each([
    ['GET', '/v1/nope'],
    ['GET', '/v1/hospitals/H3001/alerts/extra'],
    ['DELETE', '/'],
  ])('answers %s %s with a 404 problem', async (method, path) => {
    const result = await harness().call({ method, path, rawBody: '{}' });
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({ type: 'urn:fundguard:problem:not-found', status: 404 });
  });

  it.each([
    ['GET', '/v1/prescreen', 'POST'],
    ['DELETE', '/v1/prescreen', 'POST'],
    ['POST', '/v1/hospitals/H3001/alerts', 'GET'],
  ])('answers %s %s with a 405 problem and Allow: %s', async (method, path, allow) => {
    const result = await harness().call({ method, path, rawBody: '{}' });
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe(allow);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(bodyOf(result)).toMatchObject({ type: 'urn:fundguard:problem:method-not-allowed', status: 405 });
  });
});

describe('the edges of input: names, numbers and bytes', () => {
  it.each(['__proto__', 'constructor', 'toString', 'foo'])(
    'refuses an unknown query parameter named %s, naming it, with an RFC 9457 body',
    async (name) => {
      // API Gateway hands the query over as parsed JSON: `__proto__` arrives as an own key.
      const query = JSON.parse(`{${JSON.stringify(name)}: "1"}`) as Record<string, string>;
      const result = await harness().call({ path: `/v1/hospitals/${OWN}/alerts`, query });
      expect(result.statusCode).toBe(400);
      expect(result.headers?.['content-type']).toBe('application/problem+json');
      expect(bodyOf(result)).toMatchObject({
        type: 'urn:fundguard:problem:invalid-query',
        status: 400,
        errors: [{ path: `query.${name}`, message: 'unknown field' }],
      });
    },
  );

  it.each([
    ['1e309', 'Infinity'],
    ['-1e309', '-Infinity'],
  ])(
    'refuses a quantity of %s as a number out of range, not "expected number, got number"',
    async (text, got) => {
      const body = JSON.stringify(draft({ items: [metformin()] })).replace(
        '"quantity":60',
        `"quantity":${text}`,
      );
      expect(body).toContain(text);
      const result = await harness().call(prescreen(undefined, { rawBody: body }));
      expect(result.statusCode).toBe(400);
      const [error] = bodyOf(result).errors;
      expect(error.path).toBe('items[0].quantity');
      expect(error.message).toContain(`expected a finite number, got ${got}, a number out of range`);
      expect(error.message).not.toContain('got number');
    },
  );

  it('refuses a body that is not UTF-8 with 400 naming the byte, instead of replacing it and answering 200', async () => {
    const text = Buffer.from(JSON.stringify(draft({ items: [metformin({ name: 'MARK' })] })), 'utf8');
    const at = text.indexOf('MARK');
    // 0xC3 0x28: a two-byte lead followed by an ASCII byte, as a Latin-1 or GBK client might send.
    text[at] = 0xc3;
    text[at + 1] = 0x28;
    const api = harness();
    const event = {
      ...apiEvent(prescreen(undefined, { rawBody: 'x' })),
      body: text.toString('base64'),
      isBase64Encoded: true,
    };
    const result = await api.send(event);
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:invalid-json',
      detail: `the body is not valid UTF-8 (from byte ${at}); send JSON encoded as UTF-8`,
    });
  });
});

describe('authentication and authorization', () => {
  it('answers 401 with a challenge when the key is missing', async () => {
    const result = await harness().call(prescreen(draft(), { key: null }));
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['www-authenticate']).toBe('ApiKey header="x-api-key"');
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:unauthenticated',
      detail: expect.stringContaining('x-api-key'),
    });
  });

  it.each([
    ['a made-up key', 'fgk_not-a-key'],
    ['an over-long header', 'x'.repeat(10_000)],
    ['the hash instead of the key', ownKey.entry.sha256],
  ])('answers 401 for %s', async (_what, key) => {
    const result = await harness().call(prescreen(draft(), { key }));
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result).detail).toBe('the API key is not valid');
  });

  it('refuses another hospital’s draft with a 403 that is the same whether or not that hospital exists', async () => {
    const api = harness();
    const existing = await api.call(prescreen(draft({ hospital: { hospitalId: NEIGHBOUR } })));
    const unknown = await api.call(prescreen(draft({ hospital: { hospitalId: 'H9999' } })));
    expect(existing.statusCode).toBe(403);
    expect(bodyOf(existing).type).toBe('urn:fundguard:problem:forbidden');
    expect(unknown).toEqual(existing);
  });

  it('refuses another hospital’s alerts with the same 403 whether or not it exists, without reading them', async () => {
    const api = harness();
    const existing = await api.call({ path: `/v1/hospitals/${NEIGHBOUR}/alerts` });
    const unknown = await api.call({ path: '/v1/hospitals/H9999/alerts' });
    expect(existing.statusCode).toBe(403);
    expect(unknown).toEqual(existing);
    expect(api.alerts.queries).toEqual([]);
  });

  it('lets each hospital’s key reach its own alerts only', async () => {
    const api = harness();
    const own = await api.call({ path: `/v1/hospitals/${NEIGHBOUR}/alerts`, key: neighbourKey.key });
    expect(own.statusCode).toBe(200);
    expect(bodyOf(own)).toEqual({ hospitalId: NEIGHBOUR, alerts: [], nextCursor: null });
    expect(api.alerts.queries.map((q) => q.hospitalId)).toEqual([NEIGHBOUR]);
  });

  it('takes the hospital from the Lambda authorizer’s context in AWS, and refuses a request without one', async () => {
    const handler = createApiHandler({
      screener: core.screener,
      history: new InMemoryHistoryStore(),
      alerts: recordingAlerts(),
      authenticate: byAuthorizerContext(),
      cursors,
      logger: { error: () => {}, debug: () => {} },
    });
    const withKeyOnly = apiEvent(prescreen(draft({ items: [metformin()] })));
    const authorized = {
      ...withKeyOnly,
      requestContext: {
        ...withKeyOnly.requestContext,
        authorizer: { lambda: { hospitalId: OWN, keyId: 'k' } },
      },
    };
    expect((await handler(authorized, lambdaContext)).statusCode).toBe(200);
    // The key alone is the authorizer's business: without its context the function refuses.
    expect((await handler(withKeyOnly, lambdaContext)).statusCode).toBe(401);
    const other = { ...authorized, body: JSON.stringify(draft({ hospital: { hospitalId: NEIGHBOUR } })) };
    expect((await handler(other, lambdaContext)).statusCode).toBe(403);
  });

  it('lets the Lambda authorizer accept a hospital’s key and name the hospital, and refuse any other', () => {
    expect(authorizeRequest(keyring, { headers: { 'x-api-key': neighbourKey.key } })).toEqual({
      isAuthorized: true,
      context: { hospitalId: NEIGHBOUR, keyId: 'test-neighbour' },
    });
    expect(authorizeRequest(keyring, { headers: { 'x-api-key': 'fgk_wrong' } }).isAuthorized).toBe(false);
    expect(authorizeRequest(keyring, { headers: {} }).isAuthorized).toBe(false);
  });

  it('holds a keys file to hex hashes, unique key ids and two keys per hospital (one rotation)', () => {
    const entry = (keyId: string, hospitalId = OWN) => issueKey(hospitalId, keyId).entry;
    expect(KeysFile.safeParse({ keys: [entry('a'), entry('b')] }).success).toBe(true);
    const three = KeysFile.safeParse({ keys: [entry('a'), entry('b'), entry('c')] });
    expect(three.error?.issues.map((i) => i.message)).toEqual([
      `${OWN} has more than 2 keys; revoke the old key of a rotation first`,
    ]);
    expect(KeysFile.safeParse({ keys: [entry('a'), entry('a', NEIGHBOUR)] }).success).toBe(false);
    expect(KeysFile.safeParse({ keys: [{ ...entry('a'), sha256: 'plaintext-key' }] }).success).toBe(false);
  });
});

describe('GET /v1/hospitals/{hospitalId}/alerts: the query', () => {
  const alertsOf = (query: Record<string, string>) => ({ path: `/v1/hospitals/${OWN}/alerts`, query });

  const positionIn = (hospitalId: string, at = '2026-10-05T08:00:00.000Z'): AlertsPosition => ({
    flagId: 'F-0123456789abcdef01234567',
    hospitalId,
    createdAtFlagId: `${at}#F-0123456789abcdef01234567`,
  });

  /** The handler over a store whose every page ends at `positionIn(hospital)`, so each answer carries a cursor. */
  function paging() {
    const alerts = recordingAlerts((query) => positionIn(query.hospitalId));
    return { ...harness({ alerts }), alerts };
  }

  it('passes the hospital, limit, since (as stored timestamps compare) and the position of its own cursor to the store', async () => {
    const api = paging();
    const first = await api.call(alertsOf({ since: '2026-10-01', limit: '10' }));
    const { nextCursor } = bodyOf(first);
    expect(nextCursor).toEqual(expect.any(String));
    const result = await api.call(alertsOf({ since: '2026-10-01', limit: '10', cursor: nextCursor }));
    expect(result.statusCode).toBe(200);
    expect(api.alerts.queries[1]).toEqual({
      hospitalId: OWN,
      limit: 10,
      since: '2026-10-01T00:00:00.000Z',
      after: positionIn(OWN),
    });
  });

  it('refuses a forged cursor: a well-formed position in the caller’s own listing that FundGuard did not sign', async () => {
    const api = paging();
    const forged = await api.call(alertsOf({ cursor: encodeCursor(positionIn(OWN)) }));
    expect(forged.statusCode).toBe(400);
    expect(forged.headers?.['content-type']).toBe('application/problem+json');
    expect(bodyOf(forged)).toMatchObject({ type: 'urn:fundguard:problem:invalid-cursor', status: 400 });
    // A signed cursor whose position was edited afterwards (another flag, an earlier time) fails alike.
    const { nextCursor } = bodyOf(await api.call(alertsOf({})));
    const [version, , mac] = String(nextCursor).split('.');
    const edited = `${version}.${encodeCursor(positionIn(OWN, '2026-09-01T00:00:00.000Z'))}.${mac}`;
    expect(bodyOf(await api.call(alertsOf({ cursor: edited }))).type).toBe(
      'urn:fundguard:problem:invalid-cursor',
    );
    expect(api.alerts.queries.filter((q) => q.after)).toEqual([]);
  });

  it('refuses a cursor issued to another hospital exactly as it refuses garbage', async () => {
    const api = paging();
    const { nextCursor: theirs } = bodyOf(
      await api.call({ path: `/v1/hospitals/${NEIGHBOUR}/alerts`, key: neighbourKey.key }),
    );
    const foreign = await api.call(alertsOf({ cursor: theirs }));
    const garbage = await api.call(alertsOf({ cursor: 'bm90IGEgY3Vyc29y' }));
    expect(foreign.statusCode).toBe(400);
    expect(bodyOf(foreign).type).toBe('urn:fundguard:problem:invalid-cursor');
    expect(bodyOf(garbage).type).toBe('urn:fundguard:problem:invalid-cursor');
    expect(api.alerts.queries.filter((q) => q.after)).toEqual([]);
  });

  it('refuses its own cursor replayed on the listing with another `since`, and follows it on the same one', async () => {
    const api = paging();
    const { nextCursor } = bodyOf(await api.call(alertsOf({ since: '2026-10-01' })));
    const replayed = await api.call(alertsOf({ since: '2026-09-01', cursor: nextCursor }));
    expect(bodyOf(replayed)).toMatchObject({
      type: 'urn:fundguard:problem:invalid-cursor',
      detail: expect.stringContaining('not issued to this caller for this listing'),
    });
    expect((await api.call(alertsOf({ since: '2026-10-01', cursor: nextCursor }))).statusCode).toBe(200);
    // The page size is not part of the listing: a client may ask for more on the next page.
    expect(
      (await api.call(alertsOf({ since: '2026-10-01', limit: '50', cursor: nextCursor }))).statusCode,
    ).toBe(200);
  });

  it('refuses a cursor signed with another deployment’s key', async () => {
    const elsewhere = new CursorSigner(randomBytes(32));
    const api = paging();
    const { nextCursor } = bodyOf(await api.call(alertsOf({})));
    const [, position] = String(nextCursor).split('.');
    const scope = {
      caller: `hospital:${OWN}`,
      listing: 'GET /v1/hospitals/{hospitalId}/alerts?[["hospitalId","H3001"]]',
    };
    const result = await api.call(alertsOf({ cursor: elsewhere.seal(scope, position ?? '') }));
    expect(bodyOf(result).type).toBe('urn:fundguard:problem:invalid-cursor');
  });

  it.each([
    [{ since: 'yesterday' }, 'query.since'],
    [{ since: '2026-02-30' }, 'query.since'],
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: 'ten' }, 'query.limit'],
    [{ page: '2' }, 'query.page'],
  ])('refuses %o naming %s', async (query, path) => {
    const result = await harness().call(alertsOf(query));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ type: 'urn:fundguard:problem:invalid-query' });
    expect(bodyOf(result).errors.map((e: Json) => e.path)).toEqual([path]);
  });
});

describe('faults', () => {
  it('answers 500 without internals when the history store fails, and logs the error', async () => {
    const failing: Pick<HistoryStore, 'claimsFor'> = {
      claimsFor: async () => {
        throw new Error('ResourceNotFoundException: Cannot do operations on a non-existent table');
      },
    };
    const api = harness({ history: failing });
    const result = await api.call(prescreen(draft()));
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toEqual({
      type: 'urn:fundguard:problem:internal',
      title: 'Internal server error',
      status: 500,
      detail: 'an internal error occurred; the request may be retried (request id test-request)',
    });
    expect(api.errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('non-existent') }),
    ]);
  });
});

describe('time budget', () => {
  it('answers 503 when the history lookup outlives the function’s remaining time', async () => {
    const slow: Pick<HistoryStore, 'claimsFor'> = {
      claimsFor: () => new Promise((resolve) => setTimeout(() => resolve([]), 1_000)),
    };
    const errors: unknown[] = [];
    const handler = createApiHandler({
      screener: core.screener,
      history: slow,
      alerts: recordingAlerts(),
      authenticate: byApiKey(keyring),
      cursors,
      logger: { error: (_message, attributes) => errors.push(attributes.error), debug: () => {} },
    });
    const almostOut = { awsRequestId: 'late-request', getRemainingTimeInMillis: () => 20 } as Context;
    const result = await handler(apiEvent(prescreen(draft())), almostOut);
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:timeout',
      detail: expect.stringContaining('request id late-request'),
    });
    expect(errors).toEqual([expect.objectContaining({ name: 'TimeoutError' })]);
  });
});

describe('bounded answers', () => {
  /** 750 emergency monitoring and 750 emergency consultation lines on one day: 562,500 exclusive pairs. */
  const sameDayPairs = () =>
    draft({
      visit: { type: 'emergency' },
      items: Array.from({ length: 1_500 }, (_, i) =>
        i < 750
          ? line(i + 1, '001103000010000', '急诊监护费', 'service')
          : line(i + 1, '001102000030000', '急诊诊查费', 'service'),
      ),
    });

  it('answers a 750 × 750 same-day exclusive-pair draft with one alert naming every line, not one per pair', async () => {
    const body = JSON.stringify(sameDayPairs());
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_BODY_BYTES);
    const result = await harness().call(prescreen(undefined, { rawBody: body }));
    expect(result.statusCode).toBe(200);
    const duplicates = bodyOf(result).alerts.filter(
      (a: { ruleId: string }) => a.ruleId === 'GZ-SERVICE-DUPLICATE',
    );
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0].lineNos).toEqual(Array.from({ length: 1_500 }, (_, i) => i + 1));
    // The consultation lines are the duplicate charge: 750 × 10 元.
    expect(duplicates[0].amountAtRisk).toBe(7_500);
    // Far below API Gateway's and Lambda's 6 MB response limit.
    expect(Buffer.byteLength(result.body)).toBeLessThan(100_000);
  });
});

describe('bounded answers: the worst drafts the API accepts', () => {
  /** As many lines of `shape` as the body limit and the line limit allow. */
  function fullest(shape: (lineNo: number) => Json, patch: Json = {}): string {
    let lines = CLAIM_LIMITS.lines;
    for (;;) {
      const body = JSON.stringify(
        draft({ ...patch, items: Array.from({ length: lines }, (_, i) => shape(i + 1)) }),
      );
      if (Buffer.byteLength(body) <= MAX_BODY_BYTES) return body;
      lines -= 50;
    }
  }
  const man = { patient: { sex: 'M' } };
  const outpatient = { visit: { type: 'outpatient' } };
  const shapes: [string, string][] = [
    [
      'same-day duplicates of one service',
      fullest((n) => line(n, '001102000030000', '急诊诊查费', 'service')),
    ],
    ['a female-only service on every line, for a man', fullest((n) => uterography(n), man)],
    [
      'exclusive pairs on one day',
      fullest(
        (n) =>
          n % 2
            ? line(n, '001103000010000', '急诊监护费', 'service')
            : line(n, '001102000030000', '急诊诊查费', 'service'),
        { visit: { type: 'emergency' } },
      ),
    ],
    [
      'an over-long supply of one drug on every line, each a repeat of the history’s',
      fullest((n) => metformin({ lineNo: n, quantity: 600, amount: 210, daysSupply: 300 }), outpatient),
    ],
  ];

  const history = new InMemoryHistoryStore();
  beforeAll(() => {
    // Every history shape the rules read: the same drug and service over the past year, each month.
    const earlier = Array.from({ length: 12 }, (_, m) =>
      settled('P-0001', `C-EARLIER-${m}`, {
        items: [
          metformin({ serviceDate: `2026-${String(m + 1).padStart(2, '0')}-01` }),
          line(2, '001102000030000', '急诊诊查费', 'service', {
            serviceDate: `2026-${String(m + 1).padStart(2, '0')}-01`,
          }),
        ],
      }),
    );
    for (const claim of earlier) history.add(claim);
    // And each line's item settled the same day in another claim: 同一项目同日重复结算 on every line.
    history.add(
      settled('P-0001', 'C-SAME-DAY', {
        items: [
          line(1, '001102000030000', '急诊诊查费', 'service'),
          line(2, '001103000010000', '急诊监护费', 'service'),
          metformin({ lineNo: 3 }),
        ],
      }),
    );
  });

  it.each(shapes)('answers %s far below 6 MB, every alert listed or counted', async (_shape, body) => {
    const result = await harness({ history }).call(prescreen(undefined, { rawBody: body }));
    expect(result.statusCode).toBe(200);
    const answer = bodyOf(result);
    expect(Buffer.byteLength(result.body)).toBeLessThan(1024 * 1024);
    const perRule = new Map<string, number>();
    for (const alert of answer.alerts) perRule.set(alert.ruleId, (perRule.get(alert.ruleId) ?? 0) + 1);
    for (const n of perRule.values()) expect(n).toBeLessThanOrEqual(MAX_ALERTS_PER_RULE);
    // What the screener found, every flag of it, is in the answer: listed, or counted with its lines.
    const parsed = parseDraft(JSON.parse(body));
    const { flags } = await core.screener.screen(parsed, {
      stage: 'pre',
      history: await historyFor(parsed, core.ruleSet.historyDays('pre'), history),
    });
    const omitted = answer.omittedAlerts.reduce((n: number, o: { count: number }) => n + o.count, 0);
    expect(answer.alerts.length + omitted).toBe(flags.length);
    for (const rest of answer.omittedAlerts) {
      const lines = new Set(flags.filter((f) => f.ruleId === rest.ruleId).flatMap((f) => f.lineNos));
      for (const n of rest.lineNos) expect(lines.has(n)).toBe(true);
    }
  });

  it('lists 20 alerts of a rule that fires on every line and counts the rest with their lines, still would-reject', async () => {
    const [, body] = shapes[1] ?? [];
    const lines = JSON.parse(body ?? '{}').items.length;
    const answer = bodyOf(await harness().call(prescreen(undefined, { rawBody: body })));
    expect(answer.verdict).toBe('would-reject');
    expect(answer.alerts.filter((a: Json) => a.ruleId === 'GZ-SERVICE-SEX')).toHaveLength(
      MAX_ALERTS_PER_RULE,
    );
    const rest = answer.omittedAlerts.find((o: Json) => o.ruleId === 'GZ-SERVICE-SEX');
    expect(rest).toMatchObject({ ruleClass: '医疗服务项目区分性别使用', count: lines - MAX_ALERTS_PER_RULE });
    expect(rest.lineNos).toHaveLength(lines - MAX_ALERTS_PER_RULE);
  });

  it('refuses with a 422 problem, not a timeout, a draft whose screening outlives its time budget', async () => {
    const [, body] = shapes[1] ?? [];
    const result = await harness({ screenBudgetMs: 0 }).call(prescreen(undefined, { rawBody: body }));
    expect(result.statusCode).toBe(422);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(bodyOf(result)).toMatchObject({
      type: 'urn:fundguard:problem:screen-budget',
      status: 422,
      detail: expect.stringMatching(
        /lines did not finish within its 0 ms budget \(at rule [\w-]+\); split it/,
      ),
    });
  });
});

describe('fuzz: no input makes the API fail', () => {
  const ALLOWED = [200, 400, 401, 403, 404, 405, 413];
  const api = harness();

  async function expectAnswered(request: Request): Promise<ApiResult> {
    const result = await api.call(request);
    expect(ALLOWED).toContain(result.statusCode);
    const body = JSON.parse(result.body);
    if (result.statusCode !== 200) {
      expect(body.status).toBe(result.statusCode);
      expect(result.headers?.['content-type']).toBe('application/problem+json');
    }
    return result;
  }

  let drafts: Json[] = [];
  beforeAll(async () => {
    drafts = (await generateClaims({ seed: 4242, claims: 300, violationRate: 0.3 }, core)).claims.map(
      (claim) => {
        const { claimId: _c, submittedAt: _s, totals: _t, ...rest } = claim;
        return { ...rest, hospital: { ...rest.hospital, hospitalId: OWN } } as Json;
      },
    );
  });

  const loneSurrogates = fc.string({
    unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  });
  const deeplyNested = fc.integer({ min: 1, max: 2_000 }).map((depth) => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = i % 2 ? { nested: value } : [value];
    return value;
  });
  const junk = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
      5e-324,
      -0,
      0,
      0.001,
      2 ** 53,
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    loneSurrogates,
    fc.constantFrom(
      '',
      '2026-02-30',
      '0000-01-01',
      '9999-12-31',
      '1900-01-01',
      'X'.repeat(5_000),
      '__proto__',
    ),
    deeplyNested,
  );

  /**
   * The paths into a JSON value, down to a depth past any in a claim: a mutation deep inside junk
   * it planted itself teaches nothing, and walking 2,000 levels of it would only slow the test.
   */
  function paths(value: unknown, maxDepth = 8): (string | number)[][] {
    const found: (string | number)[][] = [];
    const stack: { node: unknown; path: (string | number)[] }[] = [{ node: value, path: [] }];
    while (stack.length) {
      const { node, path } = stack.pop() ?? { node: null, path: [] };
      if (node === null || typeof node !== 'object' || path.length >= maxDepth) continue;
      const entries: [string | number, unknown][] = Array.isArray(node)
        ? node.map((v, i) => [i, v])
        : Object.entries(node as Json);
      for (const [key, child] of entries) {
        found.push([...path, key]);
        stack.push({ node: child, path: [...path, key] });
      }
    }
    return found;
  }

  function mutate(
    target: Json,
    path: (string | number)[],
    op: { kind: 'delete' } | { kind: 'set'; value: unknown },
  ) {
    let parent: unknown = target;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
    const last = path.at(-1);
    if (last === undefined || parent === null || typeof parent !== 'object') return;
    const container = parent as Record<string | number, unknown>;
    if (op.kind === 'set') container[last] = op.value;
    else if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
    else delete container[last];
  }

  const mutation = fc.record({
    at: fc.nat(),
    op: fc.oneof(
      fc.constant({ kind: 'delete' as const }),
      junk.map((value) => ({ kind: 'set' as const, value })),
      fc.constantFrom(OWN, NEIGHBOUR, 'H9999').map((value) => ({ kind: 'set' as const, value })),
    ),
  });

  it('answers every mutated draft claim with 200 or a problem', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: drafts.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (i, mutations) => {
          const body = structuredClone(drafts[i]) as Json;
          for (const { at, op } of mutations) {
            const all = paths(body);
            const path = all[at % Math.max(1, all.length)];
            if (path) mutate(body, path, op);
          }
          statuses.add((await expectAnswered(prescreen(body))).statusCode);
        },
      ),
      { numRuns: 400 },
    );
    expect(api.errors).toEqual([]);
    // The mutations reach both sides of validation: some drafts stay valid and are screened.
    expect([...statuses]).toEqual(expect.arrayContaining([200, 400]));
  });

  it('answers any JSON value as a body with a problem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const result = await expectAnswered(prescreen(value));
        expect(result.statusCode).toBe(400);
      }),
      { numRuns: 300 },
    );
    expect(api.errors).toEqual([]);
  });

  it('answers any text as a body, and any header values, without failing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.option(fc.string({ maxLength: 80 }), { nil: null }),
        fc.constantFrom('application/json', 'application/problem+json', 'application/json; charset=utf-8'),
        async (text, key, contentType) => {
          await expectAnswered(
            prescreen(undefined, { rawBody: text, key, headers: { 'content-type': contentType } }),
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(api.errors).toEqual([]);
  });

  it('answers any query string and path of the alerts listing without failing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('since', 'cursor', 'limit', 'x'),
          fc.oneof(fc.string(), loneSurrogates, fc.base64String()),
        ),
        fc.oneof(
          fc.constant(OWN),
          fc.string({ minLength: 1 }).filter((s) => !s.includes('/')),
        ),
        async (query, hospitalId) => {
          await expectAnswered({ path: `/v1/hospitals/${hospitalId}/alerts`, query });
        },
      ),
      { numRuns: 300 },
    );
    expect(api.errors).toEqual([]);
  });
});
