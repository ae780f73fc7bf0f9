import { z } from 'zod';
import type { PeerSubjectKind } from './kind.ts';
import { PERIOD_KIND } from './period.ts';

/** A doctor's distinct outpatient patients on one day, from the period's merged aggregates. */
export const doctorDay: PeerSubjectKind = {
  ...PERIOD_KIND,
  name: 'doctorDay',
  level: 'peer',
  params: [],
  fact: z.object({
    doctorId: z.string(),
    hospitalId: z.string(),
    date: z.string(),
    patients: z.number(),
  }),
};
