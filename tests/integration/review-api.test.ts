/**
 * The review API on the real local stack (DynamoDB Local): listings by every filter with cursor
 * pagination, detail, every role on every route, the workflow with its clocks, concurrency, bulk
 * decisions, export, scores and rule precision. Every answer is checked against the OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/contracts/flag.ts';
import { RuleFile } from '../../src/contracts/rule.ts';
import { openApiDocument } from '../../src/openapi.ts';
import { MAX_BULK } from '../../src/review/contracts.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import { REVIEW_ROUTES } from '../../src/review/routes.ts';
import { answerRecorder, expectDocumented } from '../helpers/openapi.ts';
import { sampleClaims, sampleScores, writeSampleClaims, writeScores } from '../helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../helpers/review-stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: every answer is validated against the OpenAPI document at the end; the tests read them as plain JSON
type Json = Record<string, any>;

const policy = loadReviewPolicy();
const DAY = 86_400_000;
/** The tests move the API's clock; it starts after every sample flag is created. */
let clock = new Date('2026-12-20T00:00:00Z');
let stack: ReviewStack;
const claims = sampleClaims(60, { stepMinutes: 2 * 24 * 60 });
const flags: Flag[] = claims.flatMap((c) => c.flags);

/** Every answer the tests received, for the contract check at the end. */
const { answers, record } = answerRecorder();

async function call(method: string, path: string, token: string | undefined, body?: unknown) {
  const response = await fetch(`${stack.review.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // Decoded by hand: fetch's text() would drop the export's byte-order mark.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
  const contentType = response.headers.get('content-type') ?? '';
  record(method, path, response, text);
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: contentType.includes('json') ? (JSON.parse(text) as Json) : ({} as Json),
  };
}

const auditor = () => stack.token('auditor-1');
const auditor2 = () => stack.token('auditor-2');
const ruleAuthor = () => stack.token('rule-author-1');
const hospital = (id: string) => stack.hospitalToken(id);

/** Every page of a listing, following cursors. */
async function everyPage(query: string, token: string, limit: number): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const answer = await call(
      'GET',
      `/v1/review/flags?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      token,
    );
    expect(answer.status).toBe(200);
    items.push(...answer.body.items);
    cursor = answer.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error('pagination did not end');
}

const ids = (items: readonly Json[]) => items.map((f) => f.flagId).sort();

beforeAll(async () => {
  stack = await startReviewStack('review', () => clock);
  await writeSampleClaims(stack.documents, stack.resources.tables, claims);
});

afterAll(async () => {
  await stack?.stop();
});

