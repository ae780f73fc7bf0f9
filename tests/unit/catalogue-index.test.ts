import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CatalogueImportError,
  formatCoverage,
  importCatalogue,
  writeCatalogue,
} from '../../src/catalogue/import.ts';
import { Catalogue, CatalogueLoadError, loadCatalogue } from '../../src/catalogue/index.ts';
import type { CatalogueFile, KnowledgePoint, Restriction, RuleClass } from '../../src/catalogue/schema.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/nhsa-sample', import.meta.url));

const scratchDirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-catalogue-'));
  scratchDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the fixture with one file replaced, for error cases. */
function fixtureWith(relativePath: string, content: string): string {
  const dir = scratch();
  cpSync(fixtureDir, dir, { recursive: true });
  writeFileSync(join(dir, relativePath), content);
  return dir;
}

function importError(sourceDir: string): CatalogueImportError {
  try {
    importCatalogue(sourceDir);
  } catch (error) {
    if (error instanceof CatalogueImportError) return error;
    throw error;
  }
  throw new Error('expected importCatalogue to fail');
}

describe('importCatalogue', () => {
  const { catalogue, ruleClasses } = importCatalogue(fixtureDir);
  const kp = (id: string) => catalogue.knowledgePoints.find((k) => k.kpId === id);

  it('replaces a superseded knowledge point with its update and records the link', () => {
    expect(kp('KP-a000000000000001')).toBeUndefined();
    expect(kp('KP-c000000000000001')).toMatchObject({
      supersedes: 'KP-a000000000000001',
      codes: ['XL02BBA326A001010102180', 'XL02BBA326A001010178537'],
      restriction: { kind: 'sex', sex: 'M' },
    });
    expect(catalogue.supersededBy).toEqual({ 'KP-a000000000000001': 'KP-c000000000000001' });
  });

  it('lists active knowledge points by batch, then source row, with updates last', () => {
    expect(catalogue.knowledgePoints.map((k) => k.kpId)).toEqual([
      'KP-a000000000000002',
      'KP-a000000000000004',
      'KP-b000000000000001',
      'KP-b000000000000002',
      'KP-b000000000000003',
      'KP-550f1580a2a06b4c',
      'KP-71f1eee8f4c0b34d',
      'KP-c000000000000001',
      'KP-c000000000000002',
    ]);
  });

  it('counts every record read, and active, parsed and graded over the points left after updates', () => {
    expect(catalogue.coverage).toMatchObject({
      read: 11,
      superseded: 1,
      active: 9,
      parsed: 9,
      keptAsText: 0,
      graded: 1,
    });
    expect(catalogue.coverage.byRuleClass.find((row) => row.ruleClass === '药品区分性别使用')).toEqual({
      ruleClass: '药品区分性别使用',
      read: 3,
      superseded: 1,
      active: 2,
      parsed: 2,
      keptAsText: 0,
      graded: 0,
    });
  });

  it('grades PTCA × coronary angiography suspicious, citing the row of the same source that prices them separately', () => {
    const ptca = kp('KP-550f1580a2a06b4c');
    expect(ptca?.restriction).toEqual({
      kind: 'exclusivePair',
      codes: ['003205000020000', '003205000010000'],
    });
    expect(ptca?.grade?.result).toBe('suspicious');
    expect(ptca?.grade?.reason).toContain(
      '003205000020100「经皮冠状动脉腔内成形术(PTCA)(若冠状动脉造影术后立即进行PTCA术，应视作二次手术分别计价)」',
    );
    expect(kp('KP-b000000000000001')?.grade).toBeNull();
  });

  it('leaves a row without codes out of the knowledge points and names it in the file comment', () => {
    expect(kp('KP-a000000000000003')).toBeUndefined();
    expect(catalogue.$comment).toContain('KP-a000000000000003');
  });

  it('takes basisCode from gz_code, else the 1.0 code by rule name, else NHSA2025-<seq>', () => {
    expect(kp('KP-a000000000000002')?.basisCode).toBe('GZ10000302004000');
    expect(kp('KP-b000000000000003')).toMatchObject({ gzCode: null, basisCode: 'GZ10000101012000' });
    expect(kp('KP-b000000000000002')).toMatchObject({ gzCode: null, basisCode: 'NHSA2025-13' });
  });

  it('uses childMaxAgeYears for child restrictions', () => {
    const younger = importCatalogue(fixtureDir, { childMaxAgeYears: 13 }).catalogue;
    expect(younger.knowledgePoints.find((k) => k.kpId === 'KP-a000000000000004')?.restriction).toEqual({
      kind: 'age',
      label: '儿童',
      maxAgeYears: 13,
    });
  });

  it('merges the 2025 classes (in seq order) with their 1.0 rows, then adds unmapped 1.0 classes', () => {
    expect(ruleClasses.ruleClasses.map((rc) => [rc.name, rc.basisCode, rc.seq2025])).toEqual([
      ['药品限医疗机构级别', 'GZ10000101012000', 12],
      ['药品限就医方式', 'NHSA2025-13', 13],
      ['医疗服务项目重复收费', 'GZ10000102012000', 25],
      ['药品儿童专用', 'GZ10000301002000', 65],
      ['药品区分性别使用', 'GZ10000301004000', 67],
      ['医疗服务项目区分性别使用', 'GZ10000302004000', 81],
      ['药品限最大支付天数/开药量', 'GZ10000101009000', null],
      ['药品种类超标', 'GZ10000202004000', null],
    ]);
  });

  it('repairs the PDF damage in 1.0 definitions: split words and glued tier names', () => {
    const byName = new Map(ruleClasses.ruleClasses.map((rc) => [rc.name, rc]));
    expect(byName.get('药品儿童专用')?.definition).toBe('对仅适用于儿童的药物进行监管。');
    expect(byName.get('药品限医疗机构级别')?.definition).toBe(
      '对《国家基本医疗保险、工伤保险和生育保险药品目录》及《医保药品分类与代码数据库》中有限医疗机构级别使用的药品进行监管。',
    );
    expect(byName.get('药品限就医方式')).toMatchObject({ gzCode: null, definition: null, newIn2025: true });
  });

  it('produces the same JSON on every import', () => {
    expect(JSON.stringify(importCatalogue(fixtureDir))).toBe(JSON.stringify(importCatalogue(fixtureDir)));
  });

  it('writes byte-identical files on every run', () => {
    const [first, second] = [scratch(), scratch()];
    const pathsA = writeCatalogue(importCatalogue(fixtureDir), first);
    const pathsB = writeCatalogue(importCatalogue(fixtureDir), second);
    expect(pathsA.map((p) => p.slice(first.length))).toEqual([
      '/knowledge-points.json',
      '/rule-classes.json',
    ]);
    pathsA.forEach((path, i) => {
      expect(readFileSync(path).equals(readFileSync(pathsB[i] ?? ''))).toBe(true);
    });
  });

  it('prints a coverage table: totals, then read, superseded, active, parsed, suspicious and evaluated per class', () => {
    const table = formatCoverage(
      catalogue,
      new Map([
        ['药品区分性别使用', { ruleIds: ['GZ-DRUG-SEX'], reference: [] }],
        ['重复开药', { ruleIds: ['GZ-REPEAT-PRESCRIPTION'], reference: [] }],
        ['诊断与患者性别不符', { ruleIds: ['NHSA-DIAGNOSIS-SEX'], reference: ['diagnosis-edits.json'] }],
      ]),
    );
    expect(table).toMatch(/parsed into a restriction\s+9 {2}\(100\.0% of active\)/);
    expect(table).toMatch(/evaluated by a rule\s+2 {2}\(22\.2% of active\)/);
    expect(table).toMatch(/药品区分性别使用\s+3\s+1\s+2\s+2\s+0\s+2/);
    expect(table).toMatch(/医疗服务项目重复收费\s+3\s+0\s+3\s+3\s+1\s+0/);
    expect(table).toMatch(
      /evaluated by public reference data, without knowledge points:\n\s+诊断与患者性别不符\s+NHSA-DIAGNOSIS-SEX\s+\(rules\/reference\/diagnosis-edits\.json\)/,
    );
    expect(table).toMatch(
      /evaluated by the claim itself, without knowledge points:\n\s+重复开药\s+GZ-REPEAT-PRESCRIPTION/,
    );
    const withClasses = formatCoverage(
      catalogue,
      new Map([
        ['药品区分性别使用', { ruleIds: ['GZ-DRUG-SEX'], reference: [] }],
        // Classes of the edition without points, checked against reference data or by the claim alone.
        ['诊断与患者性别不符', { ruleIds: ['NHSA-DIAGNOSIS-SEX'], reference: ['diagnosis-edits.json'] }],
        ['结算明细信息异常', { ruleIds: ['NHSA-SETTLEMENT-TOTALS'], reference: [] }],
        ['同一项目同日重复结算', { ruleIds: ['FG-HISTORY-SAME-DAY'], reference: [] }],
      ]),
      [
        ...ruleClasses.ruleClasses,
        ...['诊断与患者性别不符', '结算明细信息异常'].map((name, i) => ({
          name,
          basisCode: `NHSA2025-${80 + i}`,
          gzCode: null,
          seq2025: 80 + i,
          tier1: '管理类',
          tier2: '诊疗信息类',
          definition: null,
          newIn2025: true,
        })),
      ],
    );
    expect(withClasses).toMatch(
      /rule classes evaluated by a rule: 3 of the 2025 edition's \d+ \(1 by knowledge points, 1 by public reference data, 1 by the claim itself\), 1 of FundGuard's own \(同一项目同日重复结算\)/,
    );
  });

  it('names the directory when the source directory is missing', () => {
    const missing = join(fixtureDir, 'no-such-dir');
    expect(importError(missing)).toMatchObject({ file: missing, reason: 'source directory not found' });
  });

  it('names the file when a batch is not valid JSON', () => {
    const error = importError(fixtureWith('batches/batch_07.json', '[{"kp_id": '));
    expect(error.file).toMatch(/batches\/batch_07\.json$/);
    expect(error.reason).toMatch(/^is not valid JSON/);
  });

  it('names the file and field when a record has the wrong shape', () => {
    const error = importError(fixtureWith('batches/batch_07.json', '[{"kp_id": "KP-x"}]'));
    expect(error.message).toMatch(/batch_07\.json: does not have the expected shape: \[0\]\.rule_class/);
  });

  it('rejects an update that supersedes a knowledge point no batch lists', () => {
    const updates = readFileSync(join(fixtureDir, 'batches/updates_2026-01.json'), 'utf8').replace(
      '"supersedes": "KP-a000000000000001"',
      '"supersedes": "KP-ffffffffffffffff"',
    );
    expect(importError(fixtureWith('batches/updates_2026-01.json', updates)).reason).toBe(
      'KP-c000000000000001 supersedes KP-ffffffffffffffff, which no batch lists',
    );
  });
});

