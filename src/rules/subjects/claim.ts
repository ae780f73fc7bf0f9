import { z } from 'zod';
import { serviceSpan } from '../../contracts/claim.ts';
import { epochDay } from '../../dates.ts';
import { claimKind, round2 } from './kind.ts';

/**
 * The claim as a whole (结算明细信息异常, 就诊数据非实时上传监管): its lines against its totals, and the
 * day it was settled against the day care ended (discharge for a stay, else the last service date).
 * Drafts carry neither totals nor a settlement time; those facts are then null. It covers no line:
 * what a totals rule puts at risk is `totalsExcess`, which the rule names in `atRisk.amount`.
 */
export const claim = claimKind({
  name: 'claim',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({
    lineCount: z.number(),
    lineSum: z.number(),
    totalsAmount: z.number().nullable(),
    /** |totals − sum of the lines|. */
    totalsGap: z.number().nullable(),
    /** What the totals claim beyond the lines (0 when they claim less). */
    totalsExcess: z.number().nullable(),
    /** |fund paid + self paid − totals|. */
    paidGap: z.number().nullable(),
    lastServiceDate: z.string(),
    careEnd: z.string(),
    submittedDate: z.string().nullable(),
    daysAfterCareEnd: z.number().nullable(),
    daysBeforeLastService: z.number().nullable(),
  }),
  build({ claim }) {
    const [first, last] = serviceSpan(claim);
    const lineSum = round2(claim.items.reduce((s, i) => s + i.amount, 0));
    const discharged = claim.visit.dischargedAt;
    const careEnd = discharged && discharged > last ? discharged : last;
    const submitted = claim.submittedAt?.slice(0, 10);
    const totals = claim.totals;
    return [
      {
        kind: 'claim',
        fact: {
          lineCount: claim.items.length,
          lineSum,
          totalsAmount: totals?.amount ?? null,
          totalsGap: totals ? round2(Math.abs(totals.amount - lineSum)) : null,
          totalsExcess: totals ? round2(Math.max(0, totals.amount - lineSum)) : null,
          paidGap: totals ? round2(Math.abs(totals.fundPaid + totals.selfPaid - totals.amount)) : null,
          lastServiceDate: last,
          careEnd,
          submittedDate: submitted ?? null,
          daysAfterCareEnd: submitted ? epochDay(submitted) - epochDay(careEnd) : null,
          daysBeforeLastService: submitted ? epochDay(last) - epochDay(submitted) : null,
        },
        date: first,
        lines: [],
      },
    ];
  },
});
