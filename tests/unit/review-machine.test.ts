import { describe, expect, it } from 'vitest';
import { FLAG_STATUSES } from '../../src/contracts/flag.ts';
import {
  applyTransition,
  availableActions,
  REVIEW_ACTIONS,
  type ReviewAction,
  ReviewError,
  type ReviewState,
} from '../../src/review/machine.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import type { FlagStatus, Reviewer } from '../../src/review/states.ts';

const policy = loadReviewPolicy();
const now = new Date('2026-10-10T00:00:00Z');

const auditor: Reviewer = { role: 'auditor', actorId: 'auditor-1' };
const secondAuditor: Reviewer = { role: 'auditor', actorId: 'auditor-2' };
const hospital: Reviewer = { role: 'hospital', actorId: 'H3001-staff', hospitalId: 'H3001' };
const otherHospital: Reviewer = { role: 'hospital', actorId: 'H3002-staff', hospitalId: 'H3002' };
const ruleAuthor: Reviewer = { role: 'rule-author', actorId: 'rule-author-1' };

const state = (status: FlagStatus, extra: Partial<ReviewState> = {}): ReviewState => ({
  flagId: 'F-1',
  hospitalId: 'H3001',
  status,
  version: 3,
  enteredAt: '2026-10-08T00:00:00Z',
  trail: [],
  ...extra,
});

/** The workflow as the NHSA steps put it: for each action, the states it leaves and where it goes. */
const ALLOWED: Record<ReviewAction, { from: FlagStatus[]; to: FlagStatus; by: Reviewer }> = {
  confirm: { from: ['open', 'escalated'], to: 'confirmed', by: secondAuditor },
  dismiss: { from: ['open', 'escalated'], to: 'dismissed', by: secondAuditor },
  escalate: { from: ['open'], to: 'escalated', by: auditor },
  appeal: { from: ['confirmed'], to: 'appealed', by: hospital },
  investigate: { from: ['appealed'], to: 'investigating', by: auditor },
  uphold: { from: ['appealed', 'investigating'], to: 'upheld', by: auditor },
  overturn: { from: ['appealed', 'investigating'], to: 'overturned', by: auditor },
};

const request = (action: ReviewAction, expectedVersion = 3) => ({ action, reason: '理由', expectedVersion });

const refusal = (fn: () => unknown): ReviewError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReviewError) return error;
    throw error;
  }
  throw new Error('the transition was not refused');
};

const escalatedBy = (actorId: string): Partial<ReviewState> => ({
  trail: [
    {
      action: 'escalate',
      from: 'open',
      to: 'escalated',
      actorId,
      role: 'auditor',
      at: '2026-10-08T00:00:00Z',
      reason: '复审',
    },
  ],
});

