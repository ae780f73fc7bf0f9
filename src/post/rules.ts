import { join } from 'node:path';
import { z } from 'zod';
import { ACTIONS, type Flag } from '../contracts/flag.ts';
import { RuleFile } from '../contracts/rule.ts';
import { parseRuleFilesAs } from '../rules/load.ts';
import { MESSAGE_FILTERS, placeholders, renderMessage } from '../rules/message.ts';
import { collectReads, distinctReads, type FactRead, newEngine, OPERATORS } from '../rules/rule-set.ts';
import { evaluate, ruleBasis } from '../rules/screen.ts';
import type { PatientSubjectKind, PeriodSubjectKind } from '../rules/subjects/kind.ts';
import { PERIOD_SUBJECT_KINDS, PERIOD_SUBJECT_NAMES } from '../rules/subjects/registry.ts';

/**
 * Period rules: rule files with `scope: "period"` and `stages: ["post"]`, in `rules/period/`. The
 * same file shape as every rule (the rule file schema, extended with the period subjects), the same
 * json-rules-engine conditions compiled once per rule. Fixtures are a patient's claims (`history`
 * plus `claim`, merged onto the base claim) for patient subjects, or a `subject` fact for peer ones.
 */

const PeriodFixture = z.strictObject({
  name: z.string().min(1),
  expect: z.enum(['hit', 'miss']),
  claim: z.record(z.string(), z.unknown()).optional(),
  history: z.array(z.record(z.string(), z.unknown())).optional(),
  /** The subject fact itself, for hospital and doctor subjects. */
  subject: z.record(z.string(), z.unknown()).optional(),
  lineNos: z.array(z.number().int().positive()).optional(),
});

/** The rule file schema's fields, with the period subjects, the post stage only and period fixtures. */
export const PeriodRuleFile = z
  .strictObject({
    ...RuleFile.shape,
    scope: z.literal('period'),
    stages: z.tuple([z.literal('post')]),
    subject: z.enum(PERIOD_SUBJECT_NAMES),
    action: z.strictObject({ post: z.enum(ACTIONS) }),
    fixtures: z.array(PeriodFixture).min(2, 'every rule needs fixtures that must hit and must not'),
  })
  .superRefine((rule, ctx) => {
    if (!rule.fixtures.some((f) => f.expect === 'hit') || !rule.fixtures.some((f) => f.expect === 'miss'))
      ctx.addIssue({
        code: 'custom',
        path: ['fixtures'],
        message: 'needs at least one hit and one miss fixture',
      });
  });
export type PeriodRuleFile = z.infer<typeof PeriodRuleFile>;
export type PeriodFixture = z.infer<typeof PeriodFixture>;

/** The facts a period rule may read: the subject, its params, and the flagged claim's patient and hospital. */
const PERIOD_FACTS = new Set(['subject', 'params', 'patient', 'hospital']);

export interface CompiledPeriodRule {
  readonly file: PeriodRuleFile;
  readonly source: string;
  /** The period subject kind the rule names, from the registry. */
  readonly kind: PeriodSubjectKind;
  readonly engine: ReturnType<typeof newEngine>;
  readonly reads: readonly FactRead[];
  readonly memo: Map<string, boolean>;
}

const operatorsOf = (node: unknown, out: string[]): string[] => {
  if (!node || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    const list = n[key];
    if (Array.isArray(list)) for (const child of list) operatorsOf(child, out);
  }
  if (n.not) operatorsOf(n.not, out);
  if (typeof n.operator === 'string') out.push(n.operator);
  return out;
};

