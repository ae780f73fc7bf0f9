import { z } from 'zod';
import { INSURANCE_TYPES, SEXES, VISIT_TYPES } from '../contracts/claim.ts';
import { isoDate } from '../contracts/fields.ts';

/** One indication of a 药品限适应症 text: its diseases' ICD-10 codes and the age it states, if any. */
const IndicationAlternative = z.strictObject({
  diseases: z.array(z.string().min(1)).min(1),
  /** Categories (E11), code prefixes (K70.3) and ranges (I10-I13) from rules/reference/indication-diseases.json. */
  icd10: z.array(z.string().min(1)).min(1),
  /** Inclusive lower bound in completed years, months or days (成人 → 18 years, 3月龄 → 3 months). */
  minAge: z
    .strictObject({ value: z.number().int().nonnegative(), unit: z.enum(['years', 'months', 'days']) })
    .optional(),
  /** Inclusive upper bound in completed years (儿童 → 17). */
  maxAgeYears: z.number().int().nonnegative().optional(),
  /** The age condition as the text states it. */
  ageLabel: z.string().min(1).optional(),
});

/**
 * A restriction is what one NHSA knowledge point says about its codes, in a form a rule can check.
 * `kind` names the check; the rule class and text stay on the knowledge point for the flag's basis.
 */
export const Restriction = z.discriminatedUnion('kind', [
  /** 区分性别使用: payable only for this sex. */
  z.strictObject({ kind: z.literal('sex'), sex: z.enum(SEXES) }),
  /**
   * 儿童专用 / 限儿童使用 / 新生儿…: payable only when the patient's completed age is within the band.
   * Bounds are inclusive; `maxAgeDays` serves newborn items (≤ 28 days).
   */
  z.strictObject({
    kind: z.literal('age'),
    label: z.string(),
    minAgeYears: z.number().int().nonnegative().optional(),
    maxAgeYears: z.number().int().nonnegative().optional(),
    maxAgeDays: z.number().int().nonnegative().optional(),
  }),
  /** 限工伤保险 / 限生育保险. */
  z.strictObject({
    kind: z.literal('insuranceType'),
    insuranceTypes: z.array(z.enum(INSURANCE_TYPES)).min(1),
  }),
  /** 限就医方式: payable only for these visit types (e.g. 住院方可支付 → inpatient). */
  z.strictObject({ kind: z.literal('visitType'), visitTypes: z.array(z.enum(VISIT_TYPES)).min(1) }),
  /** 限医疗机构级别: the hospital's level must be at least this. */
  z.strictObject({ kind: z.literal('hospitalLevel'), minLevel: z.number().int().min(1).max(3) }),
  /**
   * 限支付疗程, in the scope and unit the text states: `episode` — at most `maxDays` distinct billed
   * days in one visit or stay (单次最多支付14天); `total` — at most `maxDays` distinct billed days
   * however many visits they span (支付不超过14天); `span` — payable for `maxMonths` months counted
   * from the first dose (支付不超过12个月), however few days are billed.
   */
  z.discriminatedUnion('scope', [
    z.strictObject({
      kind: z.literal('course'),
      scope: z.enum(['episode', 'total']),
      maxDays: z.number().int().positive(),
    }),
    z.strictObject({
      kind: z.literal('course'),
      scope: z.literal('span'),
      maxMonths: z.number().int().positive(),
    }),
  ]),
  /**
   * 周期超频次: two charges at least `minIntervalDays` apart (间隔时间不短于14天, unit `days`), or at most
   * `maxPerCalendarWeek` charges in one calendar week, Monday to Sunday (每周最多支付一次).
   */
  z.discriminatedUnion('unit', [
    z.strictObject({
      kind: z.literal('cycle'),
      unit: z.literal('days'),
      minIntervalDays: z.number().int().positive(),
    }),
    z.strictObject({
      kind: z.literal('cycle'),
      unit: z.literal('calendarWeek'),
      maxPerCalendarWeek: z.number().int().positive(),
    }),
  ]),
  /** 限定频次: the item is priced per `unit`, so at most `maxPerDay` units a day (日 → 1, 小时 → 24). */
  z.strictObject({
    kind: z.literal('frequency'),
    unit: z.enum(['day', 'hour']),
    maxPerDay: z.number().positive(),
  }),
  /** 中药饮片单复方均不予支付: never payable. */
  z.strictObject({ kind: z.literal('tcmNotPayable') }),
  /** 中药饮片单方使用不予支付: not payable alone nor in a prescription made only of such pieces. */
  z.strictObject({ kind: z.literal('tcmNotPayableAlone') }),
  /** 超互联网医院药品支付范围: not payable when prescribed in internet diagnosis. */
  z.strictObject({ kind: z.literal('notInternet') }),
  /**
   * 药品限二线使用: payable after a first-line drug failed or was not tolerated. The claims show at
   * most that another drug of its class was used before, never why it was stopped.
   */
  z.strictObject({ kind: z.literal('secondLine') }),
  /**
   * 手术项目未按规定折价收费: the surgery group the point names (胃肠手术组, 肝胆手术组, …). Its detect
   * logic: 经同一切口进行的两种及以上不同的手术，第二及以后的手术未按规定折价计收 — the second and later
   * surgeries of a group done through one incision are charged at a discount. The points state no rate.
   */
  z.strictObject({ kind: z.literal('surgeryGroup'), group: z.string().min(1) }),
  /**
   * 药品限适应症: payable when a diagnosis of the claim falls in one alternative's ICD-10 codes and the
   * patient's age fits that alternative (src/catalogue/indications.ts reads the text).
   */
  z.strictObject({
    kind: z.literal('indication'),
    /** The diseases the text names, as it spells them. */
    label: z.string().min(1),
    alternatives: z.array(IndicationAlternative).min(1),
  }),
  /** 医疗服务项目重复收费: the two codes must not both be charged on the same day. */
  z.strictObject({ kind: z.literal('exclusivePair'), codes: z.tuple([z.string(), z.string()]) }),
]);
export type Restriction = z.infer<typeof Restriction>;
export type RestrictionKind = Restriction['kind'];

