import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importCatalogue } from '../../src/catalogue/import.ts';
import { CatalogueLoadError } from '../../src/catalogue/index.ts';
import {
  formatIndicationCoverage,
  IndicationDiseases,
  icd10Matches,
  indicationCoverage,
  loadIndicationDiseases,
  parseIndication,
} from '../../src/catalogue/indications.ts';
import { parseConstraint } from '../../src/catalogue/parse.ts';
import { loadCore } from '../../src/core.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { claim as claimOf, line } from '../helpers/claims.ts';

// Texts are copied from the NHSA extract (batches 12–17) unless a test says otherwise.
const diseases = loadIndicationDiseases(join(defaultRulesDir(), 'reference'));
const read = (text: string) => parseIndication(text, diseases);

describe('ICD-10 keys of the disease mapping', () => {
  it.each([
    ['E11', 'E11.900', true],
    ['E11', 'e11.9', true],
    ['E11', 'E10.900', false],
    ['K70.3', 'K70.301', true],
    ['K70.3', 'K70.400', false],
    ['I10-I13', 'I10.x00', true],
    ['I10-I13', 'I12.000', true],
    ['I10-I13', 'I15.000', false],
    ['M07.0-M07.3', 'M07.2*', true],
    ['M07.0-M07.3', 'M07.4', false],
  ])('%s covers %s: %s', (key, code, expected) => {
    expect(icd10Matches(key, code)).toBe(expected);
  });
});

describe('reading 药品限适应症 texts with the disease mapping', () => {
  it('maps a named disease to its ICD-10 codes, with the pregnancy chapter form', () => {
    expect(read('限2型糖尿病患者。')).toEqual({
      alternatives: [{ diseases: ['2型糖尿病'], icd10: ['E11', 'O24.1'] }],
      unmapped: null,
      reason: null,
    });
  });

  it('lists numbered indications as alternatives, each with its own codes', () => {
    const result = read('限：1.肝细胞癌二线治疗；2.转移性结直肠癌三线治疗；3.胃肠道间质瘤三线治疗。');
    expect(result.alternatives?.map((a) => a.diseases)).toEqual([
      ['肝细胞癌'],
      ['结直肠癌'],
      ['胃肠道间质瘤'],
    ]);
    expect(result.alternatives?.[1]?.icd10).toEqual(['C18-C20']);
  });

  it('reads narrowing words (lines of treatment, markers, severity) without checking them', () => {
    expect(
      read('限间变性淋巴瘤激酶(ALK)阳性的局部晚期或转移性非小细胞肺癌(NSCLC)患者。').alternatives,
    ).toEqual([{ diseases: ['非小细胞肺癌'], icd10: ['C34'] }]);
  });

  it('keeps a text as text when one disease it names is not in the mapping, naming the words', () => {
    const result = read('限有糖尿病诊断且有微循环障碍临床证据的患者。');
    expect(result.alternatives).toBeNull();
    expect(result.unmapped).toEqual(['微循环障碍临床']);
    expect(result.reason).toMatch(/微循环障碍临床/);
  });

  it('keeps a text as text when an alternative is not a disease at all (or maternity insurance)', () => {
    expect(read('限子宫肌瘤患者或生育保险。').unmapped).toEqual(['子宫肌瘤', '生育保险']);
  });

  it('keeps prevention as text: the disease is not yet there to be coded', () => {
    expect(read('限12岁及以上患者预防遗传性血管性水肿(HAE)发作。').unmapped).toContain('预防');
  });

  it('keeps a text whose later sentence states another limit', () => {
    expect(read('限2型糖尿病患者。亦可用于1型糖尿病。').reason).toBe(
      'a later sentence of the text states another limit',
    );
  });

  it('stays text through the importer when a named disease is unmapped', () => {
    const parsed = parseConstraint(
      { ruleClass: '药品限适应症', text: '限头孢菌素耐药或重症感染患者。', codes: ['X'] },
      { indicationDiseases: diseases },
    );
    expect(parsed.restriction).toBeNull();
    expect(parsed.keptAsText).toMatch(/头孢菌素耐药/);
  });

  it('becomes an indication restriction through the importer when every disease maps', () => {
    expect(
      parseConstraint(
        { ruleClass: '药品限适应症', text: '限急性胰腺炎、慢性复发性胰腺炎患者。', codes: ['X'] },
        { indicationDiseases: diseases },
      ).restriction,
    ).toEqual({
      kind: 'indication',
      label: '急性胰腺炎、慢性复发性胰腺炎',
      alternatives: [{ diseases: ['急性胰腺炎', '慢性复发性胰腺炎'], icd10: ['K85', 'K86.0', 'K86.1'] }],
    });
  });

  it('refuses a mapping that lists one name twice', () => {
    const entry = { names: ['痛风'], icd10: ['M10'], title: 'Gout (M10)', source: 'WHO ICD-10 2019, M10' };
    expect(() => new IndicationDiseases({ $comment: '', diseases: [entry, entry] })).toThrow(
      /痛风 is listed twice/,
    );
  });

  it('names the file when the mapping is missing', () => {
    expect(() => loadIndicationDiseases('/nonexistent')).toThrow(CatalogueLoadError);
  });
});

