import { type Claim, type ItemCategory, serviceSpan, type VisitType } from '../contracts/claim.ts';

/** The part of a settled claim that later claims' history rules read. */
export interface HistoryClaim {
  claimId: string;
  insuredId: string;
  hospitalId: string;
  visitType: VisitType;
  firstServiceDate: string;
  lastServiceDate: string;
  items: HistoryItem[];
}

export interface HistoryItem {
  lineNo: number;
  code: string;
  name: string;
  category: ItemCategory;
  quantity: number;
  amount: number;
  serviceDate: string;
  daysSupply?: number;
}

/** A patient's history window, for reading several patients at once. */
export interface HistoryWindow {
  insuredId: string;
  from: string;
  to: string;
}

/** Port: a patient's earlier claims. DynamoDB in the pipeline, memory in the CLI and unit tests. */
export interface HistoryStore {
  /** Claims of `insuredId` with a service date in [from, to], oldest first. */
  claimsFor(insuredId: string, from: string, to: string): Promise<HistoryClaim[]>;
  /** The same for several patients in one read (an in-process batch); keyed by insuredId. */
  claimsForPatients(windows: readonly HistoryWindow[]): Promise<Map<string, HistoryClaim[]>>;
}

/** Compact a settled claim for history. */
export function toHistoryClaim(
  claim: Pick<Claim, 'claimId' | 'patient' | 'hospital' | 'visit' | 'items'>,
): HistoryClaim {
  const [first, last] = serviceSpan(claim);
  return {
    claimId: claim.claimId,
    insuredId: claim.patient.insuredId,
    hospitalId: claim.hospital.hospitalId,
    visitType: claim.visit.type,
    firstServiceDate: first,
    lastServiceDate: last,
    items: claim.items.map((i) => ({
      lineNo: i.lineNo,
      code: i.code,
      name: i.name,
      category: i.category,
      quantity: i.quantity,
      amount: i.amount,
      serviceDate: i.serviceDate,
      ...(i.daysSupply === undefined ? {} : { daysSupply: i.daysSupply }),
    })),
  };
}

/** In-memory history for the CLI (claims screened earlier in the same file count) and tests. */
export class InMemoryHistoryStore implements HistoryStore {
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
