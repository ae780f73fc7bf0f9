import { z } from 'zod';
import { LINE_ACTIONS } from './decision.ts';
import { yuan } from './fields.ts';
import { Flag, SEVERITIES } from './flag.ts';

/**
 * The message the in-process stage puts on the hospital alerts queue for a flagged claim, one per
 * claim version (`alertId` is the claim id, with `@v2`, `@v3`… for a correction, so a redelivered
 * claim never alerts twice). A correction is alerted even when neither version has flags: the
 * hospital learns its claim was decided again. The queue message carries `hospitalId` and
 * `severity` as attributes too, for subscription filters.
 */
export const HospitalAlertMessage = z
  .strictObject({
    alertId: z.string().min(1),
    claimId: z.string().min(1),
    hospitalId: z.string().min(1),
    doctorId: z.string().min(1),
    /** The claim's decision: `pass` when every flag only alerts or flags. */
    outcome: z.enum(LINE_ACTIONS),
    /** Null only for a correction that raised no flag. */
    highestSeverity: z.enum(SEVERITIES).nullable(),
    /** The sum over the flags, rounded to the fen. */
    amountAtRisk: yuan,
    flags: z.array(
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
    ),
    /** Present when the claim corrects an earlier version of the same claim id from this hospital. */
    correction: z
      .strictObject({
        version: z.number().int().min(2),
        previousOutcome: z.enum(LINE_ACTIONS),
        /** The earlier version's flags, kept and marked superseded by this version. */
        supersededFlagIds: z.array(z.string().min(1)),
      })
      .optional(),
  })
  .superRefine((alert, ctx) => {
    if (!alert.correction && alert.flags.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['flags'],
        message: 'an alert about a new claim has at least one flag',
      });
    if (alert.flags.length > 0 && alert.highestSeverity === null)
      ctx.addIssue({ code: 'custom', path: ['highestSeverity'], message: 'required when there are flags' });
  });

export type HospitalAlertMessage = z.infer<typeof HospitalAlertMessage>;
