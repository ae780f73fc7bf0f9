import { type Claim, serviceSpan } from '../../contracts/claim.ts';
import { epochDay } from '../../dates.ts';
import type { PatientSubjectKind } from './kind.ts';
import { byClaimId, densestWindow, numberParam, PERIOD_KIND, WindowFact, windowSubject } from './period.ts';

/** 频繁门诊: distinct outpatient and emergency visits in the densest `params.windowDays` window. */
export const visitWindow: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'visitWindow',
  level: 'patient',
  params: ['windowDays'],
  fact: WindowFact,
  build(claims, { params }) {
    const visits = new Map<string, { day: number; value: Claim }>();
    for (const claim of claims) {
      if (claim.visit.type !== 'outpatient' && claim.visit.type !== 'emergency') continue;
      const day = epochDay(serviceSpan(claim)[0]);
      const known = visits.get(claim.visit.visitId);
      // A visit billed in several claims counts once, on its first day, under its latest claim.
      if (!known || day < known.day) visits.set(claim.visit.visitId, { day, value: claim });
    }
    if (!visits.size) return [];
    const windowDays = numberParam(params, 'windowDays');
    const events = [...visits.values()].sort((a, b) => a.day - b.day || byClaimId(a.value, b.value));
    return [windowSubject(densestWindow(events, windowDays), windowDays)];
  },
};
