/**
 * The review core behind the API: listings, detail, decisions, bulk decisions, counts, export,
 * scores and rule precision, each for one reviewer. It knows the store port and the state machine,
 * never HTTP; the handler maps its errors to problems.
 */
import type { z } from 'zod';
import type { ConditionTree } from '../contracts/rule.ts';
import type { RuleSet } from '../rules/rule-set.ts';
import type {
  BulkAnswer,
  Counts,
  FlagDetail,
  FlagFilters,
  FlagView,
  PrecisionAnswer,
  Score,
  ScoresAnswer,
  ScoresQuery,
} from './contracts.ts';
import { MAX_BULK } from './contracts.ts';
import { hospitalMonthScope, monthScope, RULES_SCOPE } from './counts.ts';
import { CSV_HEADER, toCsvRow } from './csv.ts';
import {
  applyTransition,
  availableActions,
  ReviewError,
  type ReviewState,
  type TrailEntry,
  type TransitionRequest,
} from './machine.ts';
import { type ListPlan, listedMonths, planEnteredBetween, planList } from './plan.ts';
import { dueAt, overdueBefore, type ReviewPolicy } from './policy.ts';
import { AUDITOR_STATUSES, type FlagStatus, isActive, type Reviewer, STATUS_LABELS } from './states.ts';
import { type DynamoReviewStore, decodeCursor, encodeCursor, type FlagItem } from './store.ts';

/** The flag does not exist, or the caller may not know it does: one answer for both. */
export class FlagNotFoundError extends Error {
  override readonly name = 'FlagNotFoundError';
}

/** The caller's role may not do this at all. */
export class ReviewForbiddenError extends Error {
  override readonly name = 'ReviewForbiddenError';
}

/** A request that is well formed but cannot be carried out as asked (a bulk set too large or changed). */
export class BulkRefusedError extends Error {
  override readonly name = 'BulkRefusedError';
  constructor(
    message: string,
    readonly status: 400 | 409,
  ) {
    super(message);
  }
}

/**
 * A count the counters cannot serve evaluates at most about this many flags, and says when it
 * stopped there. Measured on DynamoDB Local with 100,000 flags: reading a flag for a count costs
 * 0.035–0.06 ms of its CPU and ~0.01 ms of ours, so 50,000 (the bound before) made one count of a
 * rule's flags 41 Queries and 1.7 s of DynamoDB CPU; 10,000 is 20 Queries and about 0.6 s. An
 * auditor looking at more than that many flags of one doctor or rule narrows the filter first.
 */
export const MAX_COUNTED = 10_000;

/** The filters the counter items serve (src/review/counts.ts): their scopes and attributes. */
const COUNTED_FILTERS = new Set<keyof FlagFilters>(['hospital', 'status', 'ruleClass', 'from', 'to']);

export interface ReviewServiceDeps {
  store: DynamoReviewStore;
  policy: ReviewPolicy;
  ruleSet: RuleSet;
  now?: () => Date;
  /** The bound of a count read from the flags (MAX_COUNTED); tests lower it. */
  maxCounted?: number;
}

export class ReviewService {
  readonly #store: DynamoReviewStore;
  readonly #policy: ReviewPolicy;
  readonly #rules: RuleSet;
  readonly #now: () => Date;
  readonly #maxCounted: number;

  constructor(deps: ReviewServiceDeps) {
    this.#store = deps.store;
    this.#policy = deps.policy;
    this.#rules = deps.ruleSet;
    this.#now = deps.now ?? (() => new Date());
    this.#maxCounted = deps.maxCounted ?? MAX_COUNTED;
  }

  get policy(): ReviewPolicy {
    return this.#policy;
  }