/** One knowledge point (知识点) as imported, with everything an auditor needs to cite it. */
export const KnowledgePoint = z.strictObject({
  kpId: z.string().regex(/^KP-/),
  ruleClass: z.string().min(1),
  /** 1.0 `GZ…` code where the national framework has one, else `NHSA2025-<seq>`. */
  basisCode: z.string().min(1),
  gzCode: z.string().nullable(),
  itemName: z.string(),
  codes: z.array(z.string().min(1)).min(1),
  /** The constraint text exactly as published. */
  text: z.string(),
  detectLogic: z.string().nullable(),
  batch: z.string(),
  /**
   * The publication date of its batch or update (published_at in the source): it applies to lines
   * served on or after it. Null where the source dates no batch (batches 1–8): it applies from the start.
   */
  publishedAt: isoDate.nullable(),
  supersedes: z.string().nullable(),
  /**
   * The publication date of the update that replaced it: it applies to lines served before it only.
   * Null while it is in force.
   */
  supersededOn: isoDate.nullable(),
  /** A restriction parsed safely from the rule class and text, or null when kept as text only. */
  restriction: Restriction.nullable(),
  /** Why the text was kept unparsed (null when `restriction` is set). */
  keptAsText: z.string().nullable(),
  /**
   * Where the source itself leaves the restriction in doubt (the text names uses it does not
   * restrict, or another source row contradicts it): a flag from this point is `suspicious`, never
   * a violation, and cites `reason`. Null when the text supports a violation.
   */
  grade: z.strictObject({ result: z.literal('suspicious'), reason: z.string().min(1) }).nullable(),
});
export type KnowledgePoint = z.infer<typeof KnowledgePoint>;

/**
 * Knowledge points counted. `read` counts every source record; `active` those left after updates
 * (with codes); `parsed` the active ones with a restriction; `graded` the parsed ones the source
 * leaves in doubt. Whether a rule evaluates them is the rule set's business, counted at report time.
 */
const coverageCounts = {
  read: z.number().int(),
  superseded: z.number().int(),
  active: z.number().int(),
  parsed: z.number().int(),
  keptAsText: z.number().int(),
  graded: z.number().int(),
};

/** Coverage of one rule class. */
export const CoverageRow = z.strictObject({ ruleClass: z.string(), ...coverageCounts });

/** The file `rules/catalogue/knowledge-points.json`: knowledge points in force, and those updates replaced. */
export const CatalogueFile = z.strictObject({
  $comment: z.string(),
  source: z.string(),
  coverage: z.strictObject({ ...coverageCounts, byRuleClass: z.array(CoverageRow) }),
  /** kpId → the kpId of the update that replaced it. */
  supersededBy: z.record(z.string(), z.string()),
  /** Points in force (supersededOn null), in source order. */
  knowledgePoints: z.array(KnowledgePoint),
  /**
   * Points an update replaced, each with its supersededOn date, in source order: claims served
   * before that date are still judged by them.
   */
  supersededPoints: z.array(KnowledgePoint),
});
export type CatalogueFile = z.infer<typeof CatalogueFile>;

/** One NHSA rule class: the 2025 edition's 88, plus any 1.0 class the 2025 edition does not map. */
export const RuleClass = z.strictObject({
  name: z.string().min(1),
  /** 1.0 `GZ…`/`ZB…` code where one exists, else `NHSA2025-<seq>`. */
  basisCode: z.string().min(1),
  gzCode: z.string().nullable(),
  seq2025: z.number().int().positive().nullable(),
  tier1: z.string().min(1),
  tier2: z.string().min(1),
  /** The 1.0 framework's definition; null for classes new in 2025, which the 1.0 text does not define. */
  definition: z.string().nullable(),
  newIn2025: z.boolean(),
});
export type RuleClass = z.infer<typeof RuleClass>;

/** The file `rules/catalogue/rule-classes.json`. */
export const RuleClassFile = z.strictObject({
  $comment: z.string(),
  source: z.string(),
  ruleClasses: z.array(RuleClass),
});
export type RuleClassFile = z.infer<typeof RuleClassFile>;
