/**
 * The live counts on the real local stack: counter items kept by the writes that create, decide and
 * supersede flags (src/review/counts.ts), checked against what the listings hold, and read without
 * reading the flags themselves.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/contracts/flag.ts';
import { loadCore } from '../../src/core.ts';
import { localClientConfig } from '../../src/local/emulators.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import { ReviewService } from '../../src/review/service.ts';
import type { Reviewer } from '../../src/review/states.ts';
import { DynamoReviewStore } from '../../src/review/store.ts';
import { writeNewFlags } from '../../src/stores/post-event.ts';
import { sampleClaims, writeSampleClaims } from '../helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../helpers/review-stack.ts';

const DAY = 86_400_000;
let clock = new Date('2026-12-10T00:00:00Z');
let stack: ReviewStack;
/** Every command the service's own client sent, with its Select, to show what a count reads. */
const sent: { command: string; select?: string }[] = [];
let service: ReviewService;
let documents: DynamoDBDocumentClient;
const claims = sampleClaims(48, { stepMinutes: 2 * 24 * 60, start: '2026-09-01T08:00:00Z', prefix: 'CNT' });
const flags: Flag[] = claims.flatMap((c) => c.flags);
const auditor: Reviewer = { role: 'auditor', actorId: 'auditor-1' };
const auditor2: Reviewer = { role: 'auditor', actorId: 'auditor-2' };