describe('review state machine', () => {
  for (const action of REVIEW_ACTIONS) {
    const { from, to, by } = ALLOWED[action];
    for (const status of FLAG_STATUSES) {
      if (from.includes(status)) {
        it(`lets a ${by.role} ${action} a flag that is ${status}, which becomes ${to} with a trail entry`, () => {
          const { next, entry } = applyTransition(
            state(status, status === 'escalated' ? escalatedBy('auditor-1') : {}),
            request(action),
            by,
            policy,
            now,
          );
          expect(next.status).toBe(to);
          expect(next.version).toBe(4);
          expect(entry).toMatchObject({
            action,
            from: status,
            to,
            actorId: by.actorId,
            role: by.role,
            reason: '理由',
            at: now.toISOString(),
          });
          expect(next.trail.at(-1)).toEqual(entry);
        });
      } else {
        it(`refuses to ${action} a flag that is ${status}`, () => {
          expect(refusal(() => applyTransition(state(status), request(action), by, policy, now)).kind).toBe(
            'not-allowed',
          );
        });
      }
    }
    for (const other of [auditor, hospital, ruleAuthor].filter((r) => r.role !== by.role)) {
      it(`refuses a ${other.role} who tries to ${action}, whatever the status`, () => {
        for (const status of FLAG_STATUSES)
          expect(
            refusal(() => applyTransition(state(status), request(action), other, policy, now)).kind,
          ).toBe('forbidden');
      });
    }
  }

  it("refuses a hospital appealing another hospital's flag", () => {
    expect(
      refusal(() => applyTransition(state('confirmed'), request('appeal'), otherHospital, policy, now)).kind,
    ).toBe('forbidden');
  });

  it('refuses a decision made on a version the flag has left, and names the current status', () => {
    const error = refusal(() => applyTransition(state('open'), request('confirm', 2), auditor, policy, now));
    expect(error.kind).toBe('conflict');
    expect(error.current.status).toBe('open');
    expect(error.message).toMatch(/version 2, now 3/);
  });

  it("closes the hospital's appeal window after the policy's days", () => {
    const days = policy.steps.confirmed.limitDays;
    const confirmedAt = new Date(now.getTime() - (days * 86_400_000 + 1)).toISOString();
    expect(
      refusal(() =>
        applyTransition(
          state('confirmed', { enteredAt: confirmedAt }),
          request('appeal'),
          hospital,
          policy,
          now,
        ),
      ).kind,
    ).toBe('deadline-passed');
    const justInTime = new Date(now.getTime() - days * 86_400_000 + 60_000).toISOString();
    expect(
      applyTransition(state('confirmed', { enteredAt: justInTime }), request('appeal'), hospital, policy, now)
        .next.status,
    ).toBe('appealed');
  });

  it('needs another auditor for the second review of an escalated flag', () => {
    expect(
      refusal(() =>
        applyTransition(
          state('escalated', escalatedBy('auditor-1')),
          request('confirm'),
          auditor,
          policy,
          now,
        ),
      ).kind,
    ).toBe('same-reviewer');
    expect(
      applyTransition(
        state('escalated', escalatedBy('auditor-1')),
        request('dismiss'),
        secondAuditor,
        policy,
        now,
      ).next.status,
    ).toBe('dismissed');
  });

  it('sets the next step’s time limit from the policy, and none once the flag is closed', () => {
    const appealed = applyTransition(state('confirmed'), request('appeal'), hospital, policy, now);
    expect(appealed.dueAt).toBe(
      new Date(now.getTime() + policy.steps.appealed.limitDays * 86_400_000).toISOString(),
    );
    expect(applyTransition(state('appealed'), request('uphold'), auditor, policy, now).dueAt).toBeUndefined();
  });

  it('refuses every action on a flag a correction of its claim superseded, and offers none', () => {
    for (const action of REVIEW_ACTIONS) {
      const { from, by } = ALLOWED[action];
      const superseded = state(from[0] as FlagStatus, { ...escalatedBy('auditor-1'), supersededBy: 2 });
      const error = refusal(() => applyTransition(superseded, request(action), by, policy, now));
      expect(error.kind).toBe('not-allowed');
      expect(error.message).toMatch(/superseded by version 2/);
    }
    expect(availableActions({ status: 'open', supersededBy: 2 }, auditor)).toEqual([]);
    expect(availableActions({ status: 'open' }, auditor)).toEqual(['confirm', 'dismiss', 'escalate']);
  });

  it('refuses every action on an exempted flag, saying it is kept for the record', () => {
    for (const action of REVIEW_ACTIONS) {
      const error = refusal(() =>
        applyTransition(state('exempted'), request(action), ALLOWED[action].by, policy, now),
      );
      expect(error.kind).toBe('not-allowed');
      expect(error.message).toMatch(/exempted/);
    }
    expect(availableActions({ status: 'exempted' }, auditor)).toEqual([]);
  });

  it('keeps the evidence of an appeal in the trail', () => {
    const { entry } = applyTransition(
      state('confirmed'),
      { ...request('appeal'), evidence: '病历第3页：患者为男性，系录入错误' },
      hospital,
      policy,
      now,
    );
    expect(entry.evidence).toBe('病历第3页：患者为男性，系录入错误');
  });
});