/** Checks beyond the schema: facts and subject paths that exist, params the subject needs, operators. */
export function lintPeriodRule(rule: PeriodRuleFile): string[] {
  const problems: string[] = [];
  const reads = collectReads(rule.conditions, []);
  const kind = periodKindOf(rule);
  const offered = kind.fact.shape;
  for (const read of reads) {
    if (!PERIOD_FACTS.has(read.fact)) {
      problems.push(`conditions: unknown fact "${read.fact}" (known: ${[...PERIOD_FACTS].join(', ')})`);
    } else if (read.fact === 'subject' && read.keys[0] && !(read.keys[0] in offered)) {
      problems.push(
        `conditions: subject "${rule.subject}" offers no "${read.keys[0]}" (offers: ${Object.keys(offered).join(', ')})`,
      );
    } else if (read.fact === 'params' && read.keys[0] && !(read.keys[0] in rule.params)) {
      problems.push(`conditions: params.${read.keys[0]} is read but not set in params`);
    }
  }
  for (const op of operatorsOf(rule.conditions, [])) {
    if (!(OPERATORS as readonly string[]).includes(op)) problems.push(`conditions: unknown operator "${op}"`);
  }
  for (const ph of placeholders(rule.message)) {
    if (!PERIOD_FACTS.has(ph.fact)) problems.push(`message: unknown fact "${ph.fact}" in a placeholder`);
    else if (ph.fact === 'subject' && ph.path[0] && !(ph.path[0] in offered))
      problems.push(`message: subject "${rule.subject}" offers no "${ph.path[0]}"`);
    if (ph.filter && !MESSAGE_FILTERS.includes(ph.filter))
      problems.push(`message: unknown filter "${ph.filter}"`);
  }
  for (const name of kind.params) {
    if (typeof rule.params[name] !== 'number')
      problems.push(`params.${name}: subject "${rule.subject}" needs it as a number`);
  }
  for (const [i, f] of rule.fixtures.entries()) {
    const patientLevel = kind.level === 'patient';
    if (patientLevel && !f.claim) problems.push(`fixtures[${i}].claim: required for a patient subject`);
    if (!patientLevel && !f.subject)
      problems.push(`fixtures[${i}].subject: required for a hospital or doctor subject`);
  }
  return problems;
}

/** The rule's subject kind; the file schema's enum has already checked the name. */
function periodKindOf(rule: PeriodRuleFile): PeriodSubjectKind {
  const kind = PERIOD_SUBJECT_KINDS.get(rule.subject);
  if (!kind) throw new TypeError(`subject: unknown period subject kind "${rule.subject}"`);
  return kind;
}

/** The period rules, compiled once; evaluation memoised on the values the conditions read. */
export class PeriodRuleSet {
  readonly rules: readonly CompiledPeriodRule[];
  /** The patient-level kinds that have rules, in registry order, each with its rules: what the map builds. */
  readonly patientKinds: readonly { kind: PatientSubjectKind; rules: readonly CompiledPeriodRule[] }[];
  readonly #bySubject = new Map<string, readonly CompiledPeriodRule[]>();

  constructor(files: readonly { file: PeriodRuleFile; source: string }[]) {
    this.rules = files.map(({ file, source }) => {
      return {
        file,
        source,
        kind: periodKindOf(file),
        engine: newEngine(file.conditions, file.id),
        reads: distinctReads(file.conditions),
        memo: new Map(),
      };
    });
    this.patientKinds = [...PERIOD_SUBJECT_KINDS.values()].flatMap((kind) =>
      kind.level === 'patient' && this.ofSubject(kind.name).length
        ? [{ kind, rules: this.ofSubject(kind.name) }]
        : [],
    );
  }

  ofSubject(name: string): readonly CompiledPeriodRule[] {
    let rules = this.#bySubject.get(name);
    if (!rules) {
      rules = this.rules.filter((r) => r.file.subject === name);
      this.#bySubject.set(name, rules);
    }
    return rules;
  }

  /** Whether the rule's conditions hold for these facts (memoised as the claim rules are). */
  holds(rule: CompiledPeriodRule, facts: Record<string, unknown>): boolean | Promise<boolean> {
    return evaluate(rule, facts);
  }
}

/**
 * What a post-event flag takes from the period rule that raised it and the facts it judged; the
 * map and the reduce add whose it is, its lines and its amount.
 */
export function periodFlagFields(
  file: PeriodRuleFile,
  facts: Record<string, unknown>,
  ruleSetVersion: string,
  createdAt: string,
) {
  return {
    ruleId: file.id,
    ruleVersion: file.version,
    ruleSetVersion,
    stage: 'post',
    severity: file.severity,
    result: file.result,
    action: file.action.post ?? 'flag',
    message: renderMessage(file.message, facts),
    basis: ruleBasis(file),
    status: 'open',
    createdAt,
  } as const satisfies Partial<Flag>;
}

/**
 * Validate and lint `rules/period/*.json` from their text by file name; `where` (the directory, or
 * a published version) prefixes file names in errors. Throws RuleSetError naming each file and path.
 */
export function parsePeriodRules(texts: Readonly<Record<string, string>>, where: string): PeriodRuleSet {
  const files = Object.keys(texts)
    .sort()
    .map((name) => ({ source: join(where, name), text: texts[name] ?? '' }));
  return new PeriodRuleSet(parseRuleFilesAs(files, PeriodRuleFile, lintPeriodRule));
}
