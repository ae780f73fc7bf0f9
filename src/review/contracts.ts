/**
 * The review API's contracts, one zod schema each: the handler parses requests with them, the
 * console's client is typed by them, and the OpenAPI document is generated from them (src/openapi.ts),
 * so a field renamed on one side fails the type check or the contract test on the other.
 */
import { z } from 'zod';
import { isoTimestamp } from '../contracts/fields.ts';
import { Basis, FLAG_STATUSES, RESULTS, SEVERITIES, STAGES } from '../contracts/flag.ts';
import { RuleParams } from '../contracts/rule.ts';
import { Score } from '../contracts/score.ts';
import { REVIEW_ACTIONS } from './machine.ts';
import { type FlagFilterName, MAX_BULK, ROLES } from './states.ts';

/** Longest reason or evidence text: a page of Chinese text, enough to cite documents. */
export const MAX_REASON_CHARS = 2_000;
export const MAX_EVIDENCE_CHARS = 10_000;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;
export { MAX_BULK };

/** Cursors we issue are a few hundred characters. */
const MAX_CURSOR = 1_024;

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM');
const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w.#:-]+$/, 'expected an identifier of letters, digits and -_.:#');
const amount = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,2})?$/, 'expected an amount in yuan like 120 or 99.50')
  .transform(Number);

/** The filters of a flag listing, as query string parameters (also those of export, counts and bulk). */
export const FlagFilters = z.strictObject({
  status: z.enum(FLAG_STATUSES).optional(),
  hospital: id.optional(),
  doctor: id.optional(),
  rule: id.optional(),
  ruleClass: z.string().min(1).max(100).optional(),
  severity: z.enum(SEVERITIES).optional(),
  stage: z.enum(STAGES).optional(),
  result: z.enum(RESULTS).optional(),
  /** First and last month of the flag's creation, inclusive. */
  from: month.optional(),
  to: month.optional(),
  minAmount: amount.optional(),
  maxAmount: amount.optional(),
  /** Only flags past their step's time limit (steps an auditor owns). */
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /**
   * Only flags a correction of their claim superseded (`true`); without it a listing leaves them out,
   * as it leaves out `exempted` flags unless `status=exempted` asks for them: neither is work to do.
   */
  superseded: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
} satisfies Record<FlagFilterName, z.ZodType>);
export type FlagFilters = z.infer<typeof FlagFilters>;

