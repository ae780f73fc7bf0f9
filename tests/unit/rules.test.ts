import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../src/core.ts';
import { readBaseClaim, runFixtures } from '../../src/rules/fixtures.ts';
import { ruleJsonSchema } from '../../src/rules/json-schema.ts';
import { defaultRulesDir, loadRuleSet, RuleSetError } from '../../src/rules/load.ts';
import { plainPathResolver } from '../../src/rules/paths.ts';
import { newEngine } from '../../src/rules/rule-set.ts';

const rulesDir = defaultRulesDir();
const core = loadCore();

/** A scratch copy of rules/ that a test may break. */
function scratchRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-rules-'));
  cpSync(rulesDir, dir, { recursive: true });
  return dir;
}

describe('the rule pack', () => {
  const results = runFixtures(core.ruleSet, core.catalogue, readBaseClaim(rulesDir));

  it('has a hit and a miss fixture for every rule, and every fixture passes', async () => {
    const all = await results;
    expect(all.length).toBeGreaterThanOrEqual(2 * core.ruleSet.rules.length);
    expect(all.filter((r) => !r.passed)).toEqual([]);
  });

  it('covers every rule class the issue asks for', () => {
    const classes = new Set(core.ruleSet.rules.map((r) => r.file.basis.ruleClass));
    for (const cls of [
      '药品区分性别使用',
      '医疗服务项目区分性别使用',
      '药品儿童专用',
      '医疗服务项目儿童专用',
      '药品限儿童使用',
      '药品限工伤保险',
      '药品限生育保险',
      '药品限就医方式',
      '药品限医疗机构级别',
      '医疗服务项目重复收费',
      '医疗服务项目限定频次',
      '中药饮片单复方均不予支付',
      '中药饮片单方使用不予支付',
      '超互联网医院药品支付范围',
      '药品限支付疗程',
      '计费日期与住院时间不符',
      '药品限最大开药天数/开药量',
      '参保人死亡后发生医疗费用',
    ]) {
      expect(classes, cls).toContain(cls);
    }
  });

  it('cites the national code of each class: the 1.0 GZ code where one exists, else NHSA2025-<seq>', () => {
    for (const { file } of core.ruleSet.rules) {
      const row = core.catalogue.ruleClass(file.basis.ruleClass);
      if (row) expect(file.basis.code, file.id).toBe(row.basisCode);
      else expect(file.basis.code, file.id).toMatch(/^FG-\d{4}$/);
    }
  });

  it('references the generated JSON Schema from every rule file, and the schema is current', () => {
    const committed = readFileSync(join(rulesDir, 'schema', 'rule.schema.json'), 'utf8');
    expect(committed).toBe(ruleJsonSchema());
    for (const { file } of core.ruleSet.rules) expect(file.$schema).toBe('./schema/rule.schema.json');
  });
});

describe('the generated JSON Schema', () => {
  interface Leaf {
    properties: { fact?: { const: string }; path: { enum: string[] } };
  }
  interface Clause {
    if: { properties: { subject: { const: string } } };
    then: {
      required?: string[];
      properties: { atRisk: { properties: { beyond: { properties: { path: { enum: string[] } } } } } };
    };
  }
  const schema: {
    properties: { subject: { enum: string[] } };
    $defs: Record<string, { anyOf: Leaf[] }>;
    allOf: Clause[];
  } = JSON.parse(ruleJsonSchema());
  /** The `path` values the schema allows for `fact` in a condition of a `subject` rule. */
  const pathsFor = (subject: string, fact: string): string[] => {
    const leaf = schema.$defs[`condition-${subject}`]?.anyOf.find((c) => c.properties.fact?.const === fact);
    return leaf?.properties.path.enum ?? [];
  };

  it('enumerates subject kinds, facts and operators, so an editor completes them', () => {
    expect(schema.properties.subject.enum).toEqual(
      expect.arrayContaining(['item', 'course', 'historySupply']),
    );
    expect(JSON.stringify(schema.$defs)).toContain('"enum":["equal","notEqual","in","notIn"');
    expect(
      schema.$defs['condition-course']?.anyOf.map((c) => c.properties.fact?.const).filter(Boolean),
    ).toEqual(['subject', 'restriction', 'patient', 'hospital', 'visit', 'params']);
  });

  it('allows per subject kind only the paths that kind offers', () => {
    expect(pathsFor('course', 'subject')).toEqual(['$.distinctDays', '$.firstDate', '$.lastDate', '$.name']);
    expect(pathsFor('dailyQuantity', 'subject')).toContain('$.quantity');
    expect(pathsFor('course', 'subject')).not.toContain('$.quantity');
    expect(pathsFor('exclusivePair', 'subject')).toContain('$.b.amount');
    expect(pathsFor('item', 'patient')).toContain('$.ageYears');
    expect(pathsFor('item', 'restriction')).toContain('$.maxDays');
    const course = schema.allOf.find((c) => c.if.properties.subject.const === 'historyCourse');
    expect(course?.then.required).toEqual(['historyDays']);
    expect(course?.then.properties.atRisk.properties.beyond.properties.path.enum).toContain('$.dayNo');
  });
});

