/**
 * `fundguard review recount` on the real local stack: counters rebuilt from the flags for flags
 * written before the counters existed and for counters gone wrong, agreeing with the counters the
 * writers keep, and a second run changing nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { review } from '../../src/cli/review.ts';
import { loadCore } from '../../src/core.ts';
import { COUNTER_PREFIX, counterKey, monthScope } from '../../src/review/counts.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import { ReviewService } from '../../src/review/service.ts';
import type { Reviewer } from '../../src/review/states.ts';
import { DynamoReviewStore } from '../../src/review/store.ts';
import { flagItem } from '../../src/stores/dynamo.ts';
import { sampleClaims, writeSampleClaims } from '../helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../helpers/review-stack.ts';

const clock = new Date('2026-12-10T00:00:00Z');
const auditor: Reviewer = { role: 'auditor', actorId: 'auditor-1' };
let stack: ReviewStack;
let service: ReviewService;
let stateDir: string;

/** Runs the command as an operator would, against the stack's local.json; what it printed. */
async function recount(): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await review(
    'recount',
    [],
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    {},
    stateDir,
  );
  return { code, out, err };
}

/** Counts as the listing says: every page of the set, tallied by status. */
async function listed(filters: Record<string, string> = {}) {
  const byStatus: Record<string, number> = {};
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await service.list(filters as never, auditor, 200, cursor);
    for (const f of page.items) {
      total += 1;
      byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { total, byStatus };
}

beforeAll(async () => {
  stack = await startReviewStack('recount', () => clock);
  stateDir = mkdtempSync(join(tmpdir(), 'fundguard-recount-'));
  writeFileSync(
    join(stateDir, 'local.json'),
    JSON.stringify({
      region: 'us-east-1',
      endpoints: stack.services.endpoints,
      tables: stack.resources.tables,
    }),
  );
  service = new ReviewService({
    store: new DynamoReviewStore(stack.documents, stack.resources.tables),
    policy: loadReviewPolicy(),
    ruleSet: loadCore().ruleSet,
    now: () => clock,
  });
  // Written the in-process way: the writers keep the counters, and one decision moves a flag.
  const claims = sampleClaims(30, { stepMinutes: 24 * 60, start: '2026-10-01T08:00:00Z', prefix: 'RC' });
  await writeSampleClaims(stack.documents, stack.resources.tables, claims);
  const first = claims[0]?.flags[0];
  await service.decide(
    first?.flagId ?? '',
    { action: 'confirm', reason: '核实', expectedVersion: 0 },
    auditor,
  );
});

afterAll(async () => {
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('fundguard review recount', () => {
  it('finds nothing to correct in counters the writers kept', async () => {
    const before = await service.counts({}, auditor);
    const { code, out, err } = await recount();
    expect(code).toBe(0);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/recounted \d+ flags .* 0 corrected/);
    expect(await service.counts({}, auditor)).toEqual(before);
  });

  it('counts flags written before the counters and repairs a wrong counter, then changes nothing on a second run', async () => {
    const table = stack.resources.tables.flags;
    // Flags of another month written without counters, as before the counters existed.
    const old = sampleClaims(12, { stepMinutes: 24 * 60, start: '2026-08-01T08:00:00Z', prefix: 'OLD' });
    for (const flag of old.flatMap((c) => c.flags))
      await stack.documents.send(new PutCommand({ TableName: table, Item: flagItem(flag) }));
    // A counter of October gone wrong, on a shard no writer used, and a month that has no flags.
    await stack.documents.send(
      new PutCommand({
        TableName: table,
        Item: { flagId: counterKey(monthScope('2026-10'), 7), 'n|open|重复开药': 5 },
      }),
    );
    await stack.documents.send(
      new PutCommand({
        TableName: table,
        Item: { flagId: counterKey(monthScope('2025-01'), 2), 'n|open|重复开药': 3 },
      }),
    );
    const truth = await listed();
    expect((await service.counts({}, auditor)).total).not.toBe(truth.total);

    const first = await recount();
    expect(first.code).toBe(0);
    expect(first.out).toEqual(
      expect.arrayContaining([
        'corrected month#2026-08',
        'corrected month#2026-10',
        'corrected month#2025-01',
        'corrected rules',
      ]),
    );
    expect(await service.counts({}, auditor)).toMatchObject({ ...truth, exact: true });
    // Rule precision counts the flags from before the counters too.
    const { rules } = await service.precision(auditor);
    expect(rules.reduce((a, r) => a + r.flags, 0)).toBe(truth.total);
    expect(rules.reduce((a, r) => a + r.confirmed, 0)).toBe(truth.byStatus.confirmed);
    expect(await service.counts({ from: '2025-01', to: '2025-01' } as never, auditor)).toMatchObject({
      total: 0,
    });
    for (const hospital of ['H3001', 'H3002', 'H2001'])
      expect(await service.counts({ hospital } as never, auditor)).toMatchObject(await listed({ hospital }));

    const second = await recount();
    expect(second.out).toEqual([]);
    expect(second.err.join('\n')).toMatch(/ 0 corrected/);
    expect(await service.counts({}, auditor)).toMatchObject(truth);
    // The stray month's items are gone, not zeroed.
    const { Items = [] } = await stack.documents.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(flagId, :p)',
        ExpressionAttributeValues: { ':p': `${COUNTER_PREFIX}#month#2025-01` },
      }),
    );
    expect(Items).toEqual([]);
  });

  it('says the flags table cannot be reached when the local stack is down, and exits 2', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fundguard-recount-down-'));
    try {
      mkdirSync(join(cwd, '.fundguard'));
      // Port 9 (discard) has no listener on loopback: the connection is refused at once.
      writeFileSync(
        join(cwd, '.fundguard', 'local.json'),
        JSON.stringify({
          region: 'us-east-1',
          endpoints: { dynamodb: 'http://127.0.0.1:9' },
          tables: { flags: 'fundguard-down-flags' },
        }),
      );
      const run = spawnSync(process.execPath, [resolve('bin/fundguard.js'), 'review', 'recount'], {
        cwd,
        encoding: 'utf8',
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/cannot reach the flags table .*is the local stack running\?/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
