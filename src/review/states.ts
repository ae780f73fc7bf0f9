import type { FLAG_STATUSES } from '../contracts/flag.ts';

export type FlagStatus = (typeof FLAG_STATUSES)[number];

/** Statuses in which someone still has to act, each with a time limit in the review policy. */
export const ACTIVE_STATUSES = ['open', 'escalated', 'confirmed', 'appealed', 'investigating'] as const;
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

/** Statuses in which an auditor has to act: what "overdue" counts. */
export const AUDITOR_STATUSES = ['open', 'escalated', 'appealed', 'investigating'] as const;

export const isActive = (status: FlagStatus): status is ActiveStatus =>
  (ACTIVE_STATUSES as readonly string[]).includes(status);

/**
 * The filters of a flag listing. FlagFilters (contracts.ts) has a schema for exactly these and the
 * console a field for each, so a filter added on one side fails the type check on the other.
 */
export const FLAG_FILTER_NAMES = [
  'status',
  'hospital',
  'doctor',
  'rule',
  'ruleClass',
  'severity',
  'stage',
  'result',
  'from',
  'to',
  'minAmount',
  'maxAmount',
  'overdue',
  'superseded',
] as const;
export type FlagFilterName = (typeof FLAG_FILTER_NAMES)[number];

/** A bulk decision touches at most this many flags; a larger filtered set is refused, not cut. */
export const MAX_BULK = 200;

export const ROLES = ['auditor', 'hospital', 'rule-author'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling the review API. A hospital caller always carries its hospital. */
export type Reviewer =
  | { role: 'auditor'; actorId: string }
  | { role: 'rule-author'; actorId: string }
  | { role: 'hospital'; actorId: string; hospitalId: string };

/** Chinese names of the statuses, as the console and the CSV export show them. */
export const STATUS_LABELS: Record<FlagStatus, string> = {
  open: '待初审',
  confirmed: '已确认违规',
  dismissed: '已排除',
  escalated: '待复审',
  appealed: '申诉中',
  investigating: '调查核实中',
  upheld: '申诉驳回（维持）',
  overturned: '申诉成立（撤销）',
  exempted: '已豁免',
};
