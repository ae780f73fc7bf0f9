import type { HospitalAlertMessage } from '../contracts/alert.ts';
import { type Claim, serviceSpan } from '../contracts/claim.ts';
import type { Decision } from '../contracts/decision.ts';
import { type Flag, highestSeverity } from '../contracts/flag.ts';
import { addDays } from '../dates.ts';
import { type HistoryClaim, type HistoryStore, toHistoryClaim } from '../history/store.ts';
import { currentScreener, type ScreenerOrSource } from '../rules/active.ts';

/** What the hospital's systems receive for a flagged claim (the contract in src/contracts/alert.ts). */
export type HospitalAlert = HospitalAlertMessage;

/** What the in-process stage writes for one claim. */
export interface ClaimOutcome {
  claim: Claim;
  decision: Decision;
  flags: Flag[];
  decidedAt: string;
}

/** A claim written now, or found already decided (a redelivery or a resend). */
export type RecordResult = 'written' | 'duplicate';

export interface OutcomeRecorder {
  /**
   * Writes decisions, flags and history items; the history item last, as the commit marker.
   * Returns the claims (by id) that could not be written, with the reason.
   */
  recordAll(outcomes: readonly ClaimOutcome[]): Promise<Map<string, Error>>;
}

export interface AlertSender {
  /** Must be idempotent by `alertId`: a redelivered claim sends at most one alert. */
  send(alert: HospitalAlert): Promise<void>;
}

export interface InProcessDeps {
  /** A fixed screener, or the active published rule set (asked once per batch). */
  screener: ScreenerOrSource;
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

export interface BatchProcessed {
  processed: ClaimProcessed[];
  /** Claims to retry (their messages go back to the queue), with the reason. */
  failed: { claimId: string; error: Error }[];
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * In-process control of a batch of settled claims: read each patient's history once, screen the
 * claims in service-date order (a later claim of the same patient in the batch sees the earlier
 * one), write decisions, flags and history once, and alert the hospitals. Safe to run again for
 * the same claims: what was written is not written twice, and alerts are idempotent.
 */
export async function processClaims(claims: readonly Claim[], deps: InProcessDeps): Promise<BatchProcessed> {
  const now = deps.now?.() ?? new Date();
  // One rule set decides the whole batch, even if a new version is activated meanwhile.
  const screener = await currentScreener(deps.screener);
  const days = screener.ruleSet.historyDays('in');
  const failed: BatchProcessed['failed'] = [];
  const unique = [...new Map(claims.map((c) => [c.claimId, c])).values()];
  const spans = new Map(unique.map((c) => [c.claimId, serviceSpan(c)]));
  const spanOf = (claim: Claim): [string, string] => spans.get(claim.claimId) ?? serviceSpan(claim);
  const byPatient = new Map<string, Claim[]>();
  for (const claim of unique) {
    const list = byPatient.get(claim.patient.insuredId) ?? [];
    list.push(claim);
    byPatient.set(claim.patient.insuredId, list);
  }

  // One read for the whole batch, even when no active rule needs history: a claim found in its
  // patient's history was already decided.
  const windows = [...byPatient.entries()].map(([insuredId, patientClaims]) => {
    const claimSpans = patientClaims.map(spanOf);
    const from = addDays(claimSpans.map((s) => s[0]).sort()[0] ?? '', -days);
    const to =
      claimSpans
        .map((s) => s[1])
        .sort()
        .at(-1) ?? '';
    return { insuredId, from, to };
  });
  let histories: Map<string, HistoryClaim[]>;
  try {
    histories = await deps.history.claimsForPatients(windows);
  } catch (error) {
    return { processed: [], failed: unique.map((c) => ({ claimId: c.claimId, error: asError(error) })) };
  }

  const screened: (ClaimProcessed & { claim: Claim; decidedAt: string })[] = [];
  for (const [insuredId, patientClaims] of byPatient) {
    patientClaims.sort((a, b) => spanOf(a)[0].localeCompare(spanOf(b)[0]));
    const history = histories.get(insuredId) ?? [];
    const written = new Set(history.map((h) => h.claimId));
    for (const claim of patientClaims) {
      const [first, last] = spanOf(claim);
      const from = addDays(first, -days);
      const window = history.filter((h) => h.lastServiceDate >= from && h.firstServiceDate <= last);
      try {
        const { flags, decision } = await screener.screen(claim, { stage: 'in', now, history: window });
        const result: RecordResult = written.has(claim.claimId) ? 'duplicate' : 'written';
        screened.push({
          claimId: claim.claimId,
          claim,
          decision,
          flags,
          result,
          decidedAt: now.toISOString(),
        });
        // A later claim of the same patient in this batch sees this one, as it would across batches.
        if (result === 'written') history.push(toHistoryClaim(claim));
      } catch (error) {
        failed.push({ claimId: claim.claimId, error: asError(error) });
      }
    }
  }

  let unwritten: Map<string, Error>;
  try {
    unwritten = await deps.outcomes.recordAll(screened.filter((s) => s.result === 'written'));
  } catch (error) {
    for (const { claimId } of screened) failed.push({ claimId, error: asError(error) });
    return { processed: [], failed };
  }

  const processed: ClaimProcessed[] = [];
  await Promise.all(
    screened.map(async ({ claim, decision, flags, result }) => {
      const error = unwritten.get(claim.claimId);
      if (error) {
        failed.push({ claimId: claim.claimId, error });
        return;
      }
      try {
        // Also after a duplicate: the earlier attempt may have died before its alert went out.
        await alertHospital(claim, decision, flags, deps.alerts);
        processed.push({ claimId: claim.claimId, result, decision, flags });
      } catch (error) {
        failed.push({ claimId: claim.claimId, error: asError(error) });
      }
    }),
  );
  return { processed, failed };
}

async function alertHospital(
  claim: Claim,
  decision: Decision,
  allFlags: Flag[],
  alerts: AlertSender,
): Promise<void> {
  // Exempted hits are on record for auditors; the hospital is alerted only to what counts against it.
  const flags = allFlags.filter((f) => f.status !== 'exempted');
  const severity = highestSeverity(flags);
  if (!severity) return;
  await alerts.send({
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
