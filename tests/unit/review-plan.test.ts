import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, renderOpenApi } from '../../src/openapi-write.ts';
import { monthsBetween, planList } from '../../src/review/plan.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import type { Reviewer } from '../../src/review/states.ts';
import { readSize } from '../../src/review/store.ts';

const policy = loadReviewPolicy();
const now = new Date('2026-10-10T00:00:00Z');
const auditor: Reviewer = { role: 'auditor', actorId: 'a' };
const hospital: Reviewer = { role: 'hospital', actorId: 'h', hospitalId: 'H3001' };

describe('flag listing plan', () => {
  it.each([
    [{ doctor: 'D-1', rule: 'R', hospital: 'H3002' }, 'byDoctor', 'D-1'],
    [{ rule: 'GZ-DRUG-SEX', status: 'open' as const }, 'byRule', 'GZ-DRUG-SEX'],
    [{ hospital: 'H3002', status: 'open' as const }, 'byHospital', 'H3002'],
    [{ ruleClass: '重复开药', severity: 'high' as const }, 'byRuleClass', '重复开药'],
    [{ status: 'escalated' as const, stage: 'post' as const }, 'byStatus', 'escalated'],
  ])('serves %o from the index of its most selective key filter', (filters, index, partition) => {
    const plan = planList(filters, auditor, policy, now);
    expect(plan.steps).toEqual([{ index, partition }]);
  });

  it('turns the other filters into a filter expression on the same query', () => {
    const plan = planList(
      { rule: 'R', status: 'open', severity: 'high', minAmount: 100 },
      auditor,
      policy,
      now,
    );
    expect(plan.filter?.expression).toBe(
      '#f_status = :f0 AND #f_severity = :f1 AND #f_amountAtRisk >= :f2 AND attribute_not_exists(#f_supersededBy)',
    );
    expect(plan.filter?.values).toEqual({ ':f0': 'open', ':f1': 'high', ':f2': 100 });
  });

  it('reads an unfiltered listing month by month on byMonth, newest month first', () => {
    const plan = planList({ from: '2026-08', to: '2026-10' }, auditor, policy, now);
    expect(plan.steps.map((s) => [s.index, s.partition])).toEqual([
      ['byMonth', '2026-10'],
      ['byMonth', '2026-09'],
      ['byMonth', '2026-08'],
    ]);
  });

  it('puts a period on the sort key of a keyed index', () => {
    const [step] = planList({ status: 'open', from: '2026-08', to: '2026-09' }, auditor, policy, now).steps;
    expect(step?.range).toEqual({ from: '2026-08', to: '2026-09\uffff' });
  });

  it("keys a hospital's listing by its own hospital whatever else it filters on", () => {
    const plan = planList({ doctor: 'D-H3002-01', rule: 'R' }, hospital, policy, now);
    expect(plan.steps).toEqual([{ index: 'byHospital', partition: 'H3001' }]);
    expect(plan.filter?.values).toMatchObject({ ':f0': 'D-H3002-01' });
  });

  it('finds overdue flags by when they entered each auditor step', () => {
    const plan = planList({ overdue: true }, auditor, policy, now);
    expect(plan.steps.map((s) => s.index)).toEqual([
      'byStatus',
      'byStatusEntered',
      'byStatusEntered',
      'byStatusEntered',
    ]);
    expect(plan.steps[0]?.range?.to).toBe('2026-09-25T00:00:00.000Z');
    expect(planList({ overdue: true, status: 'dismissed' }, auditor, policy, now).steps).toEqual([]);
  });

  it('gives different filters different fingerprints, so a cursor cannot be replayed on another listing', () => {
    expect(planList({ status: 'open' }, auditor, policy, now).fingerprint).not.toBe(
      planList({ status: 'confirmed' }, auditor, policy, now).fingerprint,
    );
  });

  it('leaves superseded and exempted flags out of a listing unless it asks for them', () => {
    const queue = planList({ hospital: 'H3002' }, auditor, policy, now).filter;
    expect(queue?.expression).toBe('attribute_not_exists(#f_supersededBy) AND #f_status <> :f0');
    expect(queue?.values).toEqual({ ':f0': 'exempted' });
    const exempted = planList({ status: 'exempted' }, auditor, policy, now);
    expect(exempted.steps).toEqual([{ index: 'byStatus', partition: 'exempted' }]);
    expect(exempted.filter?.expression).toBe('attribute_not_exists(#f_supersededBy)');
    const superseded = planList({ hospital: 'H3002', superseded: true }, auditor, policy, now).filter;
    expect(superseded?.expression).toBe('attribute_exists(#f_supersededBy) AND #f_status <> :f0');
  });

  it('reads a page no larger than wanted while the filter keeps everything, and scales by the share it keeps', () => {
    expect(readSize(50, 0, 0)).toBe(50);
    expect(readSize(20, 30, 30)).toBe(20);
    // Half the items passed: twice what is still wanted, a fifth to spare.
    expect(readSize(25, 50, 25)).toBe(60);
    expect(readSize(50, 200, 0)).toBe(1_000);
    expect(readSize(1, 100, 99)).toBe(20);
  });

  it('counts months across a year boundary', () => {
    expect(monthsBetween('2025-11', '2026-02')).toEqual(['2026-02', '2026-01', '2025-12', '2025-11']);
  });
});

describe('docs/openapi.json', () => {
  it('is the document the code generates (npm run openapi rewrites it)', () => {
    expect(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))).toEqual(JSON.parse(renderOpenApi()));
  });
});
