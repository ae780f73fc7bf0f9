import { type Claim, type DraftClaim, serviceSpan } from '../contracts/claim.ts';
import type { HistoryClaim } from '../contracts/history.ts';
import { addDays } from '../dates.ts';

export type { HistoryClaim, HistoryItem } from '../contracts/history.ts';

/** A patient's history window, for reading several patients at once. */
export interface HistoryWindow {
  insuredId: string;
  from: string;
  to: string;
}

/**
 * Port: a patient's earlier claims. DynamoDB in the pipeline (src/stores/dynamo.ts), memory in the
 * CLI and unit tests (src/history/memory.ts).
 */
export interface HistoryStore {
  /** Claims of `insuredId` with a service date in [from, to], oldest first. */
  claimsFor(insuredId: string, from: string, to: string): Promise<HistoryClaim[]>;
  /** The same for several patients in one read (an in-process batch); keyed by insuredId. */
  claimsForPatients(windows: readonly HistoryWindow[]): Promise<Map<string, HistoryClaim[]>>;
}

/** A history that claims are added to as they settle, one after another (sequential screening). */
export interface HistoryLog extends HistoryStore {
  add(claim: HistoryClaim): void;
}

/**
 * A claim's (or a draft's) patient history over the `days` before its first service date up to its
 * last one; none when no rule of the stage needs history (`days` 0).
 */
export async function historyFor(
  claim: Pick<DraftClaim, 'items' | 'patient'>,
  days: number,
  store: Pick<HistoryStore, 'claimsFor'>,
): Promise<HistoryClaim[]> {
  if (!days) return [];
  const [first, last] = serviceSpan(claim);
  return store.claimsFor(claim.patient.insuredId, addDays(first, -days), last);
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
