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
