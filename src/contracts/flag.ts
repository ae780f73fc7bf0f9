import { z } from 'zod';
import { isoTimestamp, yuan } from './fields.ts';

export const STAGES = ['pre', 'in', 'post'] as const;
export const SEVERITIES = ['low', 'medium', 'high'] as const;
export const RESULTS = ['violation', 'suspicious'] as const;
export const ACTIONS = ['alert', 'hold', 'reject', 'flag'] as const;
export const FLAG_STATUSES = [
  'open',
  'confirmed',
  'dismissed',
  'escalated',
  'appealed',
  'upheld',
  'overturned',
  // A hit an approved exemption covers: kept, so an auditor and a backtest see it, never acted on.
  'exempted',
] as const;

/** Where a flag comes from in the national framework, so an auditor can cite it. */
export const Basis = z.strictObject({
  /** NHSA rule class exactly as the knowledge points spell it, or a class of our own. */
  ruleClass: z.string().min(1),
  /** 1.0 framework `GZ…`/`ZB…` code, else `NHSA2025-<seq>`, else our own `FG-…`. */
  code: z.string().min(1),
  knowledgePoint: z.string().optional(),
  /** The original constraint text of the knowledge point (or the rule's own statement). */
  text: z.string().optional(),
});

export const Flag = z.strictObject({
  flagId: z.string().min(1),
  claimId: z.string().min(1),
  lineNos: z.array(z.number().int().positive()),
  ruleId: z.string().min(1),
  ruleVersion: z.number().int().positive(),
  stage: z.enum(STAGES),
  severity: z.enum(SEVERITIES),
  result: z.enum(RESULTS),
  action: z.enum(ACTIONS),
  amountAtRisk: yuan,
  hospitalId: z.string().min(1),
  doctorId: z.string().min(1),
  insuredId: z.string().min(1),
  message: z.string().min(1),
  basis: Basis,
  status: z.enum(FLAG_STATUSES),
  /** The exemption (rules/exemptions/) that covers this hit; set exactly when `status` is `exempted`. */
  exemptionId: z.string().min(1).optional(),
  /** The rule set version (a content hash, published or bundled) that raised the flag. */
  ruleSetVersion: z.string().min(1),
  createdAt: isoTimestamp,
});

export type Flag = z.infer<typeof Flag>;
export type Basis = z.infer<typeof Basis>;
export type Stage = (typeof STAGES)[number];
export type Severity = (typeof SEVERITIES)[number];

/** Position in SEVERITIES: higher is more severe. */
export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/**
 * How strongly an action stops a claim line: `alert` and `flag` let it pass, `hold` stops it for
 * review, `reject` refuses it. Higher wins where several flags name one line.
 */
export const actionRank = (action: Action): number => ACTION_RANK[action];
const ACTION_RANK: Record<Action, number> = { alert: 0, flag: 0, hold: 1, reject: 2 };

/** The most severe of the flags' severities, or null for no flags. */
export function highestSeverity(flags: readonly Pick<Flag, 'severity'>[]): Severity | null {
  let best: Severity | null = null;
  for (const f of flags) if (!best || severityRank(f.severity) > severityRank(best)) best = f.severity;
  return best;
}
export type RuleResultKind = (typeof RESULTS)[number];
export type Action = (typeof ACTIONS)[number];