export const ListQuery = FlagFilters.extend({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `expected a whole number from 1 to ${MAX_PAGE}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_PAGE, `expected a whole number from 1 to ${MAX_PAGE}`)
    .optional(),
  cursor: z.string().max(MAX_CURSOR, 'not a cursor this listing issued').optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const TrailEntry = z.strictObject({
  action: z.enum(REVIEW_ACTIONS),
  from: z.enum(FLAG_STATUSES),
  to: z.enum(FLAG_STATUSES),
  actorId: z.string(),
  role: z.enum(ROLES),
  at: isoTimestamp,
  reason: z.string(),
  evidence: z.string().optional(),
});

/** A flag as the review API shows it: the Flag contract plus its review state. */
export const FlagView = z.strictObject({
  flagId: z.string(),
  claimId: z.string().optional(),
  relatedClaimIds: z.array(z.string()).optional(),
  /** The claim version whose correction superseded this flag; such a flag is never decided. */
  supersededBy: z.number().int().optional(),
  lineNos: z.array(z.number().int()),
  ruleId: z.string(),
  ruleVersion: z.number().int(),
  stage: z.enum(STAGES),
  severity: z.enum(SEVERITIES),
  result: z.enum(RESULTS),
  action: z.string(),
  amountAtRisk: z.number(),
  hospitalId: z.string(),
  doctorId: z.string().optional(),
  insuredId: z.string().optional(),
  message: z.string(),
  basis: Basis,
  status: z.enum(FLAG_STATUSES),
  statusLabel: z.string(),
  createdAt: isoTimestamp,
  /** Increases with every transition; send it back as `expectedVersion`. */
  version: z.number().int().nonnegative(),
  enteredAt: isoTimestamp,
  /** When the current step runs out; absent once the flag is closed. */
  dueAt: isoTimestamp.optional(),
  overdue: z.boolean(),
});
export type FlagView = z.infer<typeof FlagView>;

export const FlagPage = z.strictObject({
  items: z.array(FlagView),
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: z.string().nullable(),
});

export const ClaimLine = z.strictObject({
  lineNo: z.number().int(),
  code: z.string(),
  name: z.string(),
  category: z.string(),
  quantity: z.number(),
  amount: z.number(),
  serviceDate: z.string(),
  daysSupply: z.number().optional(),
  /** The flag names this line. */
  flagged: z.boolean(),
});

export const FlagDetail = z.strictObject({
  flag: FlagView,
  claim: z
    .strictObject({
      claimId: z.string(),
      visitType: z.string(),
      firstServiceDate: z.string(),
      lastServiceDate: z.string(),
      lines: z.array(ClaimLine),
    })
    .nullable(),
  rule: z
    .strictObject({
      id: z.string(),
      version: z.number().int(),
      title: z.string(),
      description: z.string().optional(),
      /** The rule's conditions in words, one line per condition. */
      conditions: z.array(z.string()),
      /** The rule's own numbers (limits, windows) the conditions read. */
      params: RuleParams,
    })
    .nullable(),
  /** Other flags of the same claim. */
  siblings: z.array(
    z.strictObject({ flagId: z.string(), ruleId: z.string(), status: z.enum(FLAG_STATUSES) }),
  ),
  /** Claims of a cross-claim flag; hidden from hospitals (they may belong to another hospital). */
  relatedClaimIds: z.array(z.string()),
  trail: z.array(TrailEntry),
  /** What the caller may do next. */
  actions: z.array(z.enum(REVIEW_ACTIONS)),
  policy: z.strictObject({ step: z.string().optional(), limitDays: z.number().optional() }),
});
export type FlagDetail = z.infer<typeof FlagDetail>;

export const TransitionBody = z.strictObject({
  action: z.enum(REVIEW_ACTIONS),
  reason: z.string().trim().min(1, 'a reason is required').max(MAX_REASON_CHARS),
  evidence: z.string().max(MAX_EVIDENCE_CHARS).optional(),
  expectedVersion: z.number().int().nonnegative(),
});

export const TransitionAnswer = z.strictObject({ flag: FlagView, trail: z.array(TrailEntry) });

const bulkDecision = {
  action: z.enum(REVIEW_ACTIONS),
  reason: z.string().trim().min(1, 'a reason is required').max(MAX_REASON_CHARS),
};

/**
 * One decision over many flags: a filtered set (`filters`, with the number of flags the caller saw
 * in it), or the flags the caller checked (`flags`, each with the version the caller saw).
 */
export const BulkBody = z.union([
  z.strictObject({
    filters: FlagFilters,
    ...bulkDecision,
    /** The number of flags the caller saw in the filtered set; a different number now refuses the whole bulk. */
    expectedCount: z.number().int().min(1).max(MAX_BULK),
  }),
  z.strictObject({
    /** The checked flags, each decided only if it is still at the version the caller saw. */
    flags: z
      .array(z.strictObject({ flagId: id, expectedVersion: z.number().int().nonnegative() }))
      .min(1)
      .max(MAX_BULK)
      .refine((f) => new Set(f.map((x) => x.flagId)).size === f.length, 'a flag may be named once'),
    ...bulkDecision,
  }),
]);
export type BulkBody = z.infer<typeof BulkBody>;

export const BulkAnswer = z.strictObject({
  total: z.number().int(),
  done: z.number().int(),
  results: z.array(
    z.strictObject({
      flagId: z.string(),
      outcome: z.enum(['done', 'refused']),
      /** The flag's status after the bulk; absent for a flag that was not found. */
      status: z.enum(FLAG_STATUSES).optional(),
      reason: z.string().optional(),
    }),
  ),
});

/** Where an export was written (AWS), as the API answers it. */
export const ExportAnswer = z.strictObject({
  /** A presigned GET of the CSV (UTF-8 with BOM); follow it without the API's Authorization header. */
  url: z.url(),
  expiresAt: isoTimestamp,
  bytes: z.number().int().nonnegative(),
});
export type ExportAnswer = z.infer<typeof ExportAnswer>;

export const Counts = z.strictObject({
  total: z.number().int(),
  amountAtRisk: z.number(),
  overdue: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
  byRuleClass: z.record(z.string(), z.strictObject({ flags: z.number().int(), amountAtRisk: z.number() })),
  /**
   * Where the numbers come from: `counters`, the live counter items (src/review/counts.ts), exact
   * however many flags there are — filters by hospital, status, rule class and period, the queue's
   * own; `flags`, the filtered flags themselves, read up to a bound (doctor, rule, severity, stage,
   * result, amount filters).
   */
  countedBy: z.enum(['counters', 'flags']),
  /**
   * False when the reading stopped at its bound: total, byStatus, byRuleClass and amountAtRisk
   * are then lower bounds (the console shows "≥").
   */
  exact: z.boolean(),
  /** The same for `overdue`, which is counted by a bounded read whenever a rule class is filtered. */
  overdueExact: z.boolean(),
});

/**
 * The post-event stage's Score contract (src/contracts/score.ts), as it writes it to the `scores`
 * table: one schema for both sides. Every score names its hospital (a doctor's, its own), which is
 * how a hospital reads its own and its doctors' scores and never another's.
 */
export { Score };

export const ScoresQuery = z.strictObject({
  kind: z.enum(['hospital', 'doctor']),
  /** One subject over periods… */
  id: id.optional(),
  /** …or every subject of one period (peers); for doctors, of one hospital. */
  period: month.optional(),
  hospital: id.optional(),
  from: month.optional(),
  to: month.optional(),
});

export const ScoresAnswer = z.strictObject({
  items: z.array(Score),
  /** The scores table holds nothing for this question (the post-event stage may not have run yet). */
  empty: z.boolean(),
  note: z.string().optional(),
});

export const PrecisionAnswer = z.strictObject({
  rules: z.array(
    z.strictObject({
      ruleId: z.string(),
      ruleVersion: z.number().int(),
      title: z.string(),
      flags: z.number().int(),
      open: z.number().int(),
      confirmed: z.number().int(),
      dismissed: z.number().int(),
      appealed: z.number().int(),
      overturned: z.number().int(),
      /** Confirmed and not overturned, of those decided; null before any decision. */
      precision: z.number().nullable(),
    }),
  ),
});

export const Me = z.strictObject({
  role: z.enum(ROLES),
  actorId: z.string(),
  hospitalId: z.string().optional(),
  policy: z.record(
    z.string(),
    z.strictObject({ label: z.string(), limitDays: z.number(), owner: z.string() }),
  ),
});
