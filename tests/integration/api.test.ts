import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import type { Stage } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { type LocalApi, startLocalApi } from '../../src/local/api.ts';
import { ensureLocalKeys } from '../../src/local/api-keys.ts';
import type { LocalResources } from '../../src/local/provisioning.ts';
import { DynamoOutcomeStore } from '../../src/stores/dynamo.ts';
import {
  claim as claimOf,
  draft as draftOf,
  type Json,
  line,
  metformin,
  uterography,
} from '../helpers/claims.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { answerRecorder, expectDocumented } from '../helpers/openapi.ts';

const core = loadCore();

/** The members of answers and problem bodies the tests read. */
interface Body {
  verdict: string;
  alerts: Json[];
  nextCursor: string | null;
  type: string;
  errors: { path: string; message: string }[];
}

let stack: TestStack;
let resources: LocalResources;
let outcomes: DynamoOutcomeStore;
let api: LocalApi;
let stateDir: string;
/** What the API logged as its own faults: every test expects none. */
const serverErrors: Json[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  resources = await stack.provision('api');
  outcomes = new DynamoOutcomeStore(stack.documents, resources.tables);
  stateDir = mkdtempSync(join(tmpdir(), 'fundguard-api-'));
  api = await startLocalApi({
    endpoints: stack.services.endpoints,
    tables: resources.tables,
    stateDir,
    screener: core.screener,
    logger: {
      error: (message, attributes) => serverErrors.push({ message, ...attributes }),
      debug: () => {},
    },
  });
});

afterAll(async () => {
  await api?.stop();
  await stack?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** Settle claims as the in-process stage does: screen, then write history, decision and flags. */
async function settle(claims: Claim[], now: (i: number) => Date, stage: Stage = 'in'): Promise<void> {
  const screened = [];
  for (const [i, claim] of claims.entries()) {
    const { flags, decision } = await core.screener.screen(claim, { stage, now: now(i) });
    screened.push({ claim, decision, flags, decidedAt: now(i).toISOString() });
  }
  const { failed } = await outcomes.recordAll(screened);
  expect([...failed.entries()]).toEqual([]);
}

async function post(body: unknown, hospitalId = 'H3001', path = '/v1/prescreen') {
  const response = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': api.keys[hospitalId] ?? '' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answerOf('POST', path, response);
}

async function get(path: string, hospitalId = 'H3001') {
  const response = await fetch(`${api.url}${path}`, { headers: { 'x-api-key': api.keys[hospitalId] ?? '' } });
  return answerOf('GET', path, response);
}

/** Every answer the tests received, checked against docs/openapi.json at the end. */
const { answers, record } = answerRecorder();

async function answerOf(method: string, path: string, response: Response) {
  const text = await response.text();
  record(method, path, response, text);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: JSON.parse(text) as Body,
  };
}

describe('prescreen with history from DynamoDB', () => {
  it('alerts a repeat prescription while the earlier supply (at another hospital) lasts, with the earliest date', async () => {
    await settle(
      [
        claimOf({
          claimId: 'C-INT-REPEAT-1',
          patient: { insuredId: 'P-INT-REPEAT' },
          hospital: { hospitalId: 'H3002' },
          items: [metformin({ serviceDate: '2026-09-20' })],
        }),
      ],
      () => new Date('2026-09-20T18:00:00Z'),
    );

    const { status, body } = await post(
      draftOf({ patient: { insuredId: 'P-INT-REPEAT' }, items: [metformin()] }),
    );

    expect(status).toBe(200);
    expect(body.verdict).toBe('warn');
    expect(body.alerts).toEqual([
      expect.objectContaining({
        ruleId: 'GZ-REPEAT-PRESCRIPTION',
        ruleClass: '重复开药',
        inProcessAction: 'hold',
        lineNos: [1],
        message: '二甲双胍片于2026-09-20已开药，至本次仍余17天用量（允许提前7天）',
        suggestion: '前次（2026-09-20）所开药量尚余17天，最早可于2026-10-13再次开具',
      }),
    ]);
  });

  it('does not alert once the earlier supply has run out', async () => {
    await settle(
      [
        claimOf({
          claimId: 'C-INT-RUNOUT-1',
          patient: { insuredId: 'P-INT-RUNOUT' },
          items: [metformin({ serviceDate: '2026-08-20' })],
        }),
      ],
      () => new Date('2026-08-20T18:00:00Z'),
    );
    const { body } = await post(draftOf({ patient: { insuredId: 'P-INT-RUNOUT' }, items: [metformin()] }));
    expect(body).toMatchObject({ verdict: 'ok', alerts: [] });
  });

  it('gives the days left of a course partly paid in an earlier stay', async () => {
    const drug = (lineNo: number, day: string) =>
      line(lineNo, 'XC05CAQ005B001010100526', '注射用七叶皂苷钠', 'drug', { serviceDate: day });
    await settle(
      [
        claimOf({
          claimId: 'C-INT-COURSE-1',
          patient: { insuredId: 'P-INT-COURSE' },
          visit: { type: 'inpatient', admittedAt: '2026-09-20', dischargedAt: '2026-09-27' },
          items: Array.from({ length: 8 }, (_, i) => drug(i + 1, `2026-09-${20 + i}`)),
        }),
      ],
      () => new Date('2026-09-28T08:00:00Z'),
    );

    const { body } = await post(
      draftOf({
        patient: { insuredId: 'P-INT-COURSE' },
        visit: { type: 'inpatient', admittedAt: '2026-10-01' },
        items: [drug(1, '2026-10-01'), drug(2, '2026-10-02'), drug(3, '2026-10-03')],
      }),
    );

    expect(body.alerts).toEqual([
      expect.objectContaining({
        ruleId: 'GZ-DRUG-COURSE-HISTORY',
        lineNos: [3],
        message: '注射用七叶皂苷钠支付不超过10天，此前已计费8天，本次再计费3天',
        suggestion: '注射用七叶皂苷钠本疗程尚可支付2天',
      }),
    ]);
  });

  it('answers any insured id with 200 or 400, never a DynamoDB error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
          fc.string({
            unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
            minLength: 1,
          }),
          fc.string({ unit: 'grapheme', minLength: 60, maxLength: 70 }),
        ),
        async (insuredId) => {
          const { status, body } = await post(draftOf({ patient: { insuredId }, items: [metformin()] }));
          expect([200, 400]).toContain(status);
          if (status === 400) expect(body.errors.map((e: Json) => e.path)).toEqual(['patient.insuredId']);
        },
      ),
      { numRuns: 60 },
    );
    expect(serverErrors).toEqual([]);
  });
});

