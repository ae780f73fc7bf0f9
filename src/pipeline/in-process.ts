import type { Claim } from '../contracts/claim.ts';
import type { Flag, Stage } from '../contracts/flag.ts';
import { addDays } from '../dates.ts';
import type { HistoryClaim, HistoryStore } from '../history/store.ts';
import type { Decision, Screener } from '../rules/screen.ts';
import { highestSeverity, type RecordResult } from '../stores/dynamo.ts';

/** What the hospital's systems receive for a flagged claim. */
export interface HospitalAlert {
  alertId: string;
  claimId: string;
  hospitalId: string;
  doctorId: string;
  outcome: Decision['outcome'];
  highestSeverity: Flag['severity'];
  amountAtRisk: number;
  flags: Pick<
    Flag,
    'flagId' | 'ruleId' | 'lineNos' | 'severity' | 'result' | 'action' | 'amountAtRisk' | 'message' | 'basis'
  >[];
}

export interface OutcomeRecorder {
  record(outcome: {
    claim: Claim;
    decision: Decision;
    flags: Flag[];
    decidedAt: string;
  }): Promise<RecordResult>;
}

export interface AlertSender {
  /** Must be idempotent by `alertId`: a redelivered claim sends at most one alert. */
  send(alert: HospitalAlert): Promise<void>;
}

export interface InProcessDeps {
  screener: Screener;
  history: HistoryStore;
  outcomes: OutcomeRecorder;
  alerts: AlertSender;
  now?: () => Date;
}

export interface ClaimProcessed {
  claimId: string;
  result: RecordResult;
  decision: Decision;
  flags: Flag[];
}

/** The patient's history over the window the stage's rules need, or none. */
export async function historyFor(
  claim: Pick<Claim, 'items' | 'patient'>,
  screener: Screener,
  store: HistoryStore,
  stage: Stage = 'in',
): Promise<HistoryClaim[]> {
  const days = screener.ruleSet.historyDays(stage);
  if (!days) return [];
  let first = claim.items[0]?.serviceDate ?? '';
  let last = first;
  for (const item of claim.items) {
    if (item.serviceDate < first) first = item.serviceDate;
    if (item.serviceDate > last) last = item.serviceDate;
  }
  return store.claimsFor(claim.patient.insuredId, addDays(first, -days), last);
}

/**
 * In-process control of one settled claim: read the patient's history, screen, write the decision,
 * flags and history once, and alert the hospital. Safe to run again for the same claim.
 */
export async function processClaim(claim: Claim, deps: InProcessDeps): Promise<ClaimProcessed> {
  const now = deps.now?.() ?? new Date();
  const history = await historyFor(claim, deps.screener, deps.history);
  const { flags, decision } = await deps.screener.screen(claim, { stage: 'in', now, history });
  const result = await deps.outcomes.record({ claim, decision, flags, decidedAt: now.toISOString() });
  const severity = highestSeverity(flags);
  // Also after a duplicate write: the earlier attempt may have died before its alert went out.
  if (severity) {
    await deps.alerts.send({
      alertId: claim.claimId,
      claimId: claim.claimId,
      hospitalId: claim.hospital.hospitalId,
      doctorId: claim.doctorId,
      outcome: decision.outcome,
      highestSeverity: severity,
      amountAtRisk: Math.round(flags.reduce((s, f) => s + f.amountAtRisk, 0) * 100) / 100,
      flags: flags.map(
        ({ flagId, ruleId, lineNos, severity, result, action, amountAtRisk, message, basis }) => ({
          flagId,
          ruleId,
          lineNos,
          severity,
          result,
          action,
          amountAtRisk,
          message,
          basis,
        }),
      ),
    });
  }
  return { claimId: claim.claimId, result, decision, flags };
}
