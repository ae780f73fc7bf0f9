import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { deepMerge, readBaseClaim, runFixtures } from '../../src/rules/fixtures.ts';
import { defaultRulesDir, loadRuleSet, ruleFilePaths } from '../../src/rules/load.ts';

const rulesDir = defaultRulesDir();
const base = readBaseClaim(rulesDir);

/** A scratch copy of rules/ an author may add to or break. */
function scratchRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-author-'));
  cpSync(rulesDir, dir, { recursive: true });
  return dir;
}

/** A rule file as JSON, for a test to edit: only the fields these tests touch are typed. */
interface RuleJson {
  subject: string;
  scope: string;
  message: string;
  historyDays?: number;
  params?: Record<string, number>;
  when: { requires?: string[] };
  conditions: { all: [{ path: string; value: { fact: string; path: string } }] };
  atRisk: { beyond: { path: string; limit: { fact: string; path: string } } };
  fixtures: [{ claim: Record<string, unknown> }];
}

const readRule = (dir: string, name: string): RuleJson => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const writeRule = (dir: string, name: string, rule: unknown) =>
  writeFileSync(join(dir, name), `${JSON.stringify(rule, null, 2)}\n`);

/** One line a day of 减重支持系统训练 (paid for at most 30 days), from `from` on. */
function trainingDays(days: number, from = '2026-09-01') {
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => ({
    lineNo: i + 1,
    code: '003402000210000',
    name: '减重支持系统训练',
    category: 'service',
    quantity: 1,
    unitPrice: 40,
    amount: 40,
    serviceDate: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
  }));
}

const stay = { type: 'inpatient', admittedAt: '2026-09-01', dischargedAt: '2026-10-10' };

/**
 * 医疗服务项目限支付疗程: the catalogue parses these knowledge points ("支付不超过30天"). The
 * pack's rules/service-course.json checks them; here an author writes the same rule as a local
 * one of their own, in place of the pack's file, with this one file and no code. Whether the days
 * are billed days or calendar days the text does not say, so the rule says `suspicious`.
 */
const serviceCourseRule = (basisCode: string) => ({
  $schema: './schema/rule.schema.json',
  id: 'LOCAL-SERVICE-COURSE',
  version: 1,
  title: '医疗服务项目限支付疗程',
  stages: ['pre', 'in', 'post'],
  scope: 'claim',
  subject: 'course',
  when: { ruleClass: '医疗服务项目限支付疗程', categories: ['service'] },
  severity: 'medium',
  result: 'suspicious',
  action: { pre: 'alert', in: 'hold', post: 'flag' },
  basis: { ruleClass: '医疗服务项目限支付疗程', code: basisCode },
  message:
    '{{subject.name}}支付不超过{{restriction.maxDays}}天，本次计费{{subject.distinctDays}}天（{{subject.firstDate}}至{{subject.lastDate}}）',
  effective: { from: '2025-01-01' },
  conditions: {
    all: [
      {
        fact: 'subject',
        path: '$.distinctDays',
        operator: 'greaterThan',
        value: { fact: 'restriction', path: '$.maxDays' },
      },
    ],
  },
  atRisk: { beyond: { path: '$.dayNo', limit: { fact: 'restriction', path: '$.maxDays' } } },
  fixtures: [
    {
      name: 'a 30-day training billed on 31 days of a stay',
      expect: 'hit',
      lineNos: [31],
      claim: { visit: stay, items: trainingDays(31) },
    },
    { name: 'the same training on 30 days', expect: 'miss', claim: { visit: stay, items: trainingDays(30) } },
  ],
});

