import { z } from 'zod';
import { calendarWeek, epochDay } from '../../dates.ts';
import { claimKind, ItemFact, itemFact, lineOf, pastLines, type Subject, single } from './kind.ts';

/**
 * Days since the previous charge of a cycle-limited service (周期超频次), and the charges of its
 * Monday-to-Sunday week so far (每周最多支付一次), looking at earlier claims and earlier days of
 * this one. Only charges with a previous one are subjects.
 */
export const historyCycle = claimKind({
  name: 'historyCycle',
  scope: 'history',
  ruleClass: 'required',
  fact: ItemFact.extend({
    previousDate: z.string(),
    previousClaimId: z.string(),
    daysSincePrevious: z.number(),
    /** This charge included: 2 means a second charge in the same calendar week. */
    chargesInCalendarWeek: z.number(),
  }),
  build({ claim, history, catalogue, ruleClass }) {
    const lastByKp = new Map<string, { date: string; claimId: string }>();
    /** `kpId|calendar week` → charges so far. */
    const perWeek = new Map<string, number>();
    const weekOf = (kpId: string, date: string): string => `${kpId}|${calendarWeek(date)}`;
    const seen = (kpId: string, date: string, claimId: string): void => {
      const prev = lastByKp.get(kpId);
      if (!prev || date > prev.date) lastByKp.set(kpId, { date, claimId });
      const week = weekOf(kpId, date);
      perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
    };
    for (const { claimId, item } of pastLines(history, claim.claimId)) {
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (kp) seen(kp.kpId, item.serviceDate, claimId);
    }
    const subjects: Subject[] = [];
    const ordered = [...claim.items].sort((a, b) =>
      a.serviceDate < b.serviceDate ? -1 : a.serviceDate > b.serviceDate ? 1 : 0,
    );
    for (const item of ordered) {
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (kp?.restriction?.kind !== 'cycle') continue;
      const prev = lastByKp.get(kp.kpId);
      if (prev && prev.date <= item.serviceDate) {
        subjects.push({
          kind: 'historyCycle',
          fact: {
            ...itemFact(item),
            previousDate: prev.date,
            previousClaimId: prev.claimId,
            daysSincePrevious: epochDay(item.serviceDate) - epochDay(prev.date),
            chargesInCalendarWeek: (perWeek.get(weekOf(kp.kpId, item.serviceDate)) ?? 0) + 1,
          },
          date: item.serviceDate,
          lines: [lineOf(item)],
          category: item.category,
          points: single(kp),
        });
      }
      seen(kp.kpId, item.serviceDate, claim.claimId ?? 'draft');
    }
    return subjects;
  },
});
