import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogueLoadError } from '../../src/catalogue/index.ts';
import { coreFromContent } from '../../src/core.ts';
import { auditCoreFromContent } from '../../src/post/audit.ts';
import { PolicyError } from '../../src/post/policy.ts';
import { contentVersion, readRuleSetContent } from '../../src/rules/content.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { rulesCopy } from '../helpers/rules-copy.ts';

const committed = readRuleSetContent(defaultRulesDir());
const committedVersion = contentVersion(committed);

/** A copy of the rules directory with `file` (relative to it) edited as JSON. */
function copyEditing(file: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = rulesCopy();
  const path = join(dir, file);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  return dir;
}

/** The indeterminate-sex group without its entries: no diagnosis falls in it any more. */
const withoutIndeterminateSex = (json: Record<string, unknown>): void => {
  for (const group of json.groups as { id: string; entries: unknown[] }[])
    if (group.id === 'indeterminateSex') group.entries = group.entries.slice(0, 1);
};

describe('a rule set version', () => {
  it('changes when a reference file changes, and its core answers from the published reference text', () => {
    const changed = readRuleSetContent(
      copyEditing('reference/diagnosis-groups.json', withoutIndeterminateSex),
    );
    expect(contentVersion(changed)).not.toBe(committedVersion);

    // Q96 (Turner's syndrome) is in the committed group; the published copy keeps only the first entry.
    const q96 = ['Q96.900'];
    expect(
      coreFromContent(committed, 'committed').catalogue.diagnosisGroupsOf(q96).has('indeterminateSex'),
    ).toBe(true);
    const published = coreFromContent(changed, 'rs-changed').catalogue;
    expect(published.diagnosisGroupsOf(q96).has('indeterminateSex')).toBe(false);
  });

  it('changes when a policy file or a period rule changes', () => {
    const policy = readRuleSetContent(
      copyEditing('policy/score-policy.json', (json) => {
        json.$comment = `${String(json.$comment)} (edited)`;
      }),
    );
    const period = readRuleSetContent(
      copyEditing('period/after-death.json', (json) => {
        json.version = Number(json.version) + 1;
      }),
    );
    expect(contentVersion(policy)).not.toBe(committedVersion);
    expect(contentVersion(period)).not.toBe(committedVersion);
    expect(contentVersion(policy)).not.toBe(contentVersion(period));
  });

  it('is not loaded without its reference data, policy or period rules, naming the missing file', () => {
    const { 'tcm-incompatibility.json': _, ...reference } = committed.reference;
    expect(() =>
      coreFromContent({ ...committed, reference: reference as typeof committed.reference }, 'rs-x'),
    ).toThrow(new CatalogueLoadError(join('rs-x', 'reference', 'tcm-incompatibility.json'), 'is missing'));
    const { 'score-policy.json': __, ...policy } = committed.policy;
    expect(() => auditCoreFromContent({ ...committed, policy }, 'rs-x')).toThrow(PolicyError);
    expect(() => auditCoreFromContent({ ...committed, policy }, 'rs-x')).toThrow(
      /rs-x\/policy\/score-policy\.json/,
    );
  });
});
