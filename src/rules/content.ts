import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CatalogueTexts,
  type ReferenceTexts,
  readCatalogueTexts,
  readReferenceTexts,
} from '../catalogue/index.ts';
import { ruleFilePaths } from './load.ts';

/**
 * Everything a rule set decides with, as text: what `rules publish` stores and hashes, what a
 * running function loads. The same content always has the same version, wherever it comes from.
 */
export interface RuleSetContent {
  /** Rule files by file name (`drug-sex.json`). */
  rules: Record<string, string>;
  /** Exemption files by file name (`rules/exemptions/*.json`). */
  exemptions: Record<string, string>;
  /** The catalogue the rules were built with (`rules/catalogue`). */
  catalogue: CatalogueTexts;
  /** The public reference data the catalogue answers from (`rules/reference`). */
  reference: ReferenceTexts;
  /** The post-event policy: planned cycles, service classes, scores, review (`rules/policy/*.json`). */
  policy: Record<string, string>;
  /** The post-event period rules (`rules/period/*.json`). */
  period: Record<string, string>;
}

export const EXEMPTIONS_DIR = 'exemptions';
export const REFERENCE_DIR = 'reference';
export const POLICY_DIR = 'policy';
export const PERIOD_DIR = 'period';

/** The sections of a rule set's content, in the order they are hashed. */
const SECTIONS = ['rules', 'exemptions', 'catalogue', 'reference', 'policy', 'period'] as const;

const jsonFiles = (dir: string): Record<string, string> => {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort())
    out[name] = readFileSync(join(dir, name), 'utf8');
  return out;
};

/**
 * The content of a rules directory: its rule files, `exemptions/`, `catalogue/`, `reference/`,
 * `policy/` and `period/` — everything the pre-, in- and post-event cores load, so that a published
 * version carries all of it and its hash changes when any of it does.
 */
export function readRuleSetContent(dir: string): RuleSetContent {
  const rules: Record<string, string> = {};
  for (const path of ruleFilePaths(dir))
    rules[path.slice(dir.length).replace(/^[/\\]/, '')] = readFileSync(path, 'utf8');
  return {
    rules,
    exemptions: jsonFiles(join(dir, EXEMPTIONS_DIR)),
    catalogue: readCatalogueTexts(join(dir, 'catalogue')),
    reference: readReferenceTexts(join(dir, REFERENCE_DIR)),
    policy: jsonFiles(join(dir, POLICY_DIR)),
    period: jsonFiles(join(dir, PERIOD_DIR)),
  };
}

/**
 * The version of a rule set: `rs-` and the first 16 hex digits of a SHA-256 over every file's
 * name and text, in a fixed order. A stored version whose content no longer hashes to its name
 * has been altered and is never loaded.
 */
export function contentVersion(content: RuleSetContent): string {
  const digest = createHash('sha256');
  for (const section of SECTIONS) {
    const files = content[section] as Record<string, string>;
    for (const name of Object.keys(files).sort()) {
      digest.update(`${section}/${name}\u0000`);
      digest.update(files[name] ?? '');
      digest.update('\u0000');
    }
  }
  return `rs-${digest.digest('hex').slice(0, 16)}`;
}
