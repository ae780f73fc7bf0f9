/**
 * How a flag listing is read: filters → a plan of DynamoDB Queries, each on the index designed for
 * its key filter (docs/review.md), the other filters as a FilterExpression on the same Query. Pure,
 * so the choice of index is tested without a table; never a Scan.
 */
import { createHash } from 'node:crypto';
import { TABLES } from '../resources.ts';
import type { FlagFilters } from './contracts.ts';
import { overdueBefore, type ReviewPolicy } from './policy.ts';
import { type ActiveStatus, AUDITOR_STATUSES, type Reviewer } from './states.ts';

export type FlagIndexName = (typeof TABLES.flags.indexes)[number]['indexName'];

/** One Query of a plan: an index, its partition key value and an optional sort-key range. */
export interface QueryStep {
  index: FlagIndexName;
  partition: string;
  /** Inclusive bounds on the index's sort key. */
  range?: { from?: string; to?: string };
}

export interface Condition {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

export interface ListPlan {
  /** Queried in order, each newest first; a page may span steps. */
  steps: QueryStep[];
  filter?: Condition;
  /** Binds a cursor to the filters it was issued for (a cursor replayed with other filters is refused). */
  fingerprint: string;
}

/** The key attributes of each flags index, from src/resources.ts. */
export const FLAG_INDEX_KEYS = Object.fromEntries(
  TABLES.flags.indexes.map((i) => [i.indexName, { partition: i.partitionKey.name, sort: i.sortKey.name }]),
) as Record<FlagIndexName, { partition: string; sort: string }>;

/** An unfiltered listing covers this many months back from now (the byMonth index, a partition a month). */
export const DEFAULT_MONTHS = 24;
const HIGH = '\uffff';

/** Months from `from` to `to` (YYYY-MM), newest first. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let [y, m] = to.split('-').map(Number) as [number, number];
  for (let guard = 0; guard < 1_200; guard++) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month < from) break;
    months.push(month);
    m -= 1;
    if (m === 0) {
      m = 12;
      y -= 1;
    }
  }
  return months;
}

const monthOf = (date: Date): string => date.toISOString().slice(0, 7);
const monthsBack = (now: Date, n: number): string =>
  monthOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - n + 1, 1)));

/**
 * The plan for `filters` as `reviewer` may see them. A hospital's listing is always keyed by its own
 * hospital (whatever it asked for, it never reads another partition); the handler has already
 * refused a hospital filter naming another hospital.
 */
export function planList(
  requested: FlagFilters,
  reviewer: Reviewer,
  policy: ReviewPolicy,
  now: Date,
): ListPlan {
  const filters: FlagFilters =
    reviewer.role === 'hospital' ? { ...requested, hospital: reviewer.hospitalId } : requested;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(Object.entries(filters).sort(([a], [b]) => a.localeCompare(b))))
    .digest('base64url')
    .slice(0, 16);
  const created = {
    from: filters.from,
    to: filters.to === undefined ? undefined : `${filters.to}${HIGH}`,
  };
  const range = created.from || created.to ? { range: clean(created) } : {};
  const conditions = new ConditionBuilder();

  // Overdue flags: those that entered an auditor's step before its limit. Only open flags have
  // never moved, so their step began at creation; the others carry `enteredAt`.
  const overdueStatuses: ActiveStatus[] = filters.overdue
    ? AUDITOR_STATUSES.filter((s) => filters.status === undefined || filters.status === s)
    : [];
  if (filters.overdue && overdueStatuses.length === 0) return { steps: [], fingerprint };

  let steps: QueryStep[];
  const used = new Set<keyof FlagFilters>();
  const keyed = (index: FlagIndexName, key: keyof FlagFilters, value: string): QueryStep[] => {
    used.add(key);
    return [{ index, partition: value, ...range }];
  };
  if (filters.hospital !== undefined && reviewer.role === 'hospital')
    steps = keyed('byHospital', 'hospital', filters.hospital);
  else if (filters.doctor !== undefined) steps = keyed('byDoctor', 'doctor', filters.doctor);
  else if (filters.rule !== undefined) steps = keyed('byRule', 'rule', filters.rule);
  else if (filters.hospital !== undefined) steps = keyed('byHospital', 'hospital', filters.hospital);
  else if (filters.ruleClass !== undefined) steps = keyed('byRuleClass', 'ruleClass', filters.ruleClass);
  else if (filters.overdue) {
    // One Query per auditor step, on the sort key that says when the flag entered it.
    used.add('status');
    used.add('overdue');
    steps = overdueStatuses.map((s) =>
      s === 'open'
        ? {
            index: 'byStatus',
            partition: s,
            range: clean({ from: created.from, to: earliest(created.to, overdueBefore(policy, s, now)) }),
          }
        : { index: 'byStatusEntered', partition: s, range: { to: overdueBefore(policy, s, now) } },
    );
  } else if (filters.status !== undefined) steps = keyed('byStatus', 'status', filters.status);
  else {
    const months = listedMonths(filters, now);
    used.add('from');
    used.add('to');
    steps = months.map((m) => ({ index: 'byMonth', partition: m }));
  }