  /** The plan of a listing; a hospital naming another hospital is refused (the same answer whether it exists or not). */
  plan(filters: FlagFilters, reviewer: Reviewer): ListPlan {
    if (
      reviewer.role === 'hospital' &&
      filters.hospital !== undefined &&
      filters.hospital !== reviewer.hospitalId
    )
      throw new ReviewForbiddenError("a hospital may only list its own hospital's flags");
    return planList(filters, reviewer, this.#policy, this.#now());
  }

  async list(
    filters: FlagFilters,
    reviewer: Reviewer,
    limit: number,
    cursor?: string,
  ): Promise<{ items: FlagView[]; nextCursor: string | null }> {
    const plan = this.plan(filters, reviewer);
    const after = cursor === undefined ? undefined : decodeCursor(plan, cursor);
    const page = await this.#store.page(plan, limit, after);
    const now = this.#now();
    return {
      items: page.items.map((item) => this.view(item, now)),
      nextCursor: page.next ? encodeCursor(plan, page.next) : null,
    };
  }

  /**
   * Counts of the filtered set by status and rule class, with amounts at risk and overdue flags.
   * Filtered by hospital, status, rule class and period — the queue's live counts — they come from
   * the counter items (src/review/counts.ts), exact whatever the number of flags; other filters
   * read the flags of the listing, about MAX_COUNTED at most, and say when they stopped there.
   */
  async counts(filters: FlagFilters, reviewer: Reviewer): Promise<z.infer<typeof Counts>> {
    const plan = this.plan(filters, reviewer);
    const scoped: FlagFilters =
      reviewer.role === 'hospital' ? { ...filters, hospital: reviewer.hospitalId } : filters;
    if (Object.entries(scoped).every(([k, v]) => COUNTED_FILTERS.has(k as keyof FlagFilters) || v === false))
      return this.#counted(scoped, reviewer);
    const counts = noCounts('flags');
    const now = this.#now();
    let cents = 0;
    let read = 0;
    for await (const page of this.#store.pages(
      plan,
      ['flagId', 'status', 'ruleClass', 'amountAtRisk', 'createdAt', 'enteredAt', 'dueAt'],
      undefined,
      Math.min(500, this.#maxCounted),
    )) {
      for (const item of page.items) {
        const status = item.status;
        const amount = Number(item.amountAtRisk ?? 0);
        const ruleClass = String(item.ruleClass ?? '');
        counts.total += 1;
        cents += Math.round(amount * 100);
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
        const byClass = counts.byRuleClass[ruleClass] ?? { flags: 0, amountAtRisk: 0 };
        counts.byRuleClass[ruleClass] = byClass;
        byClass.flags += 1;
        byClass.amountAtRisk = Math.round((byClass.amountAtRisk + amount) * 100) / 100;
        if (this.#overdue(item, now)) counts.overdue += 1;
      }
      read += page.scanned;
      if (read >= this.#maxCounted && page.more) {
        counts.exact = false;
        counts.overdueExact = false;
        break;
      }
    }
    counts.amountAtRisk = cents / 100;
    return counts;
  }

  /** Counts from the counter items: one BatchGetItem per 100 shard items, and one Query per auditor step for overdue flags. */
  async #counted(filters: FlagFilters, reviewer: Reviewer): Promise<z.infer<typeof Counts>> {
    const now = this.#now();
    const months = listedMonths(filters, now);
    const { hospital } = filters;
    const sums = await this.#store.counters(
      months.map((m) => (hospital === undefined ? monthScope(m) : hospitalMonthScope(hospital, m))),
    );
    const wanted = (status: string): boolean =>
      filters.status === undefined ? status !== 'exempted' : status === filters.status;
    const counts = noCounts('counters');
    let cents = 0;
    const classCents = new Map<string, number>();
    const entered = new Map<string, number>();
    for (const [name, value] of sums) {
      const [kind, status = '', rest = ''] = name.split('|');
      if (!wanted(status) || value === 0) continue;
      if (kind === 'e') entered.set(`${status}|${rest}`, value);
      if (filters.ruleClass !== undefined && rest !== filters.ruleClass) continue;
      if (kind === 'n') {
        counts.total += value;
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + value;
        const byClass = counts.byRuleClass[rest] ?? { flags: 0, amountAtRisk: 0 };
        byClass.flags += value;
        counts.byRuleClass[rest] = byClass;
      } else if (kind === 'a') {
        cents += value;
        classCents.set(rest, (classCents.get(rest) ?? 0) + value);
      }
    }
    counts.amountAtRisk = cents / 100;
    for (const [ruleClass, byClass] of Object.entries(counts.byRuleClass))
      byClass.amountAtRisk = (classCents.get(ruleClass) ?? 0) / 100;
    const steps = AUDITOR_STATUSES.filter(wanted);
    if (filters.ruleClass !== undefined) {
      // Entries are counted by day, not by class: a class's overdue flags are counted by DynamoDB.
      const from = months.at(-1) as string;
      const to = months[0] as string;
      if (steps.length) {
        const overdue = await this.#store.count(
          this.plan({ ...filters, from, to, overdue: true }, reviewer),
          this.#maxCounted,
        );
        counts.overdue = overdue.count;
        counts.overdueExact = overdue.exact;
      }
      return counts;
    }
    // A step's overdue flags: every day of entries before its limit's day, and that day up to the limit.
    const partial = await Promise.all(
      steps.map((status) => {
        const before = overdueBefore(this.#policy, status, now);
        const day = before.slice(0, 10);
        for (const [key, value] of entered) {
          const [s, d = ''] = key.split('|');
          if (s === status && d < day) counts.overdue += value;
        }
        return this.#store.count(
          planEnteredBetween(status, `${day}T00:00:00.000Z`, before, months, hospital),
          this.#maxCounted,
        );
      }),
    );
    counts.overdue += partial.reduce((a, b) => a + b.count, 0);
    counts.overdueExact = partial.every((p) => p.exact);
    return counts;
  }

  /** A flag with everything an auditor needs to decide it; another hospital's flag is not found. */
  async detail(flagId: string, reviewer: Reviewer): Promise<FlagDetail> {
    const item = await this.#visible(flagId, reviewer);
    const now = this.#now();
    const flag = this.view(item, now);
    // The claim and its other flags are independent reads: one round trip, not two.
    const [claim, ofClaim] = await Promise.all([
      typeof item.claimId === 'string' && typeof item.insuredId === 'string'
        ? this.#store.claim(item.insuredId, item.claimId, String(item.createdAt))
        : undefined,
      typeof item.claimId === 'string' ? this.#store.flagsOfClaim(item.claimId) : [],
    ]);
    const siblings =
      typeof item.claimId === 'string'
        ? ofClaim
            .filter(
              (f) =>
                f.flagId !== flagId && (reviewer.role !== 'hospital' || f.hospitalId === reviewer.hospitalId),
            )
            .map((f) => ({ flagId: f.flagId, ruleId: String(f.ruleId), status: f.status as FlagStatus }))
        : [];
    const rule = this.#rules.rules.find((r) => r.file.id === flag.ruleId)?.file;
    const state = this.#state(item);
    return {
      flag,
      claim: claim
        ? {
            claimId: claim.claimId,
            visitType: claim.visitType,
            firstServiceDate: claim.firstServiceDate,
            lastServiceDate: claim.lastServiceDate,
            lines: claim.items.map((line) => ({ ...line, flagged: flag.lineNos.includes(line.lineNo) })),
          }
        : null,
      rule: rule
        ? {
            id: rule.id,
            version: rule.version,
            title: rule.title,
            ...(rule.description ? { description: rule.description } : {}),
            conditions: conditionsInWords(rule.conditions),
            params: rule.params,
          }
        : null,
      siblings,
      relatedClaimIds: reviewer.role === 'hospital' ? [] : (flag.relatedClaimIds ?? []),
      trail: state.trail,
      actions: availableActions(state, reviewer),
      policy: isActive(state.status)
        ? {
            step: this.#policy.steps[state.status].label,
            limitDays: this.#policy.steps[state.status].limitDays,
          }
        : {},
    };
  }

  /** Takes one transition, or throws ReviewError (with the current state) / FlagNotFoundError. */
  async decide(
    flagId: string,
    request: TransitionRequest,
    reviewer: Reviewer,
  ): Promise<{ flag: FlagView; trail: TrailEntry[] }> {
    const item = await this.#visible(flagId, reviewer);
    const state = this.#state(item);
    const transition = applyTransition(state, request, reviewer, this.#policy, this.#now());
    if (!(await this.#store.transition(item, state, transition))) {
      const current = await this.#store.flag(flagId);
      const now = current ? this.#state(current) : state;
      throw new ReviewError(
        'conflict',
        `another decision was recorded first: the flag is now ${now.status} (version ${now.version})`,
        now,
      );
    }
    const written = { ...item, status: transition.next.status, reviewVersion: transition.next.version };
    return {
      flag: this.view(
        { ...written, enteredAt: transition.next.enteredAt, dueAt: transition.dueAt },
        this.#now(),
      ),
      trail: transition.next.trail,
    };
  }

  /**
   * One decision over a filtered set, bounded by MAX_BULK. The caller says how many flags it saw;
   * if the set has changed since, nothing is decided. Each flag is checked on its own and reported.
   */
  async bulk(
    filters: FlagFilters,
    request: Omit<TransitionRequest, 'expectedVersion'>,
    expectedCount: number,
    reviewer: Reviewer,
  ): Promise<z.infer<typeof BulkAnswer>> {
    if (reviewer.role !== 'auditor') throw new ReviewForbiddenError('only auditors decide flags in bulk');
    const plan = this.plan(filters, reviewer);
    const items: FlagItem[] = [];
    for await (const page of this.#store.all(plan)) {
      items.push(...page);
      if (items.length > MAX_BULK) break;
    }
    if (items.length > MAX_BULK)
      throw new BulkRefusedError(
        `the filtered set has more than ${MAX_BULK} flags; narrow the filters to decide at most ${MAX_BULK} at once`,
        400,
      );
    if (items.length !== expectedCount)
      throw new BulkRefusedError(
        `the filtered set now has ${items.length} flags, not the ${expectedCount} you saw; nothing was decided`,
        409,
      );
    return this.#decideEach(
      items.map((item) => ({ item, expectedVersion: Number(item.reviewVersion ?? 0) })),
      request,
      reviewer,
    );
  }

  /**
   * One decision over the flags an auditor checked, each only if still at the version the auditor
   * saw; a flag not found (or gone) is reported, never a reason to stop the others.
   */
  async bulkChecked(
    checked: readonly { flagId: string; expectedVersion: number }[],
    request: Omit<TransitionRequest, 'expectedVersion'>,
    reviewer: Reviewer,
  ): Promise<z.infer<typeof BulkAnswer>> {
    if (reviewer.role !== 'auditor') throw new ReviewForbiddenError('only auditors decide flags in bulk');
    if (checked.length > MAX_BULK)
      throw new BulkRefusedError(`at most ${MAX_BULK} flags can be decided at once`, 400);
    const items = await Promise.all(checked.map((c) => this.#store.flag(c.flagId)));
    const found: { item: FlagItem; expectedVersion: number }[] = [];
    const missing: z.infer<typeof BulkAnswer>['results'] = [];
    checked.forEach((c, i) => {
      const item = items[i];
      if (item) found.push({ item, expectedVersion: c.expectedVersion });
      else missing.push({ flagId: c.flagId, outcome: 'refused', reason: `no flag ${c.flagId}` });
    });
    const decided = await this.#decideEach(found, request, reviewer);
    return { ...decided, total: checked.length, results: [...decided.results, ...missing] };
  }

  /** Each flag checked by the state machine and written on its own; every one reported. */
  async #decideEach(
    flags: readonly { item: FlagItem; expectedVersion: number }[],
    request: Omit<TransitionRequest, 'expectedVersion'>,
    reviewer: Reviewer,
  ): Promise<z.infer<typeof BulkAnswer>> {
    const results: z.infer<typeof BulkAnswer>['results'] = [];
    for (const { item, expectedVersion } of flags) {
      const state = this.#state(item);
      try {
        const transition = applyTransition(
          state,
          { ...request, expectedVersion },
          reviewer,
          this.#policy,
          this.#now(),
        );
        const written = await this.#store.transition(item, state, transition);
        results.push(
          written
            ? { flagId: item.flagId, outcome: 'done', status: transition.next.status }
            : {
                flagId: item.flagId,
                outcome: 'refused',
                status: state.status,
                reason: 'decided by someone else meanwhile',
              },
        );
      } catch (error) {
        if (!(error instanceof ReviewError)) throw error;
        results.push({
          flagId: item.flagId,
          outcome: 'refused',
          status: state.status,
          reason: error.message,
        });
      }
    }
    return { total: flags.length, done: results.filter((r) => r.outcome === 'done').length, results };
  }

  /** The filtered set as CSV (UTF-8 with a BOM, so Excel reads the Chinese text), a page at a time. */
  async *exportCsv(filters: FlagFilters, reviewer: Reviewer): AsyncGenerator<string> {
    const plan = this.plan(filters, reviewer);
    yield `\ufeff${CSV_HEADER}`;
    const now = this.#now();
    for await (const items of this.#store.all(plan))
      yield items.map((i) => toCsvRow(this.view(i, now))).join('');
  }

  async scores(
    query: z.infer<typeof ScoresQuery>,
    reviewer: Reviewer,
  ): Promise<z.infer<typeof ScoresAnswer>> {
    let items: Score[];
    if (query.id !== undefined) {
      if (reviewer.role === 'hospital' && query.kind === 'hospital' && query.id !== reviewer.hospitalId)
        throw new ReviewForbiddenError("a hospital may only read its own hospital's scores");
      items = await this.#store.scores(`${query.kind}#${query.id}`, query.from, query.to);
    } else if (query.period !== undefined) {
      if (
        reviewer.role === 'hospital' &&
        query.hospital !== undefined &&
        query.hospital !== reviewer.hospitalId
      )
        throw new ReviewForbiddenError("a hospital may only read its own hospital's scores");
      items = await this.#store.scoresOfPeriod(
        query.period,
        query.kind,
        reviewer.role === 'hospital' ? reviewer.hospitalId : query.hospital,
      );
    } else throw new BulkRefusedError('ask for one subject (id) or one period (period)', 400);
    // Every score names its hospital (a doctor's score, the doctor's): a hospital reads its own and
    // its doctors', and another hospital's doctor is answered like one without scores.
    if (reviewer.role === 'hospital') items = items.filter((s) => s.hospitalId === reviewer.hospitalId);
    return items.length
      ? { items, empty: false }
      : {
          items: [],
          empty: true,
          note: 'the scores table holds no score for this question yet: scores are written by the post-event stage',
        };
  }

  /**
   * Per rule and version: flags confirmed, dismissed, appealed and overturned, and the share that
   * held — from the `rules` counter scope (src/review/counts.ts), 8 items whatever the number of
   * flags; reading each rule's flags cost ~0.1 ms of DynamoDB Local CPU a flag (2 s at 20,000).
   * Superseded flags are not counted: a correction replaced them.
   */
  async precision(reviewer: Reviewer): Promise<z.infer<typeof PrecisionAnswer>> {
    if (reviewer.role === 'hospital')
      throw new ReviewForbiddenError('rule precision is for auditors and rule authors');
    const byRule = new Map<string, Map<number, Record<FlagStatus, number>>>();
    for (const [name, n] of await this.#store.counters([RULES_SCOPE])) {
      const [kind, status, ...rest] = name.split('|');
      const ruleVersion = Number(rest.pop());
      if (kind !== 'r' || n === 0 || !Number.isInteger(ruleVersion)) continue;
      const ruleId = rest.join('|');
      const versions = byRule.get(ruleId) ?? new Map<number, Record<FlagStatus, number>>();
      byRule.set(ruleId, versions);
      const counts =
        versions.get(ruleVersion) ??
        (Object.fromEntries(Object.keys(STATUS_LABELS).map((s) => [s, 0])) as Record<FlagStatus, number>);
      counts[status as FlagStatus] = (counts[status as FlagStatus] ?? 0) + n;
      versions.set(ruleVersion, counts);
    }
    const rules: z.infer<typeof PrecisionAnswer>['rules'] = [];
    for (const { file } of this.#rules.rules) {
      const byVersion = byRule.get(file.id) ?? new Map<number, Record<FlagStatus, number>>();
      for (const [ruleVersion, c] of [...byVersion].sort(([a], [b]) => b - a)) {
        const appealed = c.appealed + c.investigating + c.upheld + c.overturned;
        const confirmed = c.confirmed + appealed;
        const decided = confirmed + c.dismissed;
        rules.push({
          ruleId: file.id,
          ruleVersion,
          title: file.title,
          flags: Object.values(c).reduce((a, b) => a + b, 0),
          open: c.open + c.escalated,
          confirmed,
          dismissed: c.dismissed,
          appealed,
          overturned: c.overturned,
          precision: decided ? Math.round(((confirmed - c.overturned) / decided) * 1000) / 1000 : null,
        });
      }
    }
    return { rules };
  }

  /** The flag, if `reviewer` may see it; another hospital's flag is answered exactly like a missing one. */
  async #visible(flagId: string, reviewer: Reviewer): Promise<FlagItem> {
    const item = await this.#store.flag(flagId);
    if (!item || (reviewer.role === 'hospital' && item.hospitalId !== reviewer.hospitalId))
      throw new FlagNotFoundError(`no flag ${flagId.slice(0, 100)}`);
    return item;
  }

  #state(item: FlagItem): ReviewState {
    return {
      flagId: item.flagId,
      hospitalId: item.hospitalId,
      status: item.status as FlagStatus,
      version: Number(item.reviewVersion ?? 0),
      enteredAt: String(item.enteredAt ?? item.createdAt),
      trail: (item.trail as TrailEntry[] | undefined) ?? [],
      ...(item.supersededBy === undefined ? {} : { supersededBy: Number(item.supersededBy) }),
    };
  }

  #dueAt(item: FlagItem): string | undefined {
    const status = item.status as FlagStatus;
    if (!isActive(status)) return undefined;
    return typeof item.dueAt === 'string'
      ? item.dueAt
      : dueAt(this.#policy, status, String(item.enteredAt ?? item.createdAt));
  }

  #overdue(item: FlagItem, now: Date): boolean {
    const status = item.status as FlagStatus;
    const due = this.#dueAt(item);
    return due !== undefined && status !== 'confirmed' && due < now.toISOString();
  }

  /** A stored flag as the API shows it. */
  view(item: FlagItem, now: Date): FlagView {
    const status = item.status as FlagStatus;
    const due = this.#dueAt(item);
    const pick = <T>(name: string): T | undefined => item[name] as T | undefined;
    const optional = (name: string) => (item[name] === undefined ? {} : { [name]: item[name] });
    return {
      flagId: item.flagId,
      ...optional('claimId'),
      ...optional('relatedClaimIds'),
      ...optional('supersededBy'),
      lineNos: pick<number[]>('lineNos') ?? [],
      ruleId: String(item.ruleId),
      ruleVersion: Number(item.ruleVersion),
      stage: item.stage as FlagView['stage'],
      severity: item.severity as FlagView['severity'],
      result: item.result as FlagView['result'],
      action: String(item.action),
      amountAtRisk: Number(item.amountAtRisk),
      hospitalId: item.hospitalId,
      ...optional('doctorId'),
      ...optional('insuredId'),
      message: String(item.message),
      basis: item.basis as FlagView['basis'],
      status,
      statusLabel: STATUS_LABELS[status] ?? status,
      createdAt: String(item.createdAt),
      version: Number(item.reviewVersion ?? 0),
      enteredAt: String(item.enteredAt ?? item.createdAt),
      ...(due ? { dueAt: due } : {}),
      overdue: this.#overdue(item, now),
    };
  }
}

