import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { rulesDirFromEnvironment } from '../config.ts';
import { describeIssue } from '../contracts/issues.ts';
import { FACT_NAMES, RuleFile } from '../contracts/rule.ts';
import { factPaths, linePaths } from './facts.ts';
import { MESSAGE_FILTERS, placeholders } from './message.ts';
import { splitPath } from './paths.ts';
import { OPERATORS, RuleSet } from './rule-set.ts';
import { SUBJECT_KINDS } from './subjects/registry.ts';

/** Where rule files live: `FUNDGUARD_RULES_DIR` (set in Lambda bundles) or the project's `rules/`. */
export function defaultRulesDir(): string {
  return rulesDirFromEnvironment() ?? resolve(fileURLToPath(new URL('../../rules', import.meta.url)));
}

/** A rule set that fails validation; `problems` name the file and the path of each. */
export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
  constructor(readonly problems: string[]) {
    super(`rule set is invalid:\n  ${problems.join('\n  ')}`);
  }
}

/** Rule files are the `*.json` directly in the rules dir; catalogues and schemas sit in subfolders. */
export function ruleFilePaths(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => join(dir, e.name))
    .sort();
}

interface LoadedFile {
  file: RuleFile;
  source: string;
}

/** A rule file's text and where it came from (a path, or a published version and file name). */
export interface RuleFileText {
  source: string;
  text: string;
}

/** Parse and validate every rule file in `dir`; all problems are collected before failing. */
export function readRuleFiles(
  dir: string = defaultRulesDir(),
  knownRuleClasses?: ReadonlySet<string>,
): LoadedFile[] {
  const texts = ruleFilePaths(dir).map((path) => ({
    source: relative(process.cwd(), path) || path,
    text: readFileSync(path, 'utf8'),
  }));
  return parseRuleFiles(texts, knownRuleClasses);
}

/** Parse and validate rule files from their text; all problems are collected before failing. */
export function parseRuleFiles(
  texts: readonly RuleFileText[],
  knownRuleClasses?: ReadonlySet<string>,
): LoadedFile[] {
  return parseRuleFilesAs(texts, RuleFile, (file) => lintRule(file, knownRuleClasses));
}

/**
 * Parse rule files from their text, validate each against `schema` and `lint` it, and check ids are
 * unique; every problem, named by file and path, is collected before one RuleSetError. Claim rules
 * and the post-event stage's period rules are read by this one function.
 */
export function parseRuleFilesAs<T extends { id: string }>(
  texts: readonly RuleFileText[],
  schema: z.ZodType<T>,
  lint: (file: T) => string[],
): { file: T; source: string }[] {
  const problems: string[] = [];
  const loaded: { file: T; source: string }[] = [];
  for (const { source, text } of texts) {
    const file = parseJsonProblems(source, text, schema, problems);
    if (file === undefined) continue;
    for (const p of lint(file)) problems.push(`${source}: ${p}`);
    loaded.push({ file, source });
  }
  const ids = new Map<string, string>();
  for (const { file, source } of loaded) {
    const other = ids.get(file.id);
    if (other) problems.push(`${source}: id: ${file.id} is also used by ${other}`);
    ids.set(file.id, source);
  }
  if (problems.length) throw new RuleSetError(problems);
  return loaded;
}

/**
 * A rules-directory file's `text` parsed as JSON and by `schema`; otherwise each problem, named by
 * `source` and path, is added to `problems` and the result is undefined (callers collect them all).
 */
