import type { Claim, DraftClaim } from '../contracts/claim.ts';
import type { Stage } from '../contracts/flag.ts';
import { type HistoryLog, historyFor, toHistoryClaim } from '../history/store.ts';
import type { Screener, Screening } from '../rules/screen.ts';

/**
 * Screens claims one after another, each seeing the settled claims before it as the patient's
 * history, as the in-process stage does with DynamoDB. For the CLI, tests and benchmarks, which
 * pass an in-memory log; the stage itself imports no adapter.
 */
export class SequentialScreening {
  readonly #store: HistoryLog;

  constructor(
    readonly screener: Screener,
    readonly stage: Stage,
    store: HistoryLog,
    readonly now?: Date,
  ) {
    this.#store = store;
  }

  async screen(claim: DraftClaim): Promise<Screening> {
    const history = await historyFor(claim, this.screener.ruleSet.historyDays(this.stage), this.#store);
    const screening = await this.screener.screen(claim, {
      stage: this.stage,
      history,
      ...(this.now ? { now: this.now } : {}),
    });
    // Drafts are never settled, so only settled claims (in-process, post-event) join the history.
    if (this.stage !== 'pre' && claim.claimId) this.#store.add(toHistoryClaim(claim as Claim));
    return screening;
  }
}
