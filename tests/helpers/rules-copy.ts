import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRulesDir } from '../../src/rules/load.ts';

type Json = Record<string, unknown>;

/** A copy of the project's rules in a fresh directory, with `edits` applied to rule files by name. */
export function rulesCopy(edits: Record<string, (rule: Json) => void> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fundguard-rules-')), 'rules');
  cpSync(defaultRulesDir(), dir, { recursive: true });
  for (const [name, edit] of Object.entries(edits)) {
    const path = join(dir, name);
    const rule = JSON.parse(readFileSync(path, 'utf8')) as Json;
    edit(rule);
    writeFileSync(path, `${JSON.stringify(rule, null, 2)}\n`);
  }
  return dir;
}

/**
 * The outpatient supply limit lowered from 30 to `days` days, its "miss" fixture moved below the
 * new limit so that the set still passes its fixtures.
 */
export const supplyLimit =
  (days: number) =>
  (rule: Json): void => {
    (rule.params as Json).maxDaysSupply = days;
    const fixtures = rule.fixtures as { expect: string; claim: { items: Json[] } }[];
    for (const f of fixtures)
      if (f.expect === 'miss') for (const item of f.claim.items) item.daysSupply = Math.min(days, 30);
  };
