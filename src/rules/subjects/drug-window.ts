import { z } from 'zod';
import { genericOf } from '../../catalogue/codes.ts';
import type { Claim } from '../../contracts/claim.ts';
import { epochDay } from '../../dates.ts';
import { type PatientSubject, type PatientSubjectKind, round2 } from './kind.ts';
import { byClaimId, densestWindow, numberParam, PERIOD_KIND, WindowFact, windowSubject } from './period.ts';

/** 频繁购药: per generic drug, the distinct days it was bought in the densest window, at any hospital. */
export const drugWindow: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'drugWindow',
  level: 'patient',
  params: ['windowDays'],
  fact: WindowFact.extend({ generic: z.string(), name: z.string(), hospitals: z.number() }),
  build(claims, { params }) {
    const windowDays = numberParam(params, 'windowDays');
    const byGeneric = new Map<string, Map<number, Claim>>();
    const names = new Map<string, string>();
    for (const claim of claims) {
      for (const item of claim.items) {
        if (item.category !== 'drug') continue;
        const generic = genericOf(item.code);
        const days = byGeneric.get(generic) ?? new Map<number, Claim>();
        const day = epochDay(item.serviceDate);
        const known = days.get(day);
        if (!known || byClaimId(known, claim) < 0) days.set(day, claim);
        byGeneric.set(generic, days);
        names.set(generic, item.name);
      }
    }
    const subjects: PatientSubject[] = [];
    for (const [generic, days] of byGeneric) {
      const events = [...days].map(([day, value]) => ({ day, value })).sort((a, b) => a.day - b.day);
      const w = densestWindow(events, windowDays);
      const latest = w.values[w.values.length - 1] as Claim;
      const lines = latest.items.filter((i) => i.category === 'drug' && genericOf(i.code) === generic);
      subjects.push({
        ...windowSubject(w, windowDays, {
          generic,
          name: names.get(generic) ?? generic,
          hospitals: new Set(w.values.map((c) => c.hospital.hospitalId)).size,
        }),
        lineNos: lines.map((i) => i.lineNo),
        amountAtRisk: round2(lines.reduce((s, i) => s + i.amount, 0)),
      });
    }
    return subjects;
  },
};