describe('listing flags', () => {
  const cases: [string, (f: Flag) => boolean][] = [
    ['status=open', (f) => f.status === 'open'],
    ['hospital=H3002', (f) => f.hospitalId === 'H3002'],
    ['doctor=D-H3001-02', (f) => f.doctorId === 'D-H3001-02'],
    ['rule=GZ-DRUG-SEX', (f) => f.ruleId === 'GZ-DRUG-SEX'],
    [`ruleClass=${encodeURIComponent('药品限支付疗程')}`, (f) => f.basis.ruleClass === '药品限支付疗程'],
    ['severity=high', (f) => f.severity === 'high'],
    ['stage=post', (f) => f.stage === 'post'],
    ['result=suspicious', (f) => f.result === 'suspicious'],
    ['from=2026-09&to=2026-10', (f) => f.createdAt >= '2026-09' && f.createdAt < '2026-11'],
    ['minAmount=500&maxAmount=1500', (f) => f.amountAtRisk >= 500 && f.amountAtRisk <= 1500],
    [
      'hospital=H3001&severity=medium&from=2026-09',
      (f) => f.hospitalId === 'H3001' && f.severity === 'medium' && f.createdAt >= '2026-09',
    ],
    [
      'rule=GZ-REPEAT-PRESCRIPTION&stage=in&minAmount=300',
      (f) => f.ruleId === 'GZ-REPEAT-PRESCRIPTION' && f.stage === 'in' && f.amountAtRisk >= 300,
    ],
  ];
  it.each(cases)(
    'answers %s with exactly the matching flags, page by page without gaps or repeats',
    async (query, match) => {
      const expected = flags.filter(match);
      expect(expected.length).toBeGreaterThan(0);
      const items = await everyPage(query, auditor(), 7);
      expect(items.length).toBe(new Set(items.map((f) => f.flagId)).size);
      expect(ids(items)).toEqual(ids(expected));
    },
  );

  it('lists newest first and gives one page without a cursor when everything fits', async () => {
    const answer = await call('GET', '/v1/review/flags?hospital=H2001&limit=200', auditor());
    const times = answer.body.items.map((f: Json) => f.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(answer.body.nextCursor).toBeNull();
  });

  it('refuses a cursor replayed with other filters, and names the bad parameters', async () => {
    const first = await call('GET', '/v1/review/flags?status=open&limit=2', auditor());
    const replay = await call(
      'GET',
      `/v1/review/flags?status=confirmed&limit=2&cursor=${first.body.nextCursor}`,
      auditor(),
    );
    expect(replay.status).toBe(400);
    expect(replay.body.type).toBe('urn:fundguard:problem:invalid-cursor');
    const bad = await call('GET', '/v1/review/flags?status=nope&limit=0&colour=red', auditor());
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: Json) => e.path).sort()).toEqual(['colour', 'limit', 'status']);
  });

  it('follows only cursors it signed for this caller: a forged, edited or another caller’s cursor is refused', async () => {
    const first = await call('GET', '/v1/review/flags?status=open&limit=2', auditor());
    const cursor = String(first.body.nextCursor);
    const [version, position, mac] = cursor.split('.');
    const inner = JSON.parse(Buffer.from(position ?? '', 'base64url').toString('utf8')) as Json;
    const edited = Buffer.from(
      JSON.stringify({ ...inner, s: 0, k: { ...inner.k, flagId: 'F-forged' } }),
    ).toString('base64url');
    const refusals = [
      // The listing's own position without FundGuard's signature: what a client could make up.
      [position, auditor()],
      [`${version}.${edited}.${mac}`, auditor()],
      // Issued to the first auditor; the second may not continue it, nor a hospital.
      [cursor, auditor2()],
      [cursor, hospital('H3001')],
    ] as const;
    for (const [forged, token] of refusals) {
      const answer = await call('GET', `/v1/review/flags?status=open&limit=2&cursor=${forged}`, token);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body.type).toBe('urn:fundguard:problem:invalid-cursor');
    }
    const own = await call('GET', `/v1/review/flags?status=open&limit=2&cursor=${cursor}`, auditor());
    expect(own.status).toBe(200);
  });

  it('refuses unknown query parameters whatever their name, and an amount out of range, each by name', async () => {
    for (const name of ['__proto__', 'constructor', 'foo']) {
      const answer = await call('GET', `/v1/review/flags?${name}=1`, auditor());
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body.errors).toEqual([{ path: name, message: 'unknown field' }]);
    }
    const huge = await call('GET', '/v1/review/flags?minAmount=1e309', auditor());
    expect(huge.body.errors).toEqual([
      { path: 'minAmount', message: 'expected an amount in yuan like 120 or 99.50' },
    ]);
  });

  it('counts the filtered set by status and rule class with amounts at risk', async () => {
    const answer = await call('GET', '/v1/review/flags/counts?hospital=H3001', auditor());
    const mine = flags.filter((f) => f.hospitalId === 'H3001');
    expect(answer.body.total).toBe(mine.length);
    expect(answer.body.amountAtRisk).toBeCloseTo(
      mine.reduce((a, f) => a + f.amountAtRisk, 0),
      2,
    );
    expect(answer.body.byRuleClass.药品区分性别使用.flags).toBe(
      mine.filter((f) => f.basis.ruleClass === '药品区分性别使用').length,
    );
  });
});

describe('a flag in detail', () => {
  it('shows the claim with the flagged lines marked, the rule in words, the basis and the siblings', async () => {
    const flag = flags.find((f) => f.flagId === 'F-C-REV-000000-0') as Flag;
    const answer = await call('GET', `/v1/review/flags/${flag.flagId}`, auditor());
    expect(answer.status).toBe(200);
    expect(answer.body.claim.lines.filter((l: Json) => l.flagged).map((l: Json) => l.lineNo)).toEqual(
      flag.lineNos,
    );
    // The rule as the running set has it (the flag names the version that raised it).
    const { version } = RuleFile.parse(JSON.parse(readFileSync('rules/drug-sex.json', 'utf8')));
    expect(answer.body.rule).toMatchObject({ id: 'GZ-DRUG-SEX', version });
    expect(answer.body.rule.conditions.join('\n')).toContain('restriction.sex 不等于 patient.sex');
    expect(answer.body.flag.basis).toEqual(flag.basis);
    expect(answer.body.siblings.map((s: Json) => s.flagId)).toEqual(['F-C-REV-000000-1']);
    expect(answer.body.actions).toEqual(['confirm', 'dismiss', 'escalate']);
  });

  it('answers an unknown flag with 404', async () => {
    expect((await call('GET', '/v1/review/flags/F-nothing', auditor())).status).toBe(404);
  });
});