describe('loading rule files', () => {
  it('names the file and the path of a schema error', () => {
    const dir = scratchRules();
    const path = join(dir, 'drug-sex.json');
    const rule = JSON.parse(readFileSync(path, 'utf8'));
    rule.severity = 'severe';
    rule.conditions.all[0].operator = 'isDifferent';
    writeFileSync(path, JSON.stringify(rule));
    expect(() => loadRuleSet(dir)).toThrow(RuleSetError);
    try {
      loadRuleSet(dir);
    } catch (error) {
      expect((error as RuleSetError).problems).toEqual([
        expect.stringMatching(
          /drug-sex\.json: severity: expected one of "low", "medium", "high", got "severe"$/,
        ),
      ]);
    }
  });

  it('rejects unknown facts and operators with the condition path', () => {
    const dir = scratchRules();
    const path = join(dir, 'drug-sex.json');
    const rule = JSON.parse(readFileSync(path, 'utf8'));
    rule.conditions.all[0].operator = 'isDifferent';
    rule.conditions.all[0].value = { fact: 'doctor', path: '$.sex' };
    writeFileSync(path, JSON.stringify(rule));
    expect(() => loadRuleSet(dir)).toThrow(/conditions\.all\[0\]\.operator: unknown operator "isDifferent"/);
    expect(() => loadRuleSet(dir)).toThrow(/conditions\.all\[0\]\.value\.fact: unknown fact "doctor"/);
  });

  it('refuses a rule class the catalogue has no knowledge points for', () => {
    const dir = scratchRules();
    const path = join(dir, 'drug-sex.json');
    const rule = JSON.parse(readFileSync(path, 'utf8'));
    rule.when.ruleClass = rule.basis.ruleClass = '药品区分星座使用';
    writeFileSync(path, JSON.stringify(rule));
    expect(() => loadCore(dir)).toThrow(/when\.ruleClass: "药品区分星座使用" has no knowledge points/);
  });

  it('reports a file that is not JSON by name', () => {
    const dir = scratchRules();
    writeFileSync(join(dir, 'broken.json'), '{ "id": ');
    expect(() => loadRuleSet(dir)).toThrow(/broken\.json: not valid JSON/);
  });
});

describe('json-rules-engine with plain paths', () => {
  it('treats a one-element array as an array, so contains works (JSONPath would return a scalar)', async () => {
    const engine = newEngine(
      { all: [{ fact: 'restriction', path: '$.visitTypes', operator: 'contains', value: 'inpatient' }] },
      'T-CONTAINS',
    );
    const { events } = await engine.run({ restriction: { visitTypes: ['inpatient'] } });
    expect(events).toHaveLength(1);
    expect(plainPathResolver({ a: { b: [1] } }, '$.a.b')).toEqual([1]);
  });

  it('fails loudly when a rule asks for a fact the core does not provide', async () => {
    const engine = newEngine(
      { all: [{ fact: 'doctor', path: '$.id', operator: 'equal', value: 1 }] },
      'T-UNDEF',
    );
    await expect(engine.run({})).rejects.toThrow(/Undefined fact: doctor/);
  });
});
