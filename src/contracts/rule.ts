import { z } from 'zod';
import { ITEM_CATEGORIES, VISIT_TYPES } from './claim.ts';
import { isoDate } from './fields.ts';
import { ACTIONS, RESULTS, SEVERITIES, STAGES } from './flag.ts';

/**
 * What a rule's conditions are evaluated for. Each kind is a named fact the core derives from the
 * claim (and history): one subject per item, per exclusive pair of lines, per code and day, etc.
 * The derivation only shapes data; every judgment is in the rule's conditions.
 */
export const SUBJECT_KINDS = [
  'item',
  'day',
  'exclusivePair',
  'dailyQuantity',
  'course',
  'tcmPrescription',
  // Claim-only subjects (issue 8 Part 2): the claim's own data, no catalogue.
  'claim',
  'diagnosis',
  'prescription',
  'herbalPrescription',
  // History subjects: the claim's lines against the patient's earlier claims.
  'historySameDay',
  'historyCourse',
  'historyCycle',
  'historySupply',
] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Facts every run can ask for; anything else fails the lint. */
export const FACT_NAMES = ['subject', 'restriction', 'patient', 'hospital', 'visit', 'params'] as const;

const factRef = z.strictObject({
  fact: z.string(),
  path: z
    .string()
    .regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a plain path like $.a.b')
    .optional(),
});

type ConditionNode =
  | { all: ConditionNode[] }
  | { any: ConditionNode[] }
  | { not: ConditionNode }
  | { fact: string; path?: string; operator: string; value: unknown };

export const Condition: z.ZodType<ConditionNode> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Condition).min(1) }),
    z.strictObject({ any: z.array(Condition).min(1) }),
    z.strictObject({ not: Condition }),
    z.strictObject({
      fact: z.string().min(1),
      path: factRef.shape.path,
      operator: z.string().min(1),
      value: z.union([
        z.string(),
        z.number(),
        z.boolean(),
        z.null(),
        z.array(z.union([z.string(), z.number()])),
        factRef,
      ]),
    }),
  ]),
);

export const TopCondition = z.union([
  z.strictObject({ all: z.array(Condition).min(1) }),
  z.strictObject({ any: z.array(Condition).min(1) }),
  z.strictObject({ not: Condition }),
]);

/** Partial claim merged onto the fixture base claim (rules/fixtures/base-claim.json). */
export const Fixture = z.strictObject({
  name: z.string().min(1),
  expect: z.enum(['hit', 'miss']),
  /** Deep-merged onto the base claim; `items` replaces the base items when given. */
  claim: z.record(z.string(), z.unknown()),
  /** Earlier claims of the same patient (each merged onto the base claim), for history rules. */
  history: z.array(z.record(z.string(), z.unknown())).optional(),
  /** The lines the flag must name, when `expect` is `hit`. */
  lineNos: z.array(z.number().int().positive()).optional(),
  stage: z.enum(STAGES).optional(),
});

export const RuleFile = z
  .strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/, 'expected an id like GZ-DRUG-SEX'),
    version: z.number().int().positive(),
    title: z.string().min(1),
    description: z.string().optional(),
    stages: z.array(z.enum(STAGES)).min(1),
    scope: z.enum(['item', 'claim', 'history', 'period']),
    subject: z.enum(SUBJECT_KINDS),
    /**
     * Which subjects the rule applies to. `ruleClass` ties the rule to the knowledge points of that
     * class: only subjects whose catalogue entry carries one are evaluated, and that knowledge
     * point is the `restriction` fact and the flag's basis.
     */
    when: z
      .strictObject({
        ruleClass: z.string().optional(),
        categories: z.array(z.enum(ITEM_CATEGORIES)).min(1).optional(),
        visitTypes: z.array(z.enum(VISIT_TYPES)).min(1).optional(),
        /** Subject or patient fields that must be present, e.g. `patient.deathDate`. */
        requires: z.array(z.enum(['patient.deathDate', 'subject.daysSupply'])).optional(),
      })
      .default({}),
    /** For history rules: how far back the patient's claims are needed. */
    historyDays: z.number().int().positive().optional(),
    severity: z.enum(SEVERITIES),
    result: z.enum(RESULTS),
    /** The action at each stage the rule runs in. */
    action: z.partialRecord(z.enum(STAGES), z.enum(ACTIONS)),
    basis: z.strictObject({
      ruleClass: z.string().min(1),
      code: z.string().min(1),
      text: z.string().optional(),
    }),
    /** Tunable values the conditions read as the `params` fact (a list for `contains`-style checks). */
    params: z.record(z.string(), z.union([z.number(), z.string(), z.array(z.string())])).default({}),
    /** `{{fact.path}}` placeholders, optionally `{{fact.path|filter}}` (sex, visitType, insurance, level, yuan). */
    message: z.string().min(1),
    effective: z.strictObject({ from: isoDate, to: isoDate.optional() }),
    conditions: TopCondition,
    fixtures: z.array(Fixture).min(2, 'every rule needs fixtures that must hit and must not'),
  })
  .superRefine((rule, ctx) => {
    for (const stage of rule.stages) {
      if (!rule.action[stage]) {
        ctx.addIssue({ code: 'custom', path: ['action', stage], message: `no action for stage ${stage}` });
      }
    }
    if (!rule.fixtures.some((f) => f.expect === 'hit') || !rule.fixtures.some((f) => f.expect === 'miss')) {
      ctx.addIssue({
        code: 'custom',
        path: ['fixtures'],
        message: 'needs at least one hit and one miss fixture',
      });
    }
    if (rule.when.ruleClass && rule.when.ruleClass !== rule.basis.ruleClass) {
      ctx.addIssue({ code: 'custom', path: ['when', 'ruleClass'], message: 'must equal basis.ruleClass' });
    }
  });

export type RuleFile = z.infer<typeof RuleFile>;
export type RuleFileInput = z.input<typeof RuleFile>;
export type ConditionTree = z.infer<typeof TopCondition>;
export type Fixture = z.infer<typeof Fixture>;