describe('roles and isolation', () => {
  const h1 = 'H3001';
  const other = flags.find((f) => f.hospitalId !== h1) as Flag;

  it('shows a hospital only its own flags, whatever it filters on', async () => {
    for (const query of ['status=open', 'doctor=D-H3002-01', 'rule=GZ-DRUG-SEX', 'severity=high']) {
      const items = await everyPage(query, hospital(h1), 50);
      expect(items.every((f) => f.hospitalId === h1)).toBe(true);
    }
    expect(ids(await everyPage('from=2026-01', hospital(h1), 50))).toEqual(
      ids(flags.filter((f) => f.hospitalId === h1)),
    );
  });

  it('refuses a hospital that names another hospital in a listing, an export or counts', async () => {
    for (const path of ['/v1/review/flags', '/v1/review/flags/counts', '/v1/review/flags/export']) {
      const answer = await call('GET', `${path}?hospital=H3002`, hospital(h1));
      expect(answer.status).toBe(403);
    }
  });

  it("answers another hospital's flag exactly like a flag that does not exist, for reading and deciding", async () => {
    const foreign = await call('GET', `/v1/review/flags/${other.flagId}`, hospital(h1));
    const missing = await call('GET', '/v1/review/flags/F-guessed-id', hospital(h1));
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.type).toBe(missing.body.type);
    expect(foreign.body.detail.replace(other.flagId, 'X')).toBe(
      missing.body.detail.replace('F-guessed-id', 'X'),
    );
    const decide = await call('POST', `/v1/review/flags/${other.flagId}/transitions`, hospital(h1), {
      action: 'appeal',
      reason: '申诉',
      expectedVersion: 0,
    });
    expect(decide.status).toBe(404);
  });

  it("exports only the hospital's own rows", async () => {
    const answer = await call('GET', '/v1/review/flags/export', hospital(h1));
    const rows = answer.text.trim().split('\r\n').slice(1);
    expect(rows.length).toBe(flags.filter((f) => f.hospitalId === h1).length);
    expect(rows.every((r) => r.split(',')[2] === h1)).toBe(true);
  });

  it("shows a hospital its own scores and its doctors', never another hospital's", async () => {
    await writeScores(stack.documents, stack.resources.tables.scores, [
      ...sampleScores('H3001', ['2026-09', '2026-10']),
      ...sampleScores('H3002', ['2026-09', '2026-10']),
    ]);
    const own = await call('GET', '/v1/review/scores?kind=hospital&id=H3001', hospital(h1));
    expect(own.body.items.map((s: Json) => s.period)).toEqual(['2026-09', '2026-10']);
    expect((await call('GET', '/v1/review/scores?kind=hospital&id=H3002', hospital(h1))).status).toBe(403);
    const doctor = await call('GET', '/v1/review/scores?kind=doctor&id=D-H3002-01', hospital(h1));
    expect(doctor.body.items).toEqual([]);
    const period = await call('GET', '/v1/review/scores?kind=hospital&period=2026-10', hospital(h1));
    expect(period.body.items.map((s: Json) => s.id)).toEqual(['H3001']);
    const doctors = await call('GET', '/v1/review/scores?kind=doctor&period=2026-10', hospital(h1));
    expect(doctors.body.items.map((s: Json) => s.id).sort()).toEqual(['D-H3001-01', 'D-H3001-02']);
    expect(doctors.body.items.every((s: Json) => s.hospitalId === 'H3001')).toBe(true);
    const ownDoctor = await call('GET', '/v1/review/scores?kind=doctor&id=D-H3001-02', hospital(h1));
    expect(ownDoctor.body.items.map((s: Json) => [s.id, s.hospitalId, s.period])).toEqual([
      ['D-H3001-02', 'H3001', '2026-09'],
      ['D-H3001-02', 'H3001', '2026-10'],
    ]);
    const otherDoctors = '/v1/review/scores?kind=doctor&period=2026-10&hospital=H3002';
    expect((await call('GET', otherDoctors, hospital(h1))).status).toBe(403);
    const audited = await call('GET', otherDoctors, auditor());
    expect(audited.body.items.map((s: Json) => s.id).sort()).toEqual(['D-H3002-01', 'D-H3002-02']);
    expect(audited.body.items[0].components.costIndex).toMatchObject({ label: '费用指数', weight: 1 });
    const peers = await call('GET', '/v1/review/scores?kind=hospital&period=2026-10', auditor());
    expect(peers.body.items.map((s: Json) => s.id).sort()).toEqual(['H3001', 'H3002']);
  });

  it('says when the scores table holds nothing for the question', async () => {
    const answer = await call('GET', '/v1/review/scores?kind=hospital&id=H1001', auditor());
    expect(answer.body).toMatchObject({ items: [], empty: true });
    expect(answer.body.note).toMatch(/post-event/);
  });

  it('keeps rule precision from hospitals, and gives it to rule authors and auditors', async () => {
    expect((await call('GET', '/v1/review/rules/precision', hospital(h1))).status).toBe(403);
    expect((await call('GET', '/v1/review/rules/precision', ruleAuthor())).status).toBe(200);
    expect((await call('GET', '/v1/review/rules/precision', auditor())).status).toBe(200);
  });

  it('lets a rule author read but never decide', async () => {
    expect((await call('GET', '/v1/review/flags?limit=1', ruleAuthor())).status).toBe(200);
    const decide = await call('POST', `/v1/review/flags/${other.flagId}/transitions`, ruleAuthor(), {
      action: 'confirm',
      reason: 'x',
      expectedVersion: 0,
    });
    expect(decide.status).toBe(403);
    const bulk = await call('POST', '/v1/review/flags/bulk', ruleAuthor(), {
      filters: { hospital: 'H2001' },
      action: 'dismiss',
      reason: 'x',
      expectedCount: 1,
    });
    expect(bulk.status).toBe(403);
  });

  it('refuses every route without a valid token', async () => {
    for (const route of Object.values(REVIEW_ROUTES)) {
      const path = route.path.replace('{flagId}', other.flagId);
      for (const token of [undefined, 'fgr_forged_token_000000000000']) {
        const answer = await call(route.method, path, token, route.method === 'POST' ? {} : undefined);
        expect(answer.status, `${route.method} ${path}`).toBe(401);
      }
    }
  });
});

