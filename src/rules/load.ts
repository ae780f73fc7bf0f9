import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rulesDirFromEnvironment } from '../config.ts';
import { describeIssue } from '../contracts/issues.ts';
import { FACT_NAMES, RuleFile } from '../contracts/rule.ts';
import { MESSAGE_FILTERS, placeholders } from './message.ts';
import { OPERATORS, RuleSet } from './rule-set.ts';

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

/** Parse and validate every rule file; all problems are collected before failing. */
export function readRuleFiles(
  dir: string = defaultRulesDir(),
  knownRuleClasses?: ReadonlySet<string>,
): LoadedFile[] {
  const problems: string[] = [];
  const loaded: LoadedFile[] = [];
  for (const path of ruleFilePaths(dir)) {
    const source = relative(process.cwd(), path) || path;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      problems.push(`${source}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const parsed = RuleFile.safeParse(json, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${source}: ${describeIssue(issue, json)}`);
      continue;
    }
    for (const p of lintRule(parsed.data, knownRuleClasses)) problems.push(`${source}: ${p}`);
    loaded.push({ file: parsed.data, source });
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

/** Checks beyond the schema: facts, operators and placeholders that exist, classes the catalogue knows. */
export function lintRule(rule: RuleFile, knownRuleClasses?: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const facts = new Set<string>(FACT_NAMES);
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
      if (!facts.has(n.fact))
        problems.push(`${path}.fact: unknown fact "${n.fact}" (known: ${FACT_NAMES.join(', ')})`);
      if (!(OPERATORS as readonly string[]).includes(String(n.operator))) {
        problems.push(`${path}.operator: unknown operator "${String(n.operator)}"`);
      }
      const value = n.value as Record<string, unknown> | null;
      if (value && typeof value === 'object' && !Array.isArray(value) && !facts.has(String(value.fact))) {
        problems.push(`${path}.value.fact: unknown fact "${String(value.fact)}"`);
      }
    }
  };
  walk(rule.conditions, 'conditions');
  for (const ph of placeholders(rule.message)) {
    if (!facts.has(ph.fact)) problems.push(`message: unknown fact "${ph.fact}" in a placeholder`);
    if (ph.filter && !MESSAGE_FILTERS.includes(ph.filter))
      problems.push(`message: unknown filter "${ph.filter}"`);
  }
  const needsClass = [
    'exclusivePair',
    'dailyQuantity',
    'course',
    'tcmPrescription',
    'historyCourse',
    'historyCycle',
  ].includes(rule.subject);
  if (needsClass && !rule.when.ruleClass) {
    problems.push(
      `when.ruleClass: required for subject "${rule.subject}" (its knowledge points define the subjects)`,
    );
  }
  if (rule.when.ruleClass && knownRuleClasses && !knownRuleClasses.has(rule.when.ruleClass)) {
    problems.push(`when.ruleClass: "${rule.when.ruleClass}" has no knowledge points in the catalogue`);
  }
  if (rule.subject.startsWith('history') !== (rule.scope === 'history')) {
    problems.push(
      `scope: history subjects go with scope "history" and only they, got ${rule.scope} with ${rule.subject}`,
    );
  }
  if (rule.scope === 'history' && !rule.historyDays)
    problems.push('historyDays: required for a history rule');
  return problems;
}

/** Load, validate and compile the rule set; throws RuleSetError so a bad set is never activated. */
export function loadRuleSet(
  dir: string = defaultRulesDir(),
  knownRuleClasses?: ReadonlySet<string>,
): RuleSet {
  return new RuleSet(readRuleFiles(dir, knownRuleClasses));
}
