import { z } from 'zod';
import { LINE_ACTIONS } from './decision.ts';
import { yuan } from './fields.ts';
import { Flag, SEVERITIES } from './flag.ts';

/**
 * The message the in-process stage puts on the hospital alerts queue for a flagged claim, one per
 * claim (`alertId` is the claim id, so a redelivered claim never alerts twice). The queue message
 * carries `hospitalId` and `severity` as attributes too, for subscription filters.
 */
export const HospitalAlertMessage = z.strictObject({
  alertId: z.string().min(1),
  claimId: z.string().min(1),
  hospitalId: z.string().min(1),
  doctorId: z.string().min(1),
  /** The claim's decision: `pass` when every flag only alerts or flags. */
  outcome: z.enum(LINE_ACTIONS),
  highestSeverity: z.enum(SEVERITIES),
  /** The sum over the flags, rounded to the fen. */
  amountAtRisk: yuan,
  flags: z
    .array(
      Flag.pick({
        flagId: true,
        ruleId: true,
        lineNos: true,
        severity: true,
        result: true,
        action: true,
        amountAtRisk: true,
        message: true,
        basis: true,
      }),
    )
    .min(1),
});

export type HospitalAlertMessage = z.infer<typeof HospitalAlertMessage>;