describe('age conditions inside indication texts', () => {
  const ageOf = (text: string) => {
    const [alternative, ...others] = read(text).alternatives ?? [];
    expect(others).toEqual([]);
    const { minAge, maxAgeYears, ageLabel } = alternative ?? {};
    return { minAge, maxAgeYears, ageLabel };
  };

  it('reads 成人 as 18 and over (民法典 第十七条)', () => {
    expect(ageOf('限成人2型糖尿病患者。')).toEqual({
      minAge: { value: 18, unit: 'years' },
      maxAgeYears: undefined,
      ageLabel: '成人',
    });
  });

  it('reads a band with 以下 as excluding its upper number, and the children it describes as that band', () => {
    expect(ageOf('限5至12岁以下单纯性甲型和乙型流感儿童患者。')).toMatchObject({
      minAge: { value: 5, unit: 'years' },
      maxAgeYears: 11,
    });
  });

  it('takes the union of the groups one indication names', () => {
    expect(ageOf('限成人和6岁及以上儿童患者的结节性硬化症相关面部血管纤维瘤。')).toMatchObject({
      minAge: { value: 6, unit: 'years' },
      maxAgeYears: undefined,
    });
    expect(ageOf('限成人和儿童酪氨酸血症Ⅰ型(HT-1)。')).toEqual({
      minAge: undefined,
      maxAgeYears: undefined,
      ageLabel: undefined,
    });
  });

  it('reads ages in months and days', () => {
    expect(ageOf('限3月龄及以上的轻度至中度特应性皮炎患者。').minAge).toEqual({ value: 3, unit: 'months' });
    expect(ageOf('限治疗16日龄及以上患者的脊髓性肌萎缩症(SMA)。').minAge).toEqual({
      value: 16,
      unit: 'days',
    });
  });

  it('gives each numbered indication its own age', () => {
    const result = read('限儿童甲(A)型血友病；成人甲(A)型血友病限出血时使用。');
    expect(result.alternatives?.map((a) => [a.ageLabel, a.minAge?.value, a.maxAgeYears])).toEqual([
      ['儿童', undefined, 17],
      ['成人', 18, undefined],
    ]);
  });

  it('does not read an age from a later sentence that only notes what is not established', () => {
    expect(ageOf('限2型糖尿病患者。尚未确定本品在0-6岁儿童中的安全性和有效性。').ageLabel).toBeUndefined();
  });
});

describe('screening drugs limited to indications', () => {
  const core = loadCore();
  const now = new Date('2026-10-04T00:00:00Z');
  const liraglutide = line(1, 'XA10BJL326B002010101523', '利拉鲁肽注射液', 'drug', { daysSupply: 30 });
  const adultOnly = line(1, 'XA10AED356B002010178997', '德谷胰岛素利拉鲁肽注射液', 'drug', {
    daysSupply: 30,
  });
  const flagsOf = async (patch: Record<string, unknown>) =>
    (await core.screener.screen(claimOf(patch), { stage: 'in', now })).flags.filter(
      (f) => f.ruleId === 'NHSA-DRUG-INDICATION',
    );

  it('holds a drug whose indications none of the diagnoses falls under, as suspicious, citing the point', async () => {
    const [flag, ...others] = await flagsOf({
      diagnoses: [{ code: 'J06.900', primary: true }],
      items: [liraglutide],
    });
    expect(others).toEqual([]);
    expect(flag).toMatchObject({
      result: 'suspicious',
      action: 'hold',
      lineNos: [1],
      basis: { ruleClass: '药品限适应症', code: 'GZ10000101008000', text: '限2型糖尿病。' },
      message: '利拉鲁肽注射液限2型糖尿病：本次诊断（J06.900）不在所列疾病的ICD-10范围内',
    });
  });

  it('passes it when any diagnosis of the claim, primary or not, falls under an indication', async () => {
    expect(
      await flagsOf({
        diagnoses: [
          { code: 'J06.900', primary: true },
          { code: 'E11.900', primary: false },
        ],
        items: [liraglutide],
      }),
    ).toEqual([]);
  });

  it('holds an adults-only drug for a child with the disease, saying the age does not fit', async () => {
    const [flag] = await flagsOf({
      patient: { birthDate: '2012-01-01' },
      diagnoses: [{ code: 'E11.900', primary: true }],
      items: [adultOnly],
    });
    expect(flag?.message).toBe(
      '德谷胰岛素利拉鲁肽注射液限2型糖尿病：诊断相符，但患者14岁不在限定人群（成人）内',
    );
  });

  it('passes the adults-only drug on the eighteenth birthday', async () => {
    expect(
      await flagsOf({
        patient: { birthDate: '2008-10-03' },
        diagnoses: [{ code: 'E11.900', primary: true }],
        items: [adultOnly],
      }),
    ).toEqual([]);
  });

  it('judges nothing on a claim without diagnoses', async () => {
    expect(await flagsOf({ diagnoses: [], items: [liraglutide] })).toEqual([]);
  });
});