describe('an author adds a rule of an existing kind with one JSON file', () => {
  const dir = scratchRules();
  rmSync(join(dir, 'service-course.json'));
  const basisCode = loadCore().catalogue.ruleClass('医疗服务项目限支付疗程')?.basisCode ?? '';
  writeRule(dir, 'service-course.json', serviceCourseRule(basisCode));
  const core = loadCore(dir);

  it('lints, and its fixtures pass through the real screener', async () => {
    expect(basisCode).toMatch(/^(GZ|NHSA2025-)/);
    expect(core.ruleSet.rule('LOCAL-SERVICE-COURSE')?.kind.name).toBe('course');
    const results = await runFixtures(core.ruleSet, core.catalogue, base);
    expect(
      results.filter((r) => r.ruleId === 'LOCAL-SERVICE-COURSE').map((r) => [r.fixture, r.passed]),
    ).toEqual([
      ['a 30-day training billed on 31 days of a stay', true],
      ['the same training on 30 days', true],
    ]);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });

  it('flags the days past the course, with their amount at risk and the knowledge point', async () => {
    const claim = Claim.parse(deepMerge(base, { visit: stay, items: trainingDays(33) }));
    const { flags } = await core.screener.screen(claim, {
      stage: 'in',
      now: new Date('2026-10-11T00:00:00Z'),
    });
    const flag = flags.find((f) => f.ruleId === 'LOCAL-SERVICE-COURSE');
    expect(flag).toMatchObject({
      lineNos: [31, 32, 33],
      amountAtRisk: 120,
      result: 'suspicious',
      action: 'hold',
      message: '减重支持系统训练支付不超过30天，本次计费33天（2026-09-01至2026-10-03）',
      basis: { ruleClass: '医疗服务项目限支付疗程', text: '支付不超过30天。' },
    });
  });

  it('lints from the CLI, which warns that no generator injector breaks it yet', () => {
    const run = spawnSync(process.execPath, ['bin/fundguard.js', 'rules', 'lint', '--rules', dir], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    // The pack's rules, the local one in place of the pack's service-course.json.
    expect(run.stdout).toMatch(new RegExp(`^${ruleFilePaths(rulesDir).length} rules valid`));
    expect(run.stderr).toBe(
      'warning: no generator injector for LOCAL-SERVICE-COURSE: generated streams never break them\n',
    );
    const pack = spawnSync(process.execPath, ['bin/fundguard.js', 'rules', 'lint'], { encoding: 'utf8' });
    expect(pack.stderr).toBe('');
  });

  it('is screened by the CLI from the rules directory given', () => {
    const run = spawnSync(process.execPath, ['bin/fundguard.js', 'rules', 'test', '--rules', dir], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      'ok    LOCAL-SERVICE-COURSE  hit: a 30-day training billed on 31 days of a stay',
    );
  });
});

describe('the rule file says what is at risk', () => {
  it('follows an edited limit: lines and amount come from atRisk, not from the catalogue restriction', async () => {
    const dir = scratchRules();
    const rule = readRule(dir, 'drug-course.json');
    // The author pays only 8 of the catalogue's 10 days: the flag must name days 9–11, not day 11.
    rule.params = { payableDays: 8 };
    rule.conditions.all[0].value = { fact: 'params', path: '$.payableDays' };
    rule.atRisk.beyond.limit = { fact: 'params', path: '$.payableDays' };
    writeRule(dir, 'drug-course.json', rule);
    const core = loadCore(dir);
    const hit = rule.fixtures[0];
    const claim = Claim.parse(deepMerge(base, hit.claim));
    const { flags } = await core.screener.screen(claim, {
      stage: 'in',
      now: new Date('2026-10-04T00:00:00Z'),
    });
    expect(
      flags.filter((f) => f.ruleId === 'GZ-DRUG-COURSE').map((f) => [f.lineNos, f.amountAtRisk]),
    ).toEqual([[[9, 10, 11], 30]]);
  });

  it('takes the units past the daily limit at their unit price, and names every line of the day', async () => {
    const core = loadCore();
    const fee = {
      code: '001102000050000',
      name: '住院诊查费',
      category: 'service',
      serviceDate: '2026-10-03',
    };
    const claim = Claim.parse(
      deepMerge(base, {
        visit: { type: 'inpatient', admittedAt: '2026-10-01', dischargedAt: '2026-10-05' },
        items: [
          { lineNo: 1, ...fee, quantity: 1, unitPrice: 10, amount: 10 },
          { lineNo: 2, ...fee, quantity: 2, unitPrice: 12, amount: 24 },
        ],
      }),
    );
    const { flags } = await core.screener.screen(claim, {
      stage: 'in',
      now: new Date('2026-10-04T00:00:00Z'),
    });
    // One a day is payable: line 1's unit, then line 2's two units are beyond it.
    expect(
      flags.filter((f) => f.ruleId === 'GZ-SERVICE-FREQUENCY').map((f) => [f.lineNos, f.amountAtRisk]),
    ).toEqual([[[1, 2], 24]]);
  });
});

describe('the linter checks a rule against what its subject kind offers', () => {
  const lintProblems = (edit: (rule: RuleJson) => void, file = 'drug-course.json'): string[] => {
    const dir = scratchRules();
    const rule = readRule(dir, file);
    edit(rule);
    writeRule(dir, file, rule);
    try {
      loadRuleSet(dir);
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('names the file and the path of a subject fact the kind does not offer', () => {
    expect(
      lintProblems((rule) => {
        rule.conditions.all[0].path = '$.distinctDayz';
      }),
    ).toEqual([
      expect.stringMatching(
        /drug-course\.json: conditions\.all\[0\]\.path: subject has no "\$\.distinctDayz" for subject "course"$/,
      ),
    ]);
  });

  it('checks restriction paths, message placeholders, when.requires and atRisk line facts', () => {
    const problems = lintProblems((rule) => {
      rule.conditions.all[0].value.path = '$.maxDayz';
      rule.message = '{{subject.nam}}';
      rule.when.requires = ['patient.deathDat'];
      rule.atRisk.beyond.path = '$.day';
    });
    expect(problems.map((p) => p.replace(/^.*drug-course\.json: /, ''))).toEqual([
      'conditions.all[0].value.path: restriction has no "$.maxDayz" for subject "course"',
      'message: subject has no "nam" for subject "course"',
      'when.requires[0].path: patient has no "$.deathDat" for subject "course"',
      expect.stringMatching(
        /^atRisk\.beyond\.path: subject "course" has no line fact "\$\.day" \(known: .*\$\.dayNo/,
      ),
    ]);
  });

  it('checks the fact an atRisk amount is read from', () => {
    const problems = lintProblems((rule) => {
      (rule.atRisk as unknown as { amount: unknown }).amount = { fact: 'subject', path: '$.totalsExces' };
    }, 'settlement-totals.json');
    expect(problems).toEqual([
      expect.stringMatching(
        /settlement-totals\.json: atRisk\.amount\.path: subject has no "\$\.totalsExces" for subject "claim"$/,
      ),
    ]);
  });

  it('refuses a subject kind the registry does not have, and a history kind without its window', () => {
    expect(
      lintProblems((rule) => {
        rule.subject = 'courze';
      }),
    ).toEqual([
      expect.stringMatching(
        /subject: unknown subject kind "courze" \(known: item, day, .*historySupply(, \w+)*\)$/,
      ),
    ]);
    expect(
      lintProblems((rule) => {
        delete rule.historyDays;
      }, 'drug-course-history.json'),
    ).toEqual([expect.stringMatching(/historyDays: required for subject "historyCourse"/)]);
    expect(
      lintProblems((rule) => {
        rule.scope = 'item';
      }),
    ).toEqual([expect.stringMatching(/scope: subject "course" has scope "claim", got "item"$/)]);
  });
});