describe('the review workflow', () => {
  const decide = (flagId: string, token: string, action: string, expectedVersion: number, extra: Json = {}) =>
    call('POST', `/v1/review/flags/${flagId}/transitions`, token, {
      action,
      reason: `${action} 理由`,
      expectedVersion,
      ...extra,
    });

  it('confirms, takes the appeal with evidence, investigates and upholds, keeping who, when and why', async () => {
    const flag = flags.find((f) => f.hospitalId === 'H3001' && f.flagId.endsWith('-0')) as Flag;
    clock = new Date('2026-12-20T00:00:00Z');
    const confirmed = await decide(flag.flagId, auditor(), 'confirm', 0);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.flag).toMatchObject({ status: 'confirmed', version: 1 });
    clock = new Date(clock.getTime() + 2 * DAY);
    const appealed = await decide(flag.flagId, hospital('H3001'), 'appeal', 1, {
      evidence: '病历首页显示患者性别为男',
    });
    expect(appealed.status).toBe(200);
    expect((await decide(flag.flagId, auditor(), 'investigate', 2)).status).toBe(200);
    const upheld = await decide(flag.flagId, auditor2(), 'uphold', 3);
    expect(upheld.body.flag.status).toBe('upheld');
    const detail = await call('GET', `/v1/review/flags/${flag.flagId}`, hospital('H3001'));
    expect(detail.body.trail.map((e: Json) => [e.action, e.from, e.to, e.actorId])).toEqual([
      ['confirm', 'open', 'confirmed', 'auditor-1'],
      ['appeal', 'confirmed', 'appealed', 'H3001-staff'],
      ['investigate', 'appealed', 'investigating', 'auditor-1'],
      ['uphold', 'investigating', 'upheld', 'auditor-2'],
    ]);
    expect(detail.body.trail[1]).toMatchObject({
      evidence: '病历首页显示患者性别为男',
      at: '2026-12-22T00:00:00.000Z',
    });
    expect(detail.body.actions).toEqual([]);
  });

  it('lets one of two auditors deciding the same flag win; the other gets 409 with the current state', async () => {
    const flag = flags.find((f) => f.hospitalId === 'H3002' && f.flagId.endsWith('-0')) as Flag;
    const [a, b] = await Promise.all([
      decide(flag.flagId, auditor(), 'confirm', 0),
      decide(flag.flagId, auditor2(), 'dismiss', 0),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 200 ? a : b;
    expect(loser.body.type).toBe('urn:fundguard:problem:review-conflict');
    expect(loser.body.current).toMatchObject({ status: winner.body.flag.status, version: 1 });
    expect((await decide(flag.flagId, auditor(), 'escalate', 0)).status).toBe(409);
  });

  it("refuses an appeal after the policy's window, and one from the wrong state", async () => {
    const flag = flags.filter((f) => f.hospitalId === 'H2001' && f.flagId.endsWith('-0'))[0] as Flag;
    clock = new Date('2026-12-20T00:00:00Z');
    expect((await decide(flag.flagId, hospital('H2001'), 'appeal', 0)).body.type).toBe(
      'urn:fundguard:problem:transition-not-allowed',
    );
    await decide(flag.flagId, auditor(), 'confirm', 0);
    clock = new Date(clock.getTime() + (policy.steps.confirmed.limitDays + 1) * DAY);
    const late = await decide(flag.flagId, hospital('H2001'), 'appeal', 1);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe('urn:fundguard:problem:deadline-passed');
    clock = new Date('2026-12-20T00:00:00Z');
  });

  it('sends an escalated flag to a second auditor, never back to the first', async () => {
    const flag = flags.filter((f) => f.hospitalId === 'H2001' && f.flagId.endsWith('-0'))[1] as Flag;
    expect((await decide(flag.flagId, auditor(), 'escalate', 0)).status).toBe(200);
    const same = await decide(flag.flagId, auditor(), 'confirm', 1);
    expect(same.body.type).toBe('urn:fundguard:problem:same-reviewer');
    expect((await decide(flag.flagId, auditor2(), 'dismiss', 1)).body.flag.status).toBe('dismissed');
  });

  it('requires a reason and a known action', async () => {
    const flag = flags.find((f) => f.hospitalId === 'H3001' && f.flagId.endsWith('-1')) as Flag;
    const answer = await call('POST', `/v1/review/flags/${flag.flagId}/transitions`, auditor(), {
      action: 'approve',
      reason: ' ',
      expectedVersion: 0,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: Json) => e.path).sort()).toEqual(['action', 'reason']);
  });
});

