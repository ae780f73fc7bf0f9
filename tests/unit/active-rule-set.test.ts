import { describe, expect, it } from 'vitest';
import { coreFromContent, loadCore } from '../../src/core.ts';
import { ActiveRuleSet, type PublishedRuleSets } from '../../src/rules/active.ts';
import { contentVersion, type RuleSetContent, readRuleSetContent } from '../../src/rules/content.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { rulesCopy, supplyLimit } from '../helpers/rules-copy.ts';

const bundled = loadCore();
const tightened = readRuleSetContent(rulesCopy({ 'drug-max-supply.json': supplyLimit(20) }));
const v2 = contentVersion(tightened);

/** The versions table as the port sees it, in memory: a pointer and contents by version. */
class Table implements PublishedRuleSets {
  pointer: string | undefined;
  reads = 0;
  readonly contents = new Map<string, RuleSetContent>();
  async active() {
    this.reads += 1;
    return this.pointer ? { active: this.pointer } : undefined;
  }
  async content(version: string) {
    const content = this.contents.get(version);
    if (!content) throw new Error(`no such version ${version}`);
    // The store's own check (src/stores/rule-sets.ts); here the content is handed over as stored.
    if (contentVersion(content) !== version) throw new Error(`${version}: altered after publishing`);
    return content;
  }
}

function setUp() {
  const table = new Table();
  const logs: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  let clock = 0;
  const active = new ActiveRuleSet(table, bundled, {
    checkEveryMs: 30_000,
    now: () => clock,
    log: {
      info: (message, extra) => logs.push({ level: 'info', message, extra }),
      error: (message, extra) => logs.push({ level: 'error', message, extra }),
    },
  });
  return { table, logs, active, advance: (ms: number) => (clock += ms) };
}

describe('the active rule set of a running function', () => {
  it('reads the pointer at most once per interval and switches to a new version after it', async () => {
    const { table, active, advance } = setUp();
    expect((await active.core()).ruleSet.version).toBe(bundled.ruleSet.version);
    table.contents.set(v2, tightened);
    table.pointer = v2;
    await active.core();
    expect(table.reads).toBe(1);
    expect(active.version).toBe(bundled.ruleSet.version);
    advance(30_000);
    await active.core();
    await active.loaded();
    expect(active.version).toBe(v2);
    expect(table.reads).toBe(2);
  });

  it('keeps the running set and logs why when the active version was altered, and does not retry it', async () => {
    const { table, logs, active, advance } = setUp();
    const altered = { ...tightened, rules: { ...tightened.rules } };
    altered.rules['drug-max-supply.json'] = (altered.rules['drug-max-supply.json'] ?? '').replace('20', '5');
    table.contents.set(v2, altered);
    table.pointer = v2;
    await active.core();
    await active.loaded();
    expect(active.version).toBe(bundled.ruleSet.version);
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'rule set refused; keeping the running set',
        extra: expect.objectContaining({
          version: v2,
          reason: expect.stringMatching(/altered after publishing/),
        }),
      }),
    ]);
    advance(30_000);
    await active.core();
    await active.loaded();
    expect(logs).toHaveLength(1);
  });

  it('keeps the running set when the active version fails validation', async () => {
    const { table, logs, active } = setUp();
    const broken = readRuleSetContent(defaultRulesDir());
    broken.rules['drug-sex.json'] = '{"id": "GZ-DRUG-SEX"}';
    const version = contentVersion(broken);
    table.contents.set(version, broken);
    table.pointer = version;
    await active.core();
    await active.loaded();
    expect(active.version).toBe(bundled.ruleSet.version);
    expect(logs[0]?.extra.reason).toMatch(new RegExp(`${version}/drug-sex\\.json: `));
    expect(() => coreFromContent(broken, version)).toThrow();
  });
});