export function parseJsonProblems<T>(
  source: string,
  text: string,
  schema: z.ZodType<T>,
  problems: string[],
): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    problems.push(`${source}: not valid JSON (${(error as Error).message})`);
    return undefined;
  }
  const parsed = schema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${source}: ${describeIssue(issue, json)}`);
    return undefined;
  }
  return parsed.data;
}

type Ref = { fact?: unknown; path?: unknown };

/**
 * Checks beyond the schema: a subject kind the registry has, used as the kind declares (scope,
 * class, history window, stages); facts, paths, operators and placeholders that exist for that
 * kind; classes the catalogue knows.
 */
export function lintRule(rule: RuleFile, knownRuleClasses?: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const kind = SUBJECT_KINDS.get(rule.subject);
  if (!kind || kind.scope === 'period') {
    const known = [...SUBJECT_KINDS.values()].filter((k) => k.scope !== 'period').map((k) => k.name);
    return [
      kind
        ? `subject: "${rule.subject}" is a period subject: its rules live in rules/period/`
        : `subject: unknown subject kind "${rule.subject}" (known: ${known.join(', ')})`,
    ];
  }
  const paths = factPaths(kind, rule.params);
  const facts = new Set<string>(FACT_NAMES);
  /** Notes a fact read (`fact` + `$.a.b` path) that the kind does not offer. */
  const checkRead = (where: string, ref: Ref): void => {
    const fact = String(ref.fact);
    if (!facts.has(fact)) {
      problems.push(`${where}.fact: unknown fact "${fact}" (known: ${FACT_NAMES.join(', ')})`);
      return;
    }
    const keys = splitPath(typeof ref.path === 'string' ? ref.path : undefined).join('.');
    if (keys && !paths[fact as keyof typeof paths].has(keys))
      problems.push(`${where}.path: ${fact} has no "$.${keys}" for subject "${kind.name}"`);
  };
  const walk = (node: unknown, path: string): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const key of ['all', 'any'] as const) {
      const list = n[key];
      if (Array.isArray(list)) {
        list.forEach((c, i) => {
          walk(c, `${path}.${key}[${i}]`);
        });
      }
    }
    if (n.not) walk(n.not, `${path}.not`);
    if (typeof n.fact === 'string') {
      checkRead(path, n);
      if (!(OPERATORS as readonly string[]).includes(String(n.operator))) {
        problems.push(`${path}.operator: unknown operator "${String(n.operator)}"`);
      }
      const value = n.value as Record<string, unknown> | null;
      if (value && typeof value === 'object' && !Array.isArray(value)) checkRead(`${path}.value`, value);
    }
  };
  walk(rule.conditions, 'conditions');
  for (const ph of placeholders(rule.message)) {
    if (!facts.has(ph.fact)) problems.push(`message: unknown fact "${ph.fact}" in a placeholder`);
    else if (ph.path.length && !paths[ph.fact as keyof typeof paths].has(ph.path.join('.')))
      problems.push(`message: ${ph.fact} has no "${ph.path.join('.')}" for subject "${kind.name}"`);
    if (ph.filter && !MESSAGE_FILTERS.includes(ph.filter))
      problems.push(`message: unknown filter "${ph.filter}"`);
  }
  rule.when.requires?.forEach((required, i) => {
    const [fact, ...keys] = required.split('.');
    checkRead(`when.requires[${i}]`, { fact, path: `$.${keys.join('.')}` });
  });
  if (rule.atRisk) {
    const lines = linePaths(kind);
    for (const key of ['only', 'beyond'] as const) {
      const path = rule.atRisk[key]?.path;
      if (path && !lines.has(splitPath(path).join('.')))
        problems.push(
          `atRisk.${key}.path: subject "${kind.name}" has no line fact "${path}" (known: ${[...lines].map((l) => `$.${l}`).join(', ')})`,
        );
    }
    for (const key of ['beyond', 'unitsBeyond'] as const) {
      const limit = rule.atRisk[key]?.limit;
      if (limit && typeof limit === 'object') checkRead(`atRisk.${key}.limit`, limit);
    }
    const amount = rule.atRisk.amount;
    if (amount && typeof amount === 'object') checkRead('atRisk.amount', amount);
  }
  if (kind.ruleClass === 'required' && !rule.when.ruleClass) {
    problems.push(
      `when.ruleClass: required for subject "${kind.name}" (its knowledge points define the subjects)`,
    );
  }
  if (rule.when.ruleClass && knownRuleClasses && !knownRuleClasses.has(rule.when.ruleClass)) {
    problems.push(`when.ruleClass: "${rule.when.ruleClass}" has no knowledge points in the catalogue`);
  }
  if (rule.scope !== kind.scope)
    problems.push(`scope: subject "${kind.name}" has scope "${kind.scope}", got "${rule.scope}"`);
  if (kind.history && !rule.historyDays)
    problems.push(`historyDays: required for subject "${kind.name}" (it reads the patient's history)`);
  if (!kind.history && rule.historyDays)
    problems.push(`historyDays: subject "${kind.name}" reads no history`);
  for (const stage of rule.stages)
    if (!kind.stages.includes(stage))
      problems.push(`stages: subject "${kind.name}" does not run in stage ${stage}`);
  return problems;
}

/** Load, validate and compile the rule set; throws RuleSetError so a bad set is never activated. */
export function loadRuleSet(
  dir: string = defaultRulesDir(),
  knownRuleClasses?: ReadonlySet<string>,
): RuleSet {
  return new RuleSet(readRuleFiles(dir, knownRuleClasses));
}