  const equal: [keyof FlagFilters, string][] = [
    ['hospital', 'hospitalId'],
    ['doctor', 'doctorId'],
    ['rule', 'ruleId'],
    ['ruleClass', 'ruleClass'],
    ['status', 'status'],
    ['severity', 'severity'],
    ['stage', 'stage'],
    ['result', 'result'],
  ];
  for (const [key, attribute] of equal) {
    const value = filters[key];
    if (value !== undefined && !used.has(key)) conditions.equals(attribute, value);
  }
  if (steps[0]?.index === 'byStatusEntered' && (created.from || created.to))
    conditions.between('createdAt', created.from, created.to);
  if (filters.minAmount !== undefined || filters.maxAmount !== undefined)
    conditions.between('amountAtRisk', filters.minAmount, filters.maxAmount);
  if (filters.overdue && !used.has('overdue')) conditions.overdue(overdueStatuses, policy, now);
  // Superseded and exempted flags are kept for the record, not for review: out unless asked for.
  conditions.exists('supersededBy', filters.superseded === true);
  if (filters.status === undefined && !filters.overdue) conditions.notEquals('status', 'exempted');
  const filter = conditions.build();
  return filter ? { steps, filter, fingerprint } : { steps, fingerprint };
}

/** The months a listing without a key filter reads, newest first: its period, or the last DEFAULT_MONTHS. */
export const listedMonths = (filters: Pick<FlagFilters, 'from' | 'to'>, now: Date): string[] =>
  monthsBetween(filters.from ?? monthsBack(now, DEFAULT_MONTHS), filters.to ?? monthOf(now));

/**
 * The flags of `status` that entered it in [`since`, `before`), created in `months`, of `hospital`
 * when given, not superseded: the one day of a step's limit the live counters cannot split
 * (src/review/counts.ts counts entries by day).
 */
export function planEnteredBetween(
  status: ActiveStatus,
  since: string,
  before: string,
  months: readonly string[],
  hospital?: string,
): ListPlan {
  const conditions = new ConditionBuilder();
  if (hospital !== undefined) conditions.equals('hospitalId', hospital);
  conditions.between('createdAt', months.at(-1), `${months[0]}${HIGH}`);
  conditions.exists('supersededBy', false);
  // Open flags never moved: they entered their status when they were created.
  const index: FlagIndexName = status === 'open' ? 'byStatus' : 'byStatusEntered';
  return {
    steps: [{ index, partition: status, range: { from: since, to: before } }],
    filter: conditions.build() as Condition,
    fingerprint: 'entered',
  };
}

const earliest = (a: string | undefined, b: string): string => (a !== undefined && a < b ? a : b);

const clean = (range: { from?: string | undefined; to?: string | undefined }): QueryStep['range'] => ({
  ...(range.from === undefined ? {} : { from: range.from }),
  ...(range.to === undefined ? {} : { to: range.to }),
});

/** A FilterExpression built clause by clause, with its placeholders. */
class ConditionBuilder {
  readonly #clauses: string[] = [];
  readonly #names: Record<string, string> = {};
  readonly #values: Record<string, unknown> = {};
  #n = 0;

  #name(attribute: string): string {
    const placeholder = `#f_${attribute}`;
    this.#names[placeholder] = attribute;
    return placeholder;
  }

  #value(value: unknown): string {
    const placeholder = `:f${this.#n++}`;
    this.#values[placeholder] = value;
    return placeholder;
  }

  equals(attribute: string, value: unknown): void {
    this.#clauses.push(`${this.#name(attribute)} = ${this.#value(value)}`);
  }

  notEquals(attribute: string, value: unknown): void {
    this.#clauses.push(`${this.#name(attribute)} <> ${this.#value(value)}`);
  }

  exists(attribute: string, present: boolean): void {
    this.#clauses.push(`${present ? 'attribute_exists' : 'attribute_not_exists'}(${this.#name(attribute)})`);
  }

  between(attribute: string, from: unknown, to: unknown): void {
    const name = this.#name(attribute);
    if (from !== undefined) this.#clauses.push(`${name} >= ${this.#value(from)}`);
    if (to !== undefined) this.#clauses.push(`${name} <= ${this.#value(to)}`);
  }

  overdue(statuses: readonly ActiveStatus[], policy: ReviewPolicy, now: Date): void {
    const status = this.#name('status');
    const parts = statuses.map((s) => {
      const since = s === 'open' ? this.#name('createdAt') : this.#name('enteredAt');
      return `(${status} = ${this.#value(s)} AND ${since} < ${this.#value(overdueBefore(policy, s, now))})`;
    });
    this.#clauses.push(parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`);
  }

  build(): Condition | undefined {
    if (this.#clauses.length === 0) return undefined;
    return { expression: this.#clauses.join(' AND '), names: this.#names, values: this.#values };
  }
}
