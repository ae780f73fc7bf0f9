import { z } from 'zod';
import { ITEM_CATEGORIES, VISIT_TYPES } from './claim.ts';
import { isoDate, yuan } from './fields.ts';

/** One line of a settled claim, as later claims' history rules read it. */
export const HistoryItem = z.strictObject({
  lineNo: z.number().int().positive(),
  code: z.string().min(1),
  name: z.string().min(1),
  category: z.enum(ITEM_CATEGORIES),
  quantity: z.number().finite().positive(),
  amount: yuan,
  serviceDate: isoDate,
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
  firstServiceDate: isoDate,
  lastServiceDate: isoDate,
  items: z.array(HistoryItem).min(1),
});

export type HistoryItem = z.infer<typeof HistoryItem>;
export type HistoryClaim = z.infer<typeof HistoryClaim>;
