import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CatalogueTexts, readCatalogueTexts } from '../catalogue/index.ts';
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
}

export const EXEMPTIONS_DIR = 'exemptions';

const jsonFiles = (dir: string): Record<string, string> => {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort())
    out[name] = readFileSync(join(dir, name), 'utf8');
  return out;
};

/** The content of a rules directory: its rule files, `exemptions/` and `catalogue/`. */
export function readRuleSetContent(dir: string): RuleSetContent {
  const rules: Record<string, string> = {};
  for (const path of ruleFilePaths(dir))
    rules[path.slice(dir.length).replace(/^[/\\]/, '')] = readFileSync(path, 'utf8');
  return {
    rules,
    exemptions: jsonFiles(join(dir, EXEMPTIONS_DIR)),
    catalogue: readCatalogueTexts(join(dir, 'catalogue')),
  };
}

/**
 * The version of a rule set: `rs-` and the first 16 hex digits of a SHA-256 over every file's
 * name and text, in a fixed order. A stored version whose content no longer hashes to its name
 * has been altered and is never loaded.
 */
export function contentVersion(content: RuleSetContent): string {
  const digest = createHash('sha256');
  for (const section of ['rules', 'exemptions', 'catalogue'] as const) {
    const files = content[section] as Record<string, string>;
    for (const name of Object.keys(files).sort()) {
      digest.update(`${section}/${name}\u0000`);
      digest.update(files[name] ?? '');
      digest.update('\u0000');
    }
  }
  return `rs-${digest.digest('hex').slice(0, 16)}`;
}
