/**
 * The pre-event API's answers as zod schemas, for the OpenAPI document (src/openapi.ts). The type
 * checks at the bottom tie them to the interfaces the handler returns, so neither can drift alone.
 */
import { z } from 'zod';
import { Basis, FLAG_STATUSES, RESULTS, SEVERITIES } from '../contracts/flag.ts';
import type { AlertsAnswer as AlertsAnswerType } from './alerts.ts';
import { MAX_ALERTS_PER_RULE, type PrescreenAnswer as PrescreenAnswerType } from './prescreen.ts';

export const PrescreenAlertSchema = z.strictObject({
  alertId: z.string(),
  ruleId: z.string(),
  ruleClass: z.string(),
  severity: z.enum(SEVERITIES),
  result: z.enum(RESULTS),
  inProcessAction: z.enum(['reject', 'hold', 'flag', 'alert']).nullable(),
  message: z.string(),
  lineNos: z.array(z.number().int()),
  amountAtRisk: z.number(),
  basis: Basis,
  suggestion: z.string().nullable(),
});

export const OmittedAlertsSchema = z.strictObject({
  ruleId: z.string(),
  ruleClass: z.string(),
  count: z.number().int().positive(),
  lineNos: z.array(z.number().int()),
});

export const PrescreenAnswerSchema = z.strictObject({
  verdict: z.enum(['ok', 'warn', 'would-reject']),
  claimId: z.string().nullable(),
  visitId: z.string(),
  ruleSetVersion: z.string(),
  alerts: z
    .array(PrescreenAlertSchema)
    .meta({ description: `At most ${MAX_ALERTS_PER_RULE} per rule, the most pressing first` }),
  omittedAlerts: z
    .array(OmittedAlertsSchema)
    .meta({ description: 'Per rule, the alerts past the cap: how many and the lines they name' }),
});

export const HospitalAlertSchema = z.strictObject({
  alertId: z.string(),
  claimId: z.string(),
  createdAt: z.string(),
  status: z.enum(FLAG_STATUSES),
  ruleId: z.string(),
  ruleClass: z.string(),
  severity: z.enum(SEVERITIES),
  result: z.enum(RESULTS),
  action: z.enum(['alert', 'hold', 'reject', 'flag']),
  message: z.string(),
  lineNos: z.array(z.number().int()),
  amountAtRisk: z.number(),
  basis: Basis,
  doctorId: z.string(),
  insuredId: z.string(),
});

export const AlertsAnswerSchema = z.strictObject({
  hospitalId: z.string(),
  alerts: z.array(HospitalAlertSchema),
  nextCursor: z.string().nullable(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(_: T): void => {};
sameShape<Same<z.infer<typeof PrescreenAnswerSchema>, PrescreenAnswerType>>(true);
sameShape<Same<z.infer<typeof AlertsAnswerSchema>, AlertsAnswerType>>(true);
