import { z } from 'zod';

/** One part of a score: its value, the 0–100 it scored, its weight and how it was computed. */
export const ScoreComponentValue = z.strictObject({
  label: z.string(),
  /** null when the subject has nothing to measure (no stays, no chronic patients). */
  value: z.number().nullable(),
  peerMedian: z.number().nullable().optional(),
  /** 0–100, higher is better; null when the value is null (then the weight is left out). */
  score: z.number().min(0).max(100).nullable(),
  weight: z.number().min(0),
  how: z.string(),
});

/** A cost-quality score of one hospital or doctor for one period (DESIGN.md, Score). */
export const Score = z.strictObject({
  kind: z.enum(['hospital', 'doctor']),
  id: z.string().min(1),
  hospitalId: z.string().min(1),
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
  /** 0–100, higher is better: the weighted mean of the components that have a value. */
  composite: z.number().min(0).max(100),
  cases: z.number().int().nonnegative(),
  amount: z.number().nonnegative(),
  components: z.record(z.string(), ScoreComponentValue),
  peers: z.strictObject({
    level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    /** How many subjects of the same kind and level entered the peer medians. */
    count: z.number().int().nonnegative(),
    basis: z.string(),
  }),
  policyVersion: z.number().int().positive(),
  ruleSetVersion: z.string(),
});
export type Score = z.infer<typeof Score>;
export type ScoreComponentValue = z.infer<typeof ScoreComponentValue>;
