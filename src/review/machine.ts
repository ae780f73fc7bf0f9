/**
 * The review state machine of a flag, after the NHSA workflow 初审 → 复审 → 申诉 → 调查核实 → 处理.
 * Pure: (the flag's review state, a request, who asks, the policy, now) → the next state and its
 * trail entry, or a ReviewError saying why not. The DynamoDB adapter writes the result with a
 * condition on the version it was computed from, which is what makes two decisions on one flag safe.
 */
import type { ReviewPolicy } from './policy.ts';
import { dueAt } from './policy.ts';
import { type FlagStatus, isActive, type Reviewer, type Role } from './states.ts';

export const REVIEW_ACTIONS = [
  'confirm',
  'dismiss',
  'escalate',
  'appeal',
  'investigate',
  'uphold',
  'overturn',
] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

interface TransitionDef {
  from: readonly FlagStatus[];
  to: FlagStatus;
  by: Role;
  label: string;
}

/** Every allowed transition: from which states, to which, and the one role that may take it. */
export const TRANSITIONS: Record<ReviewAction, TransitionDef> = {
  confirm: { from: ['open', 'escalated'], to: 'confirmed', by: 'auditor', label: '确认违规' },
  dismiss: { from: ['open', 'escalated'], to: 'dismissed', by: 'auditor', label: '排除' },
  escalate: { from: ['open'], to: 'escalated', by: 'auditor', label: '提交复审' },
  appeal: { from: ['confirmed'], to: 'appealed', by: 'hospital', label: '提出申诉' },
  investigate: { from: ['appealed'], to: 'investigating', by: 'auditor', label: '调查核实' },
  uphold: { from: ['appealed', 'investigating'], to: 'upheld', by: 'auditor', label: '驳回申诉（维持）' },
  overturn: {
    from: ['appealed', 'investigating'],
    to: 'overturned',
    by: 'auditor',
    label: '申诉成立（撤销）',
  },
};

/** One step of a flag's review, kept forever: who, when, why. */
export interface TrailEntry {
  action: ReviewAction;
  from: FlagStatus;
  to: FlagStatus;
  actorId: string;
  role: Role;
  at: string;
  reason: string;
  /** The hospital's evidence, for an appeal. */
  evidence?: string;
}

/** The review part of a flag, as stored on its item. */
export interface ReviewState {
  flagId: string;
  hospitalId: string;
  status: FlagStatus;
  /** Increases by one with every transition; 0 for a flag nobody has touched. */
  version: number;
  /** When the flag entered its current status (its creation for an open flag). */
  enteredAt: string;
  trail: TrailEntry[];
  /** The claim version whose correction superseded the flag: kept for the record, never decided. */
  supersededBy?: number;
}

export interface TransitionRequest {
  action: ReviewAction;
  reason: string;
  evidence?: string;
  /** The version the caller saw; a different current version is a conflict. */
  expectedVersion: number;
}

export type ReviewErrorKind = 'forbidden' | 'not-allowed' | 'conflict' | 'deadline-passed' | 'same-reviewer';

/** Why a transition was refused. The API maps `forbidden` to 403 and the rest to 409 with the current state. */
export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  constructor(
    readonly kind: ReviewErrorKind,
    message: string,
    readonly current: ReviewState,
  ) {
    super(message);
  }
}

export interface Transition {
  next: ReviewState;
  entry: TrailEntry;
  /** When the new status runs out, for a status with a time limit. */
  dueAt?: string;
}

/** The next review state of `state` after `request` by `reviewer`, or a ReviewError. */
export function applyTransition(
  state: ReviewState,
  request: TransitionRequest,
  reviewer: Reviewer,
  policy: ReviewPolicy,
  now: Date,
): Transition {
  const def = TRANSITIONS[request.action];
  if (reviewer.role !== def.by)
    throw new ReviewError('forbidden', `only a ${def.by} may ${request.action} a flag`, state);
  if (reviewer.role === 'hospital' && reviewer.hospitalId !== state.hospitalId)
    // The handler answers 404 before this for another hospital's flag; kept so the core is safe alone.
    throw new ReviewError('forbidden', "a hospital may only appeal its own hospital's flags", state);
  if (request.expectedVersion !== state.version)
    throw new ReviewError(
      'conflict',
      `the flag changed since you read it (version ${request.expectedVersion}, now ${state.version}, status ${state.status})`,
      state,
    );
  if (state.supersededBy !== undefined)
    throw new ReviewError(
      'not-allowed',
      `the flag was superseded by version ${state.supersededBy} of its claim (a correction); decide the flags of that version instead`,
      state,
    );
  if (state.status === 'exempted')
    throw new ReviewError(
      'not-allowed',
      'the flag is exempted (an approved exemption covers the hit); it is kept for the record and never decided',
      state,
    );
  if (!def.from.includes(state.status))
    throw new ReviewError(
      'not-allowed',
      `a flag in status ${state.status} cannot be ${request.action}ed; ${request.action} applies to ${def.from.join(' or ')}`,
      state,
    );
  const at = now.toISOString();
  if (request.action === 'appeal' && at > dueAt(policy, 'confirmed', state.enteredAt))
    throw new ReviewError(
      'deadline-passed',
      `the appeal window of ${policy.steps.confirmed.limitDays} days closed at ${dueAt(policy, 'confirmed', state.enteredAt)}`,
      state,
    );
  if (state.status === 'escalated') {
    // 复审: a second pair of eyes, never the auditor who asked for it.
    const escalation = state.trail.findLast((e) => e.action === 'escalate');
    if (escalation?.actorId === reviewer.actorId)
      throw new ReviewError(
        'same-reviewer',
        'the second review must be made by another auditor than the one who escalated the flag',
        state,
      );
  }
  const entry: TrailEntry = {
    action: request.action,
    from: state.status,
    to: def.to,
    actorId: reviewer.actorId,
    role: reviewer.role,
    at,
    reason: request.reason,
    ...(request.evidence ? { evidence: request.evidence } : {}),
  };
  const next: ReviewState = {
    ...state,
    status: def.to,
    version: state.version + 1,
    enteredAt: at,
    trail: [...state.trail, entry],
  };
  return isActive(def.to) ? { next, entry, dueAt: dueAt(policy, def.to, at) } : { next, entry };
}

/** The actions `reviewer` could take on a flag in `status` now (the console shows these buttons). */
export function availableActions(
  state: Pick<ReviewState, 'status' | 'supersededBy'>,
  reviewer: Reviewer,
): ReviewAction[] {
  const { status } = state;
  if (state.supersededBy !== undefined) return [];
  return (Object.keys(TRANSITIONS) as ReviewAction[]).filter(
    (a) => TRANSITIONS[a].by === reviewer.role && TRANSITIONS[a].from.includes(status),
  );
}
