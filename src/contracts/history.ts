import { z } from 'zod';
import { ITEM_CATEGORIES, VISIT_TYPES } from './claim.ts';

/**
 * Every history item is read back for every batch, so this contract checks shape, not arithmetic:
 * the claim it came from passed Claim v1 (calendar dates, yuan to the fen) before it was stored.
 */
const storedDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const storedAmount = z.number().nonnegative();

/** One line of a settled claim, as later claims' history rules read it. */
export const HistoryItem = z.strictObject({
  lineNo: z.number().int().positive(),
  code: z.string().min(1),
  name: z.string().min(1),
  category: z.enum(ITEM_CATEGORIES),
  quantity: z.number().finite().positive(),
  amount: storedAmount,
  serviceDate: storedDate,
  daysSupply: z.number().int().positive().optional(),
});

/**
 * The part of a settled claim that later claims' history rules read: what the in-process stage
 * stores (as JSON, in the claims table's `history` attribute) and reads back for every batch.
 */
export const HistoryClaim = z.strictObject({
  claimId: z.string().min(1),
  insuredId: z.string().min(1),
  hospitalId: z.string().min(1),
  visitType: z.enum(VISIT_TYPES),
  firstServiceDate: storedDate,
  lastServiceDate: storedDate,
  items: z.array(HistoryItem).min(1),
});

export type HistoryItem = z.infer<typeof HistoryItem>;
export type HistoryClaim = z.infer<typeof HistoryClaim>;