/** Counts as the listing itself says: every page of the filtered set, tallied. */
async function tally(filters: Record<string, string>, reviewer: Reviewer = auditor) {
  const parsed = { ...filters } as never;
  const byStatus: Record<string, number> = {};
  let total = 0;
  let cents = 0;
  let overdue = 0;
  let cursor: string | undefined;
  do {
    const page = await service.list(parsed, reviewer, 200, cursor);
    for (const f of page.items) {
      total += 1;
      cents += Math.round(f.amountAtRisk * 100);
      byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
      if (f.overdue) overdue += 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { total, amountAtRisk: cents / 100, byStatus, overdue };
}

async function expectCountsAsListed(filters: Record<string, string>, reviewer: Reviewer = auditor) {
  const counts = await service.counts(filters as never, reviewer);
  const listed = await tally(filters, reviewer);
  expect(counts).toMatchObject({ ...listed, exact: true, overdueExact: true });
  return counts;
}

beforeAll(async () => {
  stack = await startReviewStack('counts', () => clock);
  await writeSampleClaims(stack.documents, stack.resources.tables, claims);
  const dynamodb = new DynamoDBClient(localClientConfig(stack.services.endpoints.dynamodb));
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Select?: string };
      sent.push({ command: String(context.commandName), ...(input.Select ? { select: input.Select } : {}) });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  service = new ReviewService({
    store: new DynamoReviewStore(documents, stack.resources.tables),
    policy: loadReviewPolicy(),
    ruleSet: loadCore().ruleSet,
    now: () => clock,
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('live counts', () => {
  it('counts every flag the stages wrote, by status and rule class, exactly as the listings hold them', async () => {
    const counts = await expectCountsAsListed({});
    expect(counts.total).toBe(flags.length);
    const byClass: Record<string, number> = {};
    for (const f of flags) byClass[f.basis.ruleClass] = (byClass[f.basis.ruleClass] ?? 0) + 1;
    expect(Object.fromEntries(Object.entries(counts.byRuleClass).map(([k, v]) => [k, v.flags]))).toEqual(
      byClass,
    );
    await expectCountsAsListed({ hospital: 'H3002' });
    await expectCountsAsListed({ status: 'open', ruleClass: '药品限支付疗程' });
    await expectCountsAsListed({ from: '2026-10', to: '2026-10' });
    await expectCountsAsListed({}, { role: 'hospital', actorId: 'h', hospitalId: 'H3001' });
  });

  it('reads counter items, not flags: BatchGetItem and counted Queries only', async () => {
    sent.length = 0;
    await service.counts({}, auditor);
    await service.counts({ hospital: 'H2001', status: 'open' }, auditor);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((c) => c.command.startsWith('BatchGet') || c.select === 'COUNT')).toBe(true);
  });

  it('moves a flag between statuses with each decision, and counts overdue flags by the policy', async () => {
    const [a, b, c] = flags.filter((f) => f.hospitalId === 'H3001');
    if (!a || !b || !c) throw new Error('sample too small');
    await service.decide(a.flagId, { action: 'confirm', reason: '核实', expectedVersion: 0 }, auditor);
    await service.decide(b.flagId, { action: 'escalate', reason: '复审', expectedVersion: 0 }, auditor);
    await service.decide(c.flagId, { action: 'dismiss', reason: '误报', expectedVersion: 0 }, auditor);
    const counts = await expectCountsAsListed({ hospital: 'H3001' });
    expect(counts.byStatus).toMatchObject({ confirmed: 1, escalated: 1, dismissed: 1 });
    // Later, some open flags and the escalated one run past their limits; a day boundary falls in between.
    for (const days of [10, 25, 40, 70]) {
      clock = new Date(Date.parse('2026-12-10T00:00:00Z') + days * DAY + 7 * 3_600_000);
      const later = await expectCountsAsListed({});
      await expectCountsAsListed({ hospital: 'H3001' });
      await expectCountsAsListed({ ruleClass: '重复开药' });
      if (days === 70)
        expect(later.overdue).toBe((later.byStatus.open ?? 0) + (later.byStatus.escalated ?? 0));
    }
    expect((await service.counts({}, auditor)).overdue).toBeGreaterThan(0);
    clock = new Date('2026-12-10T00:00:00Z');
  });

  it('takes superseded flags out of the queue and its counts, lists them when asked, and refuses to decide them', async () => {
    const [sample] = sampleClaims(1, { start: '2026-11-02T08:00:00Z', prefix: 'SUP' });
    if (!sample) throw new Error('no sample');
    await writeSampleClaims(stack.documents, stack.resources.tables, [sample]);
    const before = await service.counts({ hospital: sample.claim.hospital.hospitalId }, auditor);
    // The hospital corrects the claim: the same id, other content, decided again without a flag.
    const corrected = {
      ...sample,
      claim: { ...sample.claim, remarks: 'corrected' } as typeof sample.claim,
      flags: [],
    };
    await writeSampleClaims(stack.documents, stack.resources.tables, [corrected]);
    const after = await expectCountsAsListed({ hospital: sample.claim.hospital.hospitalId });
    expect(after.total).toBe(before.total - sample.flags.length);
    const queue = await tally({ hospital: sample.claim.hospital.hospitalId });
    expect(queue.total).toBe(after.total);
    const superseded = await service.list({ superseded: true }, auditor, 50);
    expect(superseded.items.map((f) => f.flagId).sort()).toEqual(sample.flags.map((f) => f.flagId).sort());
    expect(superseded.items.every((f) => f.supersededBy === 2)).toBe(true);
    const [flag] = sample.flags;
    await expect(
      service.decide(flag?.flagId ?? '', { action: 'confirm', reason: '核实', expectedVersion: 0 }, auditor2),
    ).rejects.toThrow(/superseded by version 2/);
  });

  it('counts a post-event flag once, however often the audit writes it', async () => {
    const before = (await service.counts({}, auditor)).total;
    const [sample] = sampleClaims(1, { start: '2026-11-05T08:00:00Z', prefix: 'POST' });
    const flag = sample?.flags[0];
    if (!flag) throw new Error('no sample');
    const table = stack.resources.tables.flags;
    expect(await writeNewFlags(documents, table, [{ ...flag, stage: 'post' }])).toEqual({
      written: 1,
      alreadyThere: 0,
    });
    expect(await writeNewFlags(documents, table, [{ ...flag, stage: 'post' }])).toEqual({
      written: 0,
      alreadyThere: 1,
    });
    expect((await service.counts({}, auditor)).total).toBe(before + 1);
  });

  it('says a count read from the flags stopped at its bound, and counts from the counters exactly whatever the bound', async () => {
    const bounded = new ReviewService({
      store: new DynamoReviewStore(documents, stack.resources.tables),
      policy: loadReviewPolicy(),
      ruleSet: loadCore().ruleSet,
      now: () => clock,
      maxCounted: 4,
    });
    const doctor = flags[0]?.doctorId ?? '';
    const listed = await tally({ doctor });
    expect(listed.total).toBeGreaterThan(4);
    const lower = await bounded.counts({ doctor } as never, auditor);
    expect(lower).toMatchObject({ countedBy: 'flags', exact: false, overdueExact: false });
    expect(lower.total).toBeGreaterThanOrEqual(4);
    expect(lower.total).toBeLessThan(listed.total);
    expect(await service.counts({ doctor } as never, auditor)).toMatchObject({
      ...listed,
      countedBy: 'flags',
      exact: true,
    });
    const hospital = await tally({ hospital: 'H3001' });
    expect(await bounded.counts({ hospital: 'H3001' } as never, auditor)).toMatchObject({
      total: hospital.total,
      countedBy: 'counters',
      exact: true,
      overdueExact: true,
    });
    // A rule class's overdue flags are read from the flags: past the bound, only that number says so.
    const ruleClass = '药品限支付疗程';
    const ofClass = await tally({ ruleClass });
    expect(ofClass.overdue).toBeGreaterThan(4);
    expect(await bounded.counts({ ruleClass } as never, auditor)).toMatchObject({
      total: ofClass.total,
      countedBy: 'counters',
      exact: true,
      overdueExact: false,
    });
  });
});
