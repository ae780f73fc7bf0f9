/** Days since 1970-01-01 for a `YYYY-MM-DD` date; whole days make date arithmetic exact. */
export function epochDay(date: string): number {
  return (
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / 86_400_000
  );
}

export function fromEpochDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromEpochDay(epochDay(date) + days);
}

/** Completed years of age on `date` (a birthday counts on the day itself). */
export function ageInYears(birthDate: string, date: string): number {
  let years = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  if (date.slice(5) < birthDate.slice(5)) years -= 1;
  return years;
}

/** `date` plus whole calendar months, clamped to the last day of a shorter month (01-31 + 1 → 02-28). */
export function addMonths(date: string, months: number): string {
  const total = Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1 + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(Number(date.slice(8, 10)), lastDay);
  return fromEpochDay(Date.UTC(year, month, day) / 86_400_000);
}

/** The calendar week (Monday to Sunday) of `date` as a number: two dates share a week when equal. */
export function calendarWeek(date: string): number {
  // 1970-01-01 was a Thursday, three days after the Monday that starts its week.
  return Math.floor((epochDay(date) + 3) / 7);
}
