import { DraftClaim } from '../contracts/claim.ts';
import { type Action, actionRank, type Basis, type Flag, severityRank } from '../contracts/flag.ts';
import { type HistoryStore, historyFor } from '../history/store.ts';
import { currentScreener, type ScreenerOrSource, type StageScreener } from '../rules/active.ts';
import { actionFor, ScreenBudgetError } from '../rules/screen.ts';
import { fieldErrors, PROBLEM_TYPES, ProblemError, problem } from './problem.ts';

/** `ok`: nothing to say; `warn`: alerts the in-process stage would hold; `would-reject`: it would reject a line. */
export type Verdict = 'ok' | 'warn' | 'would-reject';

/** One alert of a prescreen answer: what is wrong, where, why, and what to do instead. */
export interface PrescreenAlert {
  /** Stable for the same draft, rule and lines, so a hospital system can de-duplicate. */
  alertId: string;
  ruleId: string;
  ruleClass: string;
  severity: Flag['severity'];
  result: Flag['result'];
  /** What the in-process stage would do with these lines once the claim is settled. */
  inProcessAction: Action | null;
  message: string;
  lineNos: number[];
  amountAtRisk: number;
  basis: Basis;
  /** A concrete alternative (largest payable quantity, days left, earliest date), where the facts give one. */
  suggestion: string | null;
}

/** Alerts of one rule past MAX_ALERTS_PER_RULE: counted, not listed. */
export interface OmittedAlerts {
  ruleId: string;
  ruleClass: string;
  /** How many alerts of the rule the answer leaves out. */
  count: number;
  /** The lines they name, in order, so the doctor still sees every line concerned. */
  lineNos: number[];
}

export interface PrescreenAnswer {
  verdict: Verdict;
  claimId: string | null;
  visitId: string;
  ruleSetVersion: string;
  /** At most MAX_ALERTS_PER_RULE per rule, the most pressing first. */
  alerts: PrescreenAlert[];
  /** Per rule, the alerts past the cap; empty when every alert is listed. */
  omittedAlerts: OmittedAlerts[];
}

/**
 * A rule lists at most this many alerts in one answer (the rest are counted with their lines), so
 * the answer stays far below API Gateway's and Lambda's 6 MB for any draft the API accepts: a
 * 2,000-line draft can raise an alert per line and rule, each up to a few KB with its basis text.
 */
export const MAX_ALERTS_PER_RULE = 20;

export interface PrescreenDeps {
  /** A fixed screener, or the active published rule set (asked per request; a cached check). */
  screener: ScreenerOrSource;
  history: Pick<HistoryStore, 'claimsFor'>;
  now?: () => Date;
  /** The screen's time budget; default the screener's SCREEN_BUDGET_MS. */
  screenBudgetMs?: number;
}

/** History is keyed by the insured id: DynamoDB caps a key at 2048 bytes, we keep far below it. */
const MAX_INSURED_ID_LENGTH = 64;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Claim v1 as a draft, plus what the history lookup needs of it: an insured id short enough and
 * well-formed enough to be a DynamoDB key, so no input can turn into a database error.
 */
export const PrescreenDraft = DraftClaim.superRefine((draft, ctx) => {
  const id = draft.patient.insuredId;
  if (id.length > MAX_INSURED_ID_LENGTH || LONE_SURROGATE.test(id)) {
    ctx.addIssue({
      code: 'custom',
      path: ['patient', 'insuredId'],
      message: `expected at most ${MAX_INSURED_ID_LENGTH} characters of well-formed Unicode`,
    });
  }
});

/** The draft claim of a prescreen request, or a 400 problem listing each invalid path. */
export function parseDraft(body: unknown): DraftClaim {
  const result = PrescreenDraft.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  const errors = fieldErrors(result.error.issues, body);
  throw new ProblemError(
    problem(
      PROBLEM_TYPES.invalidClaim,
      400,
      'Invalid draft claim',
      `the body is not a valid draft claim (Claim v1; claimId, submittedAt and totals may be absent): ${errors.length} invalid ${errors.length === 1 ? 'path' : 'paths'}`,
      errors,
    ),
  );
}

/**
 * Screen a draft as the pre-event stage: the patient's history from the store, every pre-event rule,
 * and for each alert what the in-process stage would do, which sets the verdict.
 */
