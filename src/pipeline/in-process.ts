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
  /**
   * The claim's own history item was found though the store may hold no decision for it: an
   * earlier attempt got that far and may have left flags this one does not raise.
   */
  earlierAttempt?: boolean;
}

/**
 * How the store took a claim: `written` new, `duplicate` (the same claim id, hospital and content
 * was already decided: nothing written), or `corrected` (the same claim id and hospital with other
 * content: decided again as a new version, the earlier one kept and marked superseded).
 */
export type RecordResult = 'written' | 'duplicate' | 'corrected';

/** What the store did with each claim of a batch, by claim id. */
export interface Recorded {
  results: Map<string, RecordedClaim>;
  /** Claims that could not be recorded, with the reason. */
  failed: Map<string, Error>;
}

export interface RecordedClaim {
  result: RecordResult;
  /** The flags as stored (a correction's flag ids carry its version). */
  flags: Flag[];
  /** For a correction: the version now stored and what it replaced. */
  correction?: { version: number; previousOutcome: Decision['outcome']; supersededFlagIds: string[] };
}

export interface OutcomeRecorder {
  /**
   * Records each claim's decision, flags and history item, enforcing claim identity (claim id
   * within its hospital): a duplicate writes nothing, a correction supersedes, another hospital's
   * claim of a taken id is refused (ClaimIdTakenError in `failed`).
   */
  recordAll(outcomes: readonly ClaimOutcome[]): Promise<Recorded>;
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
 * claims in the order they arrived (the claims queue is FIFO per patient, so that is the order they
 * were sent, as `fundguard screen` reads a file; a later claim of the same patient in the batch
 * sees the earlier one), write decisions, flags and history once, and alert the hospitals. Safe to
 * run again for the same claims: what was written is not written twice, and alerts are idempotent.
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

  const screened: (Omit<ClaimProcessed, 'result'> & { claim: Claim; decidedAt: string })[] = [];
  for (const [insuredId, patientClaims] of byPatient) {
    let history = histories.get(insuredId) ?? [];
    for (const claim of patientClaims) {
      const [first, last] = spanOf(claim);
      const from = addDays(first, -days);
      const earlierAttempt = history.some((h) => h.claimId === claim.claimId);
      // Never a claim's own earlier copy: a resend or a correction is not its own history.
      const window = history.filter(
        (h) => h.claimId !== claim.claimId && h.lastServiceDate >= from && h.firstServiceDate <= last,
      );
      try {
        const { flags, decision } = await screener.screen(claim, { stage: 'in', now, history: window });
        screened.push({
          claimId: claim.claimId,
          claim,
          decision,
          flags,
          decidedAt: now.toISOString(),
          ...(earlierAttempt ? { earlierAttempt } : {}),
        });
        // A later claim of the same patient in this batch sees this one, as it would across batches
        // (a correction replaces its earlier version there, as it does in the store).
        history = [...history.filter((h) => h.claimId !== claim.claimId), toHistoryClaim(claim)];
      } catch (error) {
        failed.push({ claimId: claim.claimId, error: asError(error) });
      }
    }
  }

  let recorded: Recorded;
  try {
    recorded = await deps.outcomes.recordAll(screened);
  } catch (error) {
    for (const { claimId } of screened) failed.push({ claimId, error: asError(error) });
    return { processed: [], failed };
  }

  const processed: ClaimProcessed[] = [];
  await Promise.all(
    screened.map(async ({ claim, decision }) => {
      const error = recorded.failed.get(claim.claimId);
      const taken = recorded.results.get(claim.claimId);
      if (error || !taken) {
        failed.push({
          claimId: claim.claimId,
          error: error ?? new Error('the store reported nothing for the claim'),
        });
        return;
      }
      try {
        // Also after a duplicate: the earlier attempt may have died before its alert went out.
        await alertHospital(claim, decision, taken, deps.alerts);
        processed.push({ claimId: claim.claimId, result: taken.result, decision, flags: taken.flags });
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
  { flags: allFlags, correction }: RecordedClaim,
  alerts: AlertSender,
): Promise<void> {
  // Exempted hits are on record for auditors; the hospital is alerted only to what counts against it.
  const flags = allFlags.filter((f) => f.status !== 'exempted');
  const severity = highestSeverity(flags);
  if (!severity && !correction) return;
  await alerts.send({
    alertId: correction ? `${claim.claimId}@v${correction.version}` : claim.claimId,
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
    ...(correction ? { correction } : {}),
  });
}