const rowOf = (name: string, basisCode: string): RuleClass => ({
  name,
  basisCode,
  gzCode: basisCode,
  seq2025: null,
  tier1: '政策类',
  tier2: '药品政策限定类',
  definition: null,
  newIn2025: false,
});

let nextKp = 0;
function knowledgePoint(restriction: Restriction, codes: string[], itemName = '某药'): KnowledgePoint {
  nextKp += 1;
  return {
    kpId: `KP-test-${nextKp}`,
    ruleClass: '药品限支付疗程',
    basisCode: 'GZ10000101010000',
    gzCode: 'GZ10000101010000',
    itemName,
    codes,
    text: '',
    detectLogic: null,
    batch: 'batch_06',
    publishedAt: null,
    supersedes: null,
    supersededOn: null,
    restriction,
    keptAsText: null,
    grade: null,
  };
}

function catalogueOf(knowledgePoints: KnowledgePoint[], ruleClasses: RuleClass[] = []): Catalogue {
  const file: CatalogueFile = {
    $comment: '',
    source: 'test',
    coverage: { read: 0, superseded: 0, active: 0, parsed: 0, keptAsText: 0, graded: 0, byRuleClass: [] },
    supersededBy: {},
    knowledgePoints,
    supersededPoints: [],
  };
  return new Catalogue(file, ruleClasses);
}

