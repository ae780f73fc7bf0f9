import type { HistoryClaim, HistoryLog, HistoryWindow } from './store.ts';

/** In-memory history for the CLI (claims screened earlier in the same file count) and tests. */
export class InMemoryHistoryStore implements HistoryLog {
  readonly #byPatient = new Map<string, HistoryClaim[]>();

  add(claim: HistoryClaim): void {
    const list = this.#byPatient.get(claim.insuredId) ?? [];
    if (list.some((c) => c.claimId === claim.claimId)) return;
    list.push(claim);
    list.sort((a, b) =>
      a.firstServiceDate < b.firstServiceDate ? -1 : a.firstServiceDate > b.firstServiceDate ? 1 : 0,
    );
    this.#byPatient.set(claim.insuredId, list);
  }

  async claimsFor(insuredId: string, from: string, to: string): Promise<HistoryClaim[]> {
    return (this.#byPatient.get(insuredId) ?? []).filter(
      (c) => c.lastServiceDate >= from && c.firstServiceDate <= to,
    );
  }

  async claimsForPatients(windows: readonly HistoryWindow[]): Promise<Map<string, HistoryClaim[]>> {
    const out = new Map<string, HistoryClaim[]>();
    for (const w of windows) out.set(w.insuredId, await this.claimsFor(w.insuredId, w.from, w.to));
    return out;
  }
}