describe('clocks', () => {
  it('counts and lists overdue flags by the policy’s time limits', async () => {
    // Sample flags are created every two days from 2026-08-01; the first review takes 15 days.
    clock = new Date('2026-09-01T00:00:00Z');
    const cut = new Date(clock.getTime() - policy.steps.open.limitDays * DAY).toISOString();
    const items = await everyPage('overdue=true&status=open&hospital=H3001', auditor(), 5);
    // Earlier tests decided some of these flags; the open ones now are the reference.
    const open = await everyPage('status=open&hospital=H3001', auditor(), 200);
    const expected = open.filter((f) => f.createdAt < cut);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(open.length);
    expect(ids(items)).toEqual(ids(expected));
    expect(items.every((f) => f.overdue && f.status === 'open')).toBe(true);
    const counts = await call('GET', '/v1/review/flags/counts?hospital=H3001&overdue=true', auditor());
    expect(counts.body.overdue).toBe(counts.body.total);
    expect(counts.body.total).toBe(items.length);
    clock = new Date('2026-12-20T00:00:00Z');
  });
});

describe('bulk decisions', () => {
  it('decides a filtered set, reporting each flag, and refuses when the set changed or is too large', async () => {
    const filters = { doctor: 'D-H3003-01' };
    // No sample flag has this doctor: an empty set can never match a count of one or more.
    expect(
      (
        await call('POST', '/v1/review/flags/bulk', auditor(), {
          filters,
          action: 'dismiss',
          reason: '批量',
          expectedCount: 1,
        })
      ).status,
    ).toBe(409);
    const set = flags.filter((f) => f.doctorId === 'D-H2001-01' && f.stage === 'post');
    const query = { doctor: 'D-H2001-01', stage: 'post' };
    const changed = await call('POST', '/v1/review/flags/bulk', auditor(), {
      filters: query,
      action: 'dismiss',
      reason: '批量',
      expectedCount: set.length + 1,
    });
    expect(changed.status).toBe(409);
    const done = await call('POST', '/v1/review/flags/bulk', auditor(), {
      filters: query,
      action: 'dismiss',
      reason: '批量排除',
      expectedCount: set.length,
    });
    expect(done.status).toBe(200);
    expect(done.body.total).toBe(set.length);
    expect(done.body.results.map((r: Json) => r.flagId).sort()).toEqual(ids(set));
    const again = await call('POST', '/v1/review/flags/bulk', auditor(), {
      filters: query,
      action: 'dismiss',
      reason: '再次',
      expectedCount: set.length,
    });
    expect(again.body.done).toBe(0);
    expect(again.body.results.every((r: Json) => r.outcome === 'refused' && r.status === 'dismissed')).toBe(
      true,
    );
    const tooMany = await call('POST', '/v1/review/flags/bulk', auditor(), {
      filters: {},
      action: 'dismiss',
      reason: 'x',
      expectedCount: MAX_BULK,
    });
    expect(flags.length).toBeLessThanOrEqual(MAX_BULK);
    expect(tooMany.status).toBe(409);
  });

  it('decides the checked flags each at the version seen, and reports a stale one, a closed one and a missing one', async () => {
    const listed = await call(
      'GET',
      '/v1/review/flags?hospital=H2001&status=open&stage=in&limit=4',
      auditor(),
    );
    const open: Json[] = listed.body.items;
    const [a, b, c, d] = open;
    if (!a || !b || !c || !d) throw new Error('sample too small');
    const version = (i: number) => open[i]?.version as number;
    // Another auditor decides c meanwhile; d was already closed.
    await call('POST', `/v1/review/flags/${c.flagId}/transitions`, auditor2(), {
      action: 'escalate',
      reason: '复审',
      expectedVersion: version(2),
    });
    await call('POST', `/v1/review/flags/${d.flagId}/transitions`, auditor2(), {
      action: 'dismiss',
      reason: '误报',
      expectedVersion: version(3),
    });
    const answer = await call('POST', '/v1/review/flags/bulk', auditor(), {
      flags: [
        ...open.map((f, i) => ({ flagId: f.flagId, expectedVersion: i === 3 ? version(3) + 1 : version(i) })),
        { flagId: 'F-NOT-THERE', expectedVersion: 0 },
      ],
      action: 'confirm',
      reason: '批量确认',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(5);
    expect(answer.body.done).toBe(2);
    const byId = Object.fromEntries(answer.body.results.map((r: Json) => [r.flagId, r]));
    expect(byId[a.flagId]).toMatchObject({ outcome: 'done', status: 'confirmed' });
    expect(byId[b.flagId]).toMatchObject({ outcome: 'done', status: 'confirmed' });
    expect(byId[c.flagId]).toMatchObject({ outcome: 'refused', status: 'escalated' });
    expect(byId[c.flagId].reason).toMatch(/changed since you read it/);
    expect(byId[d.flagId]).toMatchObject({ outcome: 'refused', status: 'dismissed' });
    expect(byId['F-NOT-THERE']).toEqual({
      flagId: 'F-NOT-THERE',
      outcome: 'refused',
      reason: 'no flag F-NOT-THERE',
    });
    const twice = await call('POST', '/v1/review/flags/bulk', auditor(), {
      flags: [a, a].map((f) => ({ flagId: f.flagId, expectedVersion: 0 })),
      action: 'confirm',
      reason: 'x',
    });
    expect(twice.status).toBe(400);
    const byHospital = await call('POST', '/v1/review/flags/bulk', hospital('H2001'), {
      flags: [{ flagId: a.flagId, expectedVersion: 1 }],
      action: 'confirm',
      reason: 'x',
    });
    expect(byHospital.status).toBe(403);
  });
});

describe('export', () => {
  it('streams the filtered set as CSV with a BOM, Chinese headings and one row per flag', async () => {
    const answer = await call(
      'GET',
      `/v1/review/flags/export?ruleClass=${encodeURIComponent('重复开药')}`,
      auditor(),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(answer.headers.get('transfer-encoding')).toBe('chunked');
    expect(answer.text.charCodeAt(0)).toBe(0xfeff);
    const [header, ...rows] = answer.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(header).toContain('规则类别 ruleClass');
    expect(rows.length).toBe(flags.filter((f) => f.basis.ruleClass === '重复开药').length);
  });
});

describe('rule precision', () => {
  it('counts confirmed, dismissed, appealed and overturned flags per rule and version', async () => {
    const answer = await call('GET', '/v1/review/rules/precision', ruleAuthor());
    const total = answer.body.rules.reduce((a: number, r: Json) => a + r.flags, 0);
    expect(total).toBe(flags.length);
    const sex = answer.body.rules.find((r: Json) => r.ruleId === 'GZ-DRUG-SEX');
    expect(sex.flags).toBe(flags.filter((f) => f.ruleId === 'GZ-DRUG-SEX').length);
    const decided = answer.body.rules.filter((r: Json) => r.confirmed + r.dismissed > 0);
    expect(decided.length).toBeGreaterThan(0);
    for (const r of decided)
      expect(r.precision).toBeCloseTo((r.confirmed - r.overturned) / (r.confirmed + r.dismissed), 3);
  });
});

describe('every transition for every role, on the real table', () => {
  const roles = {
    auditor: () => auditor(),
    hospital: () => hospital('H3001'),
    'rule-author': () => ruleAuthor(),
  } as const;
  const ACTIONS = ['confirm', 'dismiss', 'escalate', 'appeal', 'investigate', 'uphold', 'overturn'] as const;
  /** `status` for every action, but `others`'. */
  const answers = (status: number, others: Partial<Record<(typeof ACTIONS)[number], number>> = {}) =>
    Object.fromEntries(ACTIONS.map((action) => [action, others[action] ?? status]));
  /** What each role gets for each action on a flag of H3001 that is open, and one that is confirmed. */
  const EXPECTED: Record<'open' | 'confirmed', Record<keyof typeof roles, Record<string, number>>> = {
    open: {
      auditor: answers(409, { confirm: 200, dismiss: 200, escalate: 200, appeal: 403 }),
      hospital: answers(403, { appeal: 409 }),
      'rule-author': answers(403),
    },
    confirmed: {
      auditor: answers(409, { appeal: 403 }),
      hospital: answers(403, { appeal: 200 }),
      'rule-author': answers(403),
    },
  };
  let fresh: Flag[] = [];

  beforeAll(async () => {
    // Flags of H3001 (every third sample claim) no other test touches.
    const matrix = sampleClaims(3 * 2 * 3 * 7, {
      prefix: 'MATRIX',
      start: '2026-12-01T00:00:00Z',
      stepMinutes: 1,
    });
    await writeSampleClaims(stack.documents, stack.resources.tables, matrix);
    fresh = matrix.flatMap((c) => c.flags).filter((f) => f.hospitalId === 'H3001');
  });

  for (const status of ['open', 'confirmed'] as const)
    for (const role of Object.keys(roles) as (keyof typeof roles)[])
      it(`answers a ${role} taking each action on an ${status} flag as the workflow says`, async () => {
        clock = new Date('2026-12-20T00:00:00Z');
        for (const [action, expected] of Object.entries(EXPECTED[status][role])) {
          const flag = fresh.pop();
          if (!flag) throw new Error('the matrix ran out of flags');
          let version = 0;
          if (status === 'confirmed') {
            expect(
              (
                await call('POST', `/v1/review/flags/${flag.flagId}/transitions`, auditor2(), {
                  action: 'confirm',
                  reason: '确认',
                  expectedVersion: 0,
                })
              ).status,
            ).toBe(200);
            version = 1;
          }
          const answer = await call('POST', `/v1/review/flags/${flag.flagId}/transitions`, roles[role](), {
            action,
            reason: '理由',
            expectedVersion: version,
          });
          expect(answer.status, `${role} ${action} on ${status}`).toBe(expected);
          const after = await call('GET', `/v1/review/flags/${flag.flagId}`, auditor());
          expect(after.body.flag.version).toBe(expected === 200 ? version + 1 : version);
        }
      });
});

describe('the OpenAPI document', () => {
  it('is served at /openapi.json and describes every answer the tests above received', async () => {
    const served = await fetch(`${stack.review.url}/openapi.json`);
    const document = (await served.json()) as Json;
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(answers.length).toBeGreaterThan(50);
    expectDocumented(answers, document);
  });

  it('left no fault in the API’s log', () => {
    expect(stack.faults).toEqual([]);
  });
});
