import type { PatientSubjectKind } from './kind.ts';
import {
  densestWindow,
  numberParam,
  PERIOD_KIND,
  primaryOf,
  staysOf,
  WindowFact,
  windowSubject,
} from './period.ts';
import { plannedCycleFor } from './planned-cycles.ts';

/** 频繁住院: the patient's admissions outside planned cycles in the densest `params.windowDays` window. */
export const admissionWindow: PatientSubjectKind = {
  ...PERIOD_KIND,
  name: 'admissionWindow',
  level: 'patient',
  params: ['windowDays'],
  fact: WindowFact,
  build(claims, { params, plannedCycles }) {
    // A chemotherapy patient's cycles are planned admissions: they are not what 频繁住院 is about.
    const stays = staysOf(claims).filter((s) => !plannedCycleFor(plannedCycles, primaryOf(s.claim)));
    if (!stays.length) return [];
    const windowDays = numberParam(params, 'windowDays');
    const w = densestWindow(
      stays.map((s) => ({ day: s.admitted, value: s.claim })),
      windowDays,
    );
    return [windowSubject(w, windowDays)];
  },
};
