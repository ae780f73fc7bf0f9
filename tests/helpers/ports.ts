import { HospitalAlertMessage } from '../../src/contracts/alert.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { type HistoryWindow, toHistoryClaim } from '../../src/history/store.ts';
import type { AlertSender, ClaimOutcome, OutcomeRecorder, Recorded } from '../../src/pipeline/in-process.ts';
import { contentHash } from '../../src/stores/dynamo.ts';

/**
 * In-memory adapters of every port of the in-process stage, each able to fail on demand, so the
 * stage's failure branches are tested without DynamoDB or SQS.
 */

/** History that can be made to fail its batch read. */
export class MemoryHistory extends InMemoryHistoryStore {
  failure: Error | undefined;

  override async claimsForPatients(windows: readonly HistoryWindow[]) {
    if (this.failure) throw this.failure;
    return super.claimsForPatients(windows);
  }
}

/**
 * Records outcomes as the DynamoDB store does: a recorded claim joins `history`; a claim id
 * recorded before with the same content is a duplicate (nothing written). It can throw for the
 * whole batch or refuse some claims.
 */
export class MemoryRecorder implements OutcomeRecorder {
  readonly written: ClaimOutcome[] = [];
  /** Thrown by the next recordAll. */
  failure: Error | undefined;
  /** claimId → the reason it is reported unwritten. */
  readonly refuse = new Map<string, Error>();

  constructor(private readonly history: InMemoryHistoryStore) {}

  async recordAll(outcomes: readonly ClaimOutcome[]): Promise<Recorded> {
    if (this.failure) throw this.failure;
    const recorded: Recorded = { results: new Map(), failed: new Map() };
    for (const outcome of outcomes) {
      const { claimId } = outcome.claim;
      const refused = this.refuse.get(claimId);
      if (refused) {
        recorded.failed.set(claimId, refused);
        continue;
      }
      const hash = contentHash(outcome.claim);
      if (this.#hashes.get(claimId) === hash) {
        recorded.results.set(claimId, { result: 'duplicate', flags: outcome.flags });
        continue;
      }
      this.#hashes.set(claimId, hash);
      this.written.push(outcome);
      this.history.add(toHistoryClaim(outcome.claim));
      recorded.results.set(claimId, { result: 'written', flags: outcome.flags });
    }
    return recorded;
  }

  readonly #hashes = new Map<string, string>();
}

/** The alerts queue, idempotent by alertId as the real sender is; each message is checked against its contract. */
export class MemoryAlerts implements AlertSender {
  readonly sent = new Map<string, HospitalAlertMessage>();
  /** claimIds whose alert fails to send. */
  readonly refuse = new Set<string>();

  async send(alert: HospitalAlertMessage): Promise<void> {
    if (this.refuse.has(alert.claimId)) throw new Error(`alerts queue unavailable for ${alert.claimId}`);
    this.sent.set(alert.alertId, HospitalAlertMessage.parse(alert));
  }
}

/** A history, a recorder writing into it and an alerts queue, fresh for one test. */
export function memoryPorts() {
  const history = new MemoryHistory();
  return { history, outcomes: new MemoryRecorder(history), alerts: new MemoryAlerts() };
}
