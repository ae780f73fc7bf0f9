import { z } from 'zod';

/** `YYYY-MM-DD` that is also a real calendar date (2026-02-30 is rejected). */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'not a real calendar date');

/** ISO-8601 UTC timestamp, as DESIGN.md fixes times. */
export const isoTimestamp = z.iso.datetime({
  message: 'expected an ISO-8601 UTC timestamp like 2026-10-03T09:12:00Z',
});

/** Yuan with at most two decimals: 21.0 and 0.35 pass, 0.355 does not. */
export const yuan = z
  .number()
  .finite()
  .nonnegative()
  .refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-6, 'expected yuan with at most two decimals');
