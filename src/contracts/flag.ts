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
  'investigating',
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
  /** Why the flag is `suspicious` although its rule grades violations: the source's own words that leave it in doubt. */
  doubt: z.string().optional(),
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
  /**
   * The version of the claim that superseded this flag: the hospital corrected the claim (same id,
   * other content) and it was decided again. The flag is kept, with its review state, for the record.
   */
  supersededBy: z.number().int().min(2).optional(),
  /** A cross-claim (post-event) flag: the other claims involved; `claimId` is the latest of them. */
  relatedClaimIds: z.array(z.string().min(1)).max(500).optional(),
});

export const SUBJECT_FLAG_KINDS = ['hospital', 'doctor'] as const;

/**
 * A flag about a hospital or a doctor over a period rather than one claim (peer outliers,
 * statistical indicators, an impossible day): no `claimId` and no patient, a `subject` instead.
 * `hospitalId` is the hospital itself or the doctor's hospital, so a hospital still sees only its own.
 */
export const SubjectFlag = Flag.omit({
  claimId: true,
  insuredId: true,
  doctorId: true,
  relatedClaimIds: true,
})
  .extend({
    doctorId: z.string().min(1).optional(),
    subject: z.strictObject({
      kind: z.enum(SUBJECT_FLAG_KINDS),
      id: z.string().min(1),
      period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a period YYYY-MM'),
    }),
  })
  .strict();

/** What the post-event stage writes: claim flags (maybe cross-claim) and subject flags. */
export const PostFlag = z.union([Flag, SubjectFlag]);

export type Flag = z.infer<typeof Flag>;
export type SubjectFlag = z.infer<typeof SubjectFlag>;
export type PostFlag = z.infer<typeof PostFlag>;
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
