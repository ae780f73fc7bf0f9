import { z } from 'zod';
import type { PeerSubjectKind } from './kind.ts';
import { PERIOD_KIND } from './period.ts';

/** One statistical indicator of a hospital or doctor against peers of the same level. */
export const peerIndicator: PeerSubjectKind = {
  ...PERIOD_KIND,
  name: 'peerIndicator',
  level: 'peer',
  params: [],
  fact: z.object({
    kind: z.string(),
    kindName: z.string(),
    id: z.string(),
    level: z.number(),
    indicator: z.string(),
    label: z.string(),
    value: z.number(),
    valueText: z.string(),
    peerMedian: z.number(),
    peerMedianText: z.string(),
    peerMad: z.number(),
    madsAboveMedian: z.number().nullable(),
    ratioToMedian: z.number().nullable(),
    /** Yuan above what the peer median would have cost (0 for the readmission rate). */
    excessAmount: z.number(),
    cases: z.number(),
    peers: z.number(),
  }),
};