export async function prescreen(draft: DraftClaim, deps: PrescreenDeps): Promise<PrescreenAnswer> {
  const screener = await currentScreener(deps.screener);
  const history = await historyFor(draft, screener.ruleSet.historyDays('pre'), deps.history);
  const now = deps.now?.() ?? new Date();
  const { flags, suggestions } = await screenWithinBudget(draft, screener, deps.screenBudgetMs, now, history);
  // An exempted hit is approved practice: nothing to warn the doctor about.
  const all = flags
    .filter((flag) => flag.status !== 'exempted')
    .map((flag) => ({
      alertId: flag.flagId,
      ruleId: flag.ruleId,
      ruleClass: flag.basis.ruleClass,
      severity: flag.severity,
      result: flag.result,
      inProcessAction: inProcessAction(screener.ruleSet.rule(flag.ruleId)?.file.action.in, flag.result),
      message: flag.message,
      lineNos: flag.lineNos,
      amountAtRisk: flag.amountAtRisk,
      basis: flag.basis,
      suggestion: suggestions[flag.flagId] ?? null,
    }));
  // What would stop the claim first, then the most severe, then in line order: the order a doctor fixes them.
  all.sort(
    (a, b) =>
      actionRankOf(b.inProcessAction) - actionRankOf(a.inProcessAction) ||
      severityRank(b.severity) - severityRank(a.severity) ||
      (a.lineNos[0] ?? 0) - (b.lineNos[0] ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );
  const { alerts, omittedAlerts } = capPerRule(all);
  return {
    // Over every alert, listed or not: a rejecting line past the cap still makes the draft would-reject.
    verdict: verdictOf(all),
    claimId: draft.claimId ?? null,
    visitId: draft.visit.visitId,
    ruleSetVersion: screener.ruleSet.version,
    alerts,
    omittedAlerts,
  };
}

async function screenWithinBudget(
  draft: DraftClaim,
  screener: StageScreener,
  budgetMs: number | undefined,
  now: Date,
  history: Awaited<ReturnType<typeof historyFor>>,
) {
  try {
    return await screener.screen(draft, {
      stage: 'pre',
      now,
      history,
      ...(budgetMs === undefined ? {} : { budgetMs }),
    });
  } catch (error) {
    if (!(error instanceof ScreenBudgetError)) throw error;
    // The same draft would take as long again: a 422 to change it, not a 5xx to retry.
    throw new ProblemError(
      problem(PROBLEM_TYPES.screenBudget, 422, 'Draft too costly to screen', error.message),
      {},
      { cause: error },
    );
  }
}

/** The first MAX_ALERTS_PER_RULE alerts of each rule, in the sorted order; the rest counted per rule. */
function capPerRule(sorted: PrescreenAlert[]): Pick<PrescreenAnswer, 'alerts' | 'omittedAlerts'> {
  const listed = new Map<string, number>();
  const omitted = new Map<string, OmittedAlerts>();
  const alerts: PrescreenAlert[] = [];
  for (const alert of sorted) {
    const n = listed.get(alert.ruleId) ?? 0;
    if (n < MAX_ALERTS_PER_RULE) {
      listed.set(alert.ruleId, n + 1);
      alerts.push(alert);
      continue;
    }
    const rest = omitted.get(alert.ruleId) ?? {
      ruleId: alert.ruleId,
      ruleClass: alert.ruleClass,
      count: 0,
      lineNos: [],
    };
    rest.count++;
    rest.lineNos.push(...alert.lineNos);
    omitted.set(alert.ruleId, rest);
  }
  for (const rest of omitted.values()) rest.lineNos = [...new Set(rest.lineNos)].sort((a, b) => a - b);
  return { alerts, omittedAlerts: [...omitted.values()] };
}

/** `would-reject` if the in-process stage would reject any alerted line, `warn` for any alert, else `ok`. */
export function verdictOf(alerts: readonly Pick<PrescreenAlert, 'inProcessAction'>[]): Verdict {
  if (alerts.some((a) => a.inProcessAction === 'reject')) return 'would-reject';
  return alerts.length ? 'warn' : 'ok';
}

/** A rule that does not run in-process stops nothing, so it sorts below every action. */
const actionRankOf = (action: Action | null): number => (action === null ? -1 : actionRank(action));

/** What the in-process stage would do with the same flag: a suspicious grade holds instead of rejecting. */
function inProcessAction(ruleAction: Action | undefined, result: Flag['result']): Action | null {
  return ruleAction ? actionFor(ruleAction, result) : null;
}