describe('Catalogue', () => {
  it('keeps the smaller maxDays when two active points limit the course of one code', () => {
    const longer = knowledgePoint({ kind: 'course', scope: 'total', maxDays: 14 }, ['X1']);
    const shorter = knowledgePoint({ kind: 'course', scope: 'total', maxDays: 3 }, ['X1']);
    expect(catalogueOf([longer, shorter]).entry('X1')?.restrictions.course).toEqual({
      restriction: { kind: 'course', scope: 'total', maxDays: 3 },
      kp: shorter,
    });
  });

  it('keeps the higher minimum hospital level whichever comes first', () => {
    const level3 = knowledgePoint({ kind: 'hospitalLevel', minLevel: 3 }, ['X1']);
    const level2 = knowledgePoint({ kind: 'hospitalLevel', minLevel: 2 }, ['X1']);
    expect(catalogueOf([level3, level2]).entry('X1')?.restrictions.hospitalLevel?.kp).toBe(level3);
  });

  it('keeps the narrower age band and, on a tie, the first point', () => {
    const child = knowledgePoint({ kind: 'age', label: '儿童', maxAgeYears: 17 }, ['X1']);
    const newborn = knowledgePoint({ kind: 'age', label: '新生儿', maxAgeDays: 28 }, ['X1']);
    const sameSex = [
      knowledgePoint({ kind: 'sex', sex: 'F' }, ['X2']),
      knowledgePoint({ kind: 'sex', sex: 'F' }, ['X2']),
    ];
    const catalogue = catalogueOf([child, newborn, ...sameSex]);
    expect(catalogue.entry('X1')?.restrictions.age?.kp).toBe(newborn);
    expect(catalogue.entry('X2')?.restrictions.sex?.kp).toBe(sameSex[0]);
  });

  it('keeps one restriction per kind side by side for a code', () => {
    const entry = catalogueOf([
      knowledgePoint({ kind: 'sex', sex: 'F' }, ['X1'], '缩宫素注射液'),
      knowledgePoint({ kind: 'insuranceType', insuranceTypes: ['maternity'] }, ['X1']),
    ]).entry('X1');
    expect(entry?.name).toBe('缩宫素注射液');
    expect(Object.keys(entry?.restrictions ?? {})).toEqual(['sex', 'insuranceType']);
  });

  it('lists each code of a repeated-charge pair as the partner of the other', () => {
    const pair = knowledgePoint(
      { kind: 'exclusivePair', codes: ['S1', 'S2'] },
      ['S1', 'S2'],
      '急诊监护费×急诊诊查费',
    );
    const catalogue = catalogueOf([pair]);
    expect(catalogue.exclusivePartners('S1')).toEqual([{ code: 'S2', kp: pair }]);
    expect(catalogue.exclusivePartners('S2')).toEqual([{ code: 'S1', kp: pair }]);
    expect(catalogue.exclusivePartners('S3')).toEqual([]);
  });

  it("names a pair-only code from its half of the pair's title, and other codes from their own point", () => {
    const own = knowledgePoint({ kind: 'frequency', unit: 'day', maxPerDay: 1 }, ['S2'], '急诊诊查费(日)');
    const pair = knowledgePoint(
      { kind: 'exclusivePair', codes: ['S1', 'S2'] },
      ['S1', 'S2'],
      '急诊监护费×急诊诊查费',
    );
    const catalogue = catalogueOf([pair, own]);
    expect(catalogue.entry('S1')).toEqual({ code: 'S1', name: '急诊监护费', restrictions: {} });
    expect(catalogue.entry('S2')?.name).toBe('急诊诊查费(日)');
  });

  it('returns undefined for a code the catalogue does not restrict', () => {
    expect(catalogueOf([]).entry('X9')).toBeUndefined();
  });

  it('lists the codes with a kind in sorted order, pair codes included', () => {
    const catalogue = catalogueOf([
      knowledgePoint({ kind: 'sex', sex: 'M' }, ['X3', 'X1']),
      knowledgePoint({ kind: 'sex', sex: 'F' }, ['X2']),
      knowledgePoint({ kind: 'exclusivePair', codes: ['S2', 'S1'] }, ['S2', 'S1']),
    ]);
    expect(catalogue.codesWith('sex')).toEqual(['X1', 'X2', 'X3']);
    expect(catalogue.codesWith('exclusivePair')).toEqual(['S1', 'S2']);
    expect(catalogue.codesWith('cycle')).toEqual([]);
  });

  it('finds a rule class by name', () => {
    const row = rowOf('药品限支付疗程', 'GZ10000101010000');
    expect(catalogueOf([], [row]).ruleClass('药品限支付疗程')).toBe(row);
    expect(catalogueOf([], [row]).ruleClass('没有这个规则')).toBeUndefined();
  });
});