describe('GET /v1/hospitals/{hospitalId}/alerts on the byHospital index', () => {
  // Seven flagged claims of H3001 a day apart, one of H3002, and a post-event flag of H3001 that is no alert.
  const day = (i: number) => new Date(Date.UTC(2026, 9, 1 + i, 9, 30));
  let expected: { alertId: string; createdAt: string }[];

  beforeAll(async () => {
    const male = (claimId: string, hospitalId: string, serviceDate: string) =>
      claimOf({
        claimId,
        patient: { insuredId: `P-${claimId}`, sex: 'M' },
        hospital: { hospitalId },
        items: [uterography(1, serviceDate)],
      });
    const own = Array.from({ length: 7 }, (_, i) => male(`C-INT-ALERT-${i}`, 'H3001', `2026-10-0${1 + i}`));
    await settle(own, day);
    await settle([male('C-INT-OTHER-0', 'H3002', '2026-10-01')], day);
    await settle([male('C-INT-POST-0', 'H3001', '2026-10-01')], () => day(9), 'post');
    expected = own
      .map((claim, i) => ({ claimId: claim.claimId, createdAt: day(i).toISOString() }))
      .reverse()
      .map(({ createdAt }) => ({ alertId: expect.stringMatching(/^F-/), createdAt }));
  });

  const collect = async (query: string) => {
    const pages: Json[][] = [];
    let cursor: string | null = null;
    do {
      const { status, body } = await get(
        `/v1/hospitals/H3001/alerts?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(status).toBe(200);
      pages.push(body.alerts);
      cursor = body.nextCursor;
    } while (cursor && pages.length < 10);
    return pages;
  };

  it('lists a hospital’s in-process alerts newest first, page by page with the cursor', async () => {
    const pages = await collect('limit=3');
    expect(pages.slice(0, 3).map((p) => p.length)).toEqual([3, 3, 1]);
    const all = pages.flat();
    expect(all.map((a) => ({ alertId: a.alertId, createdAt: a.createdAt }))).toEqual(expected);
    expect(new Set(all.map((a) => a.alertId)).size).toBe(7);
    expect(all[0]).toMatchObject({
      claimId: 'C-INT-ALERT-6',
      ruleId: 'GZ-SERVICE-SEX',
      ruleClass: '医疗服务项目区分性别使用',
      severity: 'high',
      result: 'violation',
      action: 'reject',
      status: 'open',
      lineNos: [1],
      message: '子宫造影为女性项目，患者为男性',
      basis: expect.objectContaining({ code: 'GZ10000302004000' }),
    });
  });

  it('lists only the alerts created at or after `since`', async () => {
    const pages = await collect(`since=${encodeURIComponent(day(4).toISOString())}&limit=2`);
    expect(pages.flat().map((a) => a.createdAt)).toEqual(
      [day(6), day(5), day(4)].map((d) => d.toISOString()),
    );
    const byDate = await get('/v1/hospitals/H3001/alerts?since=2026-10-07');
    expect(byDate.body.alerts.map((a: Json) => a.claimId)).toEqual(['C-INT-ALERT-6']);
  });

  it('refuses another hospital’s alerts with the same 403 whether it has alerts or does not exist', async () => {
    const existing = await get('/v1/hospitals/H3002/alerts');
    const missing = await get('/v1/hospitals/H9999/alerts');
    expect(existing.status).toBe(403);
    expect(existing.type).toBe('application/problem+json');
    expect(missing).toEqual(existing);
    // H3002 does have alerts, and its own key reads them.
    const theirs = await get('/v1/hospitals/H3002/alerts', 'H3002');
    expect(theirs.body.alerts.map((a: Json) => a.claimId)).toEqual(['C-INT-OTHER-0']);
  });

  it('screens a draft of the caller’s own hospital, and refuses one of another hospital with 403', async () => {
    const own = await post(draftOf({ hospital: { hospitalId: 'H3001' } }));
    expect(own.status).toBe(200);
    const { status, body } = await post(draftOf({ hospital: { hospitalId: 'H3002' } }));
    expect(status).toBe(403);
    expect(body.type).toBe('urn:fundguard:problem:forbidden');
  });

  it('follows a hospital’s own cursor, and refuses an invalid one or another hospital’s with 400', async () => {
    const garbage = await get('/v1/hospitals/H3001/alerts?cursor=not-a-cursor');
    expect(garbage.status).toBe(400);
    expect(garbage.body.type).toBe('urn:fundguard:problem:invalid-cursor');

    await settle(
      [
        claimOf({
          claimId: 'C-INT-OTHER-1',
          patient: { insuredId: 'P-C-INT-OTHER-1', sex: 'M' },
          hospital: { hospitalId: 'H3002' },
          items: [uterography(1, '2026-10-02')],
        }),
      ],
      () => day(1),
    );
    const theirs = await get('/v1/hospitals/H3002/alerts?limit=1', 'H3002');
    expect(theirs.body.nextCursor).toEqual(expect.any(String));
    const followed = await get(`/v1/hospitals/H3002/alerts?cursor=${theirs.body.nextCursor}`, 'H3002');
    expect(followed.status).toBe(200);
    const replayed = await get(`/v1/hospitals/H3001/alerts?cursor=${theirs.body.nextCursor}`);
    expect(replayed).toEqual(garbage);
  });
});

describe('the local HTTP server', () => {
  it('answers unknown routes and oversize bodies with problems over real HTTP', async () => {
    const unknown = await get('/v2/prescreen');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('application/problem+json');
    const oversize = await post(JSON.stringify({ padding: 'x'.repeat(300 * 1024) }));
    expect(oversize.status).toBe(413);
    expect(serverErrors).toEqual([]);
  });

  it('keeps a state directory’s local keys across restarts and gives another directory its own', () => {
    const again = ensureLocalKeys(stateDir);
    expect(again.created).toBe(false);
    expect(again.keys).toEqual(api.keys);
    const elsewhere = mkdtempSync(join(tmpdir(), 'fundguard-api-'));
    try {
      const other = ensureLocalKeys(elsewhere);
      expect(other.created).toBe(true);
      expect(Object.keys(other.keys)).toEqual(Object.keys(api.keys));
      for (const hospitalId of Object.keys(api.keys))
        expect(other.keys[hospitalId]).not.toBe(api.keys[hospitalId]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('prints a curl example that works as printed', async () => {
    const { exec } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(exec)(api.curlExample);
    expect(JSON.parse(stdout)).toMatchObject({
      verdict: 'warn',
      alerts: [expect.objectContaining({ ruleId: 'NHSA-DRUG-MAX-SUPPLY' })],
    });
  });
});

describe('the OpenAPI document (docs/openapi.json)', () => {
  it('describes every answer the pre-event API gave the tests above: status, media type and body', () => {
    expect(answers.length).toBeGreaterThan(20);
    expectDocumented(answers);
  });
});