describe('indication coverage of the committed catalogue', () => {
  const { catalogue } = loadCore();
  const coverage = indicationCoverage(catalogue.knowledgePoints, diseases);

  it('makes at least 150 of the 510 indication points machine-checkable and counts the rest with reasons', () => {
    expect(coverage.points).toBe(510);
    expect(coverage.checkable).toBeGreaterThanOrEqual(150);
    expect(coverage.checkable + coverage.notCheckable.reduce((n, r) => n + r.points, 0)).toBe(510);
    expect(coverage.withAge).toBeGreaterThan(0);
  });

  it('holds exactly what the mapping reads today: every point re-reads to its committed restriction', () => {
    for (const kp of catalogue.knowledgePoints.filter((k) => k.ruleClass === '药品限适应症')) {
      const again = read(kp.text);
      const alternatives = kp.restriction?.kind === 'indication' ? kp.restriction.alternatives : null;
      expect(alternatives, kp.kpId).toEqual(again.alternatives);
    }
  });

  it('prints the checkable count and the most frequent unmapped words, leaving out single characters', () => {
    const text = formatIndicationCoverage(coverage, 3);
    expect(text).toContain(`machine-checkable        ${String(coverage.checkable).padStart(6)}`);
    const [first] = coverage.unmapped.filter((u) => u.name.length > 1);
    expect(text).toContain(`${first?.name} (${first?.points})`);
    expect(text).not.toMatch(/、不 \(/);
  });
});

describe('importing indication points', () => {
  // The sample extract's rule catalogues with one batch of two 药品限适应症 records as published.
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-indications-'));
  const sample = fileURLToPath(new URL('../fixtures/nhsa-sample', import.meta.url));
  for (const file of ['rule_catalog_1_0_79.json', 'rule_catalog_2025_88.json'])
    cpSync(join(sample, file), join(dir, file));
  const record = (kpId: string, code: string, itemName: string, constraint: string) => ({
    kp_id: kpId,
    rule_class: '药品限适应症',
    gz_code: 'GZ10000101008000',
    med_codes: [code],
    item_name: itemName,
    constraint,
    detect_logic: '使用药品的疾病诊断不符合限定支付适应症',
    batch_tag: 'batch_12',
    published_at: null,
    supersedes: null,
    source: 'NHSA',
  });
  cpSync(join(sample, 'batches'), join(dir, 'batches'), { recursive: true });
  writeFileSync(
    join(dir, 'batches', 'batch_12.json'),
    JSON.stringify([
      record('KP-d000000000000001', 'XA10BJL326B002010101523', '利拉鲁肽注射液', '限2型糖尿病。'),
      record(
        'KP-d000000000000002',
        'XJ01DHM050B001010100001',
        '注射用美罗培南',
        '限头孢菌素耐药或重症感染患者。',
      ),
    ]),
  );
  const { catalogue } = importCatalogue(dir);
  const kp = (id: string) => catalogue.knowledgePoints.find((k) => k.kpId === id);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a point whose every disease maps into an indication restriction, with the rules/reference mapping', () => {
    expect(kp('KP-d000000000000001')).toMatchObject({
      restriction: { kind: 'indication', label: '2型糖尿病' },
      keptAsText: null,
    });
  });

  it('keeps a point naming an unmapped disease as text, and counts it as kept', () => {
    expect(kp('KP-d000000000000002')).toMatchObject({ restriction: null });
    expect(kp('KP-d000000000000002')?.keptAsText).toMatch(/头孢菌素耐药、重症感染/);
    expect(catalogue.coverage.byRuleClass.find((r) => r.ruleClass === '药品限适应症')).toMatchObject({
      active: 2,
      parsed: 1,
      keptAsText: 1,
    });
  });
});