describe('the committed rules/catalogue', () => {
  const catalogue = loadCatalogue();

  it('parses at least 2,400 of the 3,501 active NHSA knowledge points, superseded ones not counted', () => {
    const c = catalogue.file.coverage;
    expect(c.read).toBe(3899);
    expect(c.active).toBe(catalogue.knowledgePoints.length);
    expect(c.active + c.superseded).toBeLessThan(c.read + 1);
    expect(c.parsed).toBe(catalogue.knowledgePoints.filter((k) => k.restriction).length);
    expect(c.parsed).toBeGreaterThanOrEqual(2400);
  });

  it('restricts 阿帕他胺片 to men through the 2026-01 update that superseded batch_01', () => {
    const sex = catalogue.entry('XL02BBA326A001010178537')?.restrictions.sex;
    expect(sex?.restriction).toEqual({ kind: 'sex', sex: 'M' });
    expect(sex?.kp).toMatchObject({ batch: 'updates_2026-01', supersedes: 'KP-630264b3f1586762' });
    expect(catalogue.file.supersededBy['KP-630264b3f1586762']).toBe(sex?.kp.kpId);
  });

  it('knows the repeated-charge partners of 急诊监护费', () => {
    expect(catalogue.exclusivePartners('001103000010000').map((p) => p.code)).toContain('001102000030000');
  });

  it('cites the 1.0 code of a rule class and NHSA2025-<seq> for a class new in 2025', () => {
    expect(catalogue.ruleClass('药品区分性别使用')?.basisCode).toBe('GZ10000301004000');
    expect(catalogue.ruleClass('药品限就医方式')?.basisCode).toBe('NHSA2025-13');
  });

  it('names the missing file when the catalogue directory is empty', () => {
    const dir = scratch();
    expect(() => loadCatalogue(dir)).toThrow(CatalogueLoadError);
    expect(() => loadCatalogue(dir)).toThrow(/knowledge-points\.json: cannot be read as JSON/);
  });
});
