import { z } from 'zod';
import { ITEM_CATEGORIES, VISIT_TYPES } from './claim.ts';
import { isoDate } from './fields.ts';
import { ACTIONS, RESULTS, SEVERITIES, STAGES } from './flag.ts';

/** Facts every run can ask for; anything else fails the lint. */
export const FACT_NAMES = ['subject', 'restriction', 'patient', 'hospital', 'visit', 'params'] as const;

const factRef = z.strictObject({
  fact: z.string(),
  path: z
    .string()
    .regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a plain path like $.a.b')
    .optional(),
});

/** `fact.a.b`: a fact and a path into it, as `when.requires` names them. */
const factPath = z
  .string()
  .regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/, 'expected a fact and a path like patient.deathDate');

const linePath = z.string().regex(/^\$\.[A-Za-z_]\w*$/, 'expected a line fact like $.dayNo');

/**
 * Which of the subject's lines a hit puts at risk, and for how much. Without it every line of the
 * subject is at risk in full. `only` and `beyond` narrow the lines by their line facts (what the
 * subject kind offers per line); `unitsBeyond` takes the units of quantity past a limit, counted
 * along the lines in claim order, each at its line's unit price. The amount at risk is the sum
 * over what is selected unless `amount` gives it; `name` says whether the flag names only those lines or all of the
 * subject's (a flag always names a line: with nothing selected it names them all, at 0).
 */
export const AtRisk = z
  .strictObject({
    only: z
      .strictObject({ path: linePath, equal: z.union([z.string(), z.number(), z.boolean()]) })
      .optional(),
    beyond: z.strictObject({ path: linePath, limit: z.union([z.number(), factRef]) }).optional(),
    unitsBeyond: z.strictObject({ limit: z.union([z.number(), factRef]) }).optional(),
    /**
     * The amount at risk when it is not in the selected lines: a number, or a fact the kind computes
     * (a claim's totals beyond its lines, which no line carries). The lines named stay as selected.
     */
    amount: z.union([z.number().nonnegative(), factRef]).optional(),
    name: z.enum(['atRisk', 'all']).default('atRisk'),
  })
  .refine((a) => !(a.beyond && a.unitsBeyond), { message: 'beyond and unitsBeyond exclude each other' });

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

/** A rule's tunable values: numbers, strings, or lists of strings for `in`-style checks. */
export const RuleParams = z.record(z.string(), z.union([z.number(), z.string(), z.array(z.string())]));

export const RuleFile = z
  .strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/, 'expected an id like GZ-DRUG-SEX'),
    version: z.number().int().positive(),
    title: z.string().min(1),
    description: z.string().optional(),
    stages: z.array(z.enum(STAGES)).min(1),
    scope: z.enum(['item', 'claim', 'history', 'period']),
    /**
     * What the conditions are evaluated for: a subject kind of `src/rules/subjects/` (item, day,
     * course, …). The kind declares the facts it offers; the linter checks the conditions against them.
     */
    subject: z.string().min(1),
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
        /** Facts that must be present (not null) for the rule to apply, e.g. `patient.deathDate`. */
        requires: z.array(factPath).min(1).optional(),
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
    params: RuleParams.default({}),
    /** `{{fact.path}}` placeholders, optionally `{{fact.path|filter}}` (sex, visitType, insurance, level, yuan). */
    message: z.string().min(1),
    effective: z.strictObject({ from: isoDate, to: isoDate.optional() }),
    conditions: TopCondition,
    atRisk: AtRisk.optional(),
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
export type AtRisk = z.infer<typeof AtRisk>;
