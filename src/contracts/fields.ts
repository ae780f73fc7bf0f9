import { z } from 'zod';

/** Days in a month of the proleptic Gregorian calendar (the one `Date` uses). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `YYYY-MM-DD` that is also a real calendar date (2026-02-30 is rejected). */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => {
    // Arithmetic, not a Date: a million-claim audit checks tens of millions of dates.
    const month = Number(s.slice(5, 7));
    const day = Number(s.slice(8, 10));
    return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(s.slice(0, 4)), month);
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