/** Counts of nothing, to add flags to. */
const noCounts = (countedBy: z.infer<typeof Counts>['countedBy']): z.infer<typeof Counts> => ({
  total: 0,
  amountAtRisk: 0,
  overdue: 0,
  byStatus: {},
  byRuleClass: {},
  countedBy,
  exact: true,
  overdueExact: true,
});

const OPERATOR_WORDS: Record<string, string> = {
  equal: '等于',
  notEqual: '不等于',
  lessThan: '小于',
  lessThanInclusive: '不大于',
  greaterThan: '大于',
  greaterThanInclusive: '不小于',
  in: '属于',
  notIn: '不属于',
  contains: '包含',
  doesNotContain: '不包含',
};

/** A rule's conditions as lines an auditor reads: `subject.daysSupply 大于 params.maxDays`, nested by all/any/not. */
export function conditionsInWords(tree: ConditionTree, depth = 0): string[] {
  const indent = '  '.repeat(depth);
  const node = tree as Record<string, unknown>;
  if (Array.isArray(node.all))
    return [
      `${indent}全部满足 (all):`,
      ...node.all.flatMap((c) => conditionsInWords(c as ConditionTree, depth + 1)),
    ];
  if (Array.isArray(node.any))
    return [
      `${indent}任一满足 (any):`,
      ...node.any.flatMap((c) => conditionsInWords(c as ConditionTree, depth + 1)),
    ];
  if (node.not) return [`${indent}不满足 (not):`, ...conditionsInWords(node.not as ConditionTree, depth + 1)];
  const value = node.value as unknown;
  const operand =
    value && typeof value === 'object' && !Array.isArray(value) && 'fact' in value
      ? `${String((value as { fact: string }).fact)}${String((value as { path?: string }).path ?? '').replace(/^\$/, '')}`
      : JSON.stringify(value);
  const fact = `${String(node.fact)}${String(node.path ?? '').replace(/^\$/, '')}`;
  return [`${indent}${fact} ${OPERATOR_WORDS[String(node.operator)] ?? String(node.operator)} ${operand}`];
}
