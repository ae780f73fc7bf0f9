import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogueLoadError } from '../../src/catalogue/index.ts';
import {
  DIAGNOSIS_GROUPS_FILE,
  loadDiagnosisGroups,
  loadServiceClasses,
  SERVICE_CLASSES_FILE,
} from '../../src/catalogue/reference.ts';
import { loadAuditCore } from '../../src/post/audit.ts';

const referenceDir = fileURLToPath(new URL('../../rules/reference', import.meta.url));
const groups = loadDiagnosisGroups(referenceDir);
const scratch = mkdtempSync(join(tmpdir(), 'fundguard-reference-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the committed ICD-10 reference groups', () => {
  it('names a published source on every entry', () => {
    for (const group of groups.file.groups)
      for (const entry of group.entries)
        expect(entry.source).toMatch(/^WHO ICD-10 Version:2019, .+ — https:\/\/icd\.who\.int\//);
  });

  it.each([
    ['Q56.400', 'indeterminate sex, unspecified'],
    ['Q96.900', "Turner's syndrome"],
    ['Q98.000', 'Klinefelter syndrome'],
    ['Q99.100', '46,XX true hermaphrodite'],
    ['E34.500x001', 'androgen insensitivity, national clinical extension'],
    ['e25.000', 'congenital adrenal hyperplasia written in lower case'],
  ])('puts %s (%s) in indeterminateSex', (code) => {
    expect(groups.of([code]).has('indeterminateSex')).toBe(true);
  });

  it.each(['Q55.000', 'E34.400', 'E11.900', 'N40.x00'])('leaves %s out of indeterminateSex', (code) => {
    expect(groups.of([code]).has('indeterminateSex')).toBe(false);
  });

  it('puts delivery (O80) and postpartum care (Z39) in maternity, and a diabetic visit in neither', () => {
    expect([...groups.of(['O80.000'])]).toEqual(['maternity']);
    expect([...groups.of(['Z39.200'])]).toEqual(['maternity']);
    expect(groups.of(['E11.900']).size).toBe(0);
  });

  it('names the file and the field when an entry has no source', () => {
    writeFileSync(
      join(scratch, DIAGNOSIS_GROUPS_FILE),
      JSON.stringify({
        $comment: '',
        groups: [{ id: 'maternity', title: 't', why: 'w', entries: [{ from: 'O00', to: 'O99', name: 'n' }] }],
      }),
    );
    expect(() => loadDiagnosisGroups(scratch)).toThrow(CatalogueLoadError);
    expect(() => loadDiagnosisGroups(scratch)).toThrow(
      /diagnosis-groups\.json: is not a valid reference file: groups\[0\]\.entries\[0\]\.source/,
    );
  });
});

describe('the committed service classes, by the structure of the 15-digit national service code', () => {
  const classes = loadServiceClasses(referenceDir);

  it('names the national service price specification on every class', () => {
    for (const c of classes.file.classes) expect(c.source).toMatch(/^《全国医疗服务价格项目规范》/);
  });

  it.each([
    ['002103000010000', 'ct', 'X线计算机体层(CT)平扫, 00 + 210300001'],
    ['002102000010000', 'mri', '磁共振平扫, 00 + 210200001'],
    ['002101030300000', 'exam', '子宫造影, X线造影'],
    ['002203000010000', 'exam', '腔内彩色多普勒超声, 超声检查'],
    ['002501000010000', 'lab', '临床血液学检查'],
    ['002304000010000', 'treatment', '核素治疗, though 23 is 核医学'],
    ['001204000010000', 'treatment', '静脉输液, 一般检查治疗'],
    ['003310010140000', 'surgery', '食管癌根治+结肠代食管术, 胃肠手术'],
    ['003402000210000', 'treatment', '减重支持系统训练, 康复'],
  ])('classes %s as %s (%s)', (code, expected) => {
    expect(classes.of(code)).toBe(expected);
  });

  it.each([
    ['001102000010000', 'a bed day: 一般医疗服务 is no class'],
    ['C90010000001', 'a consumable code'],
    ['2103000010000', 'thirteen digits'],
  ])('leaves %s out (%s)', (code) => {
    expect(classes.of(code)).toBeUndefined();
  });

  it.each([
    ['001904000010000', '血细胞分析(血常规)', 'lab'],
    ['001904000060000', '胸部X线摄影', 'exam'],
    ['H0001', '胸部CT平扫检查', 'ct'],
    ['001903000010000', '静脉输液(首组)', 'treatment'],
  ])('classes %s "%s", a code no chapter classes, by its name as %s', (code, name, expected) => {
    expect(classes.of(code, name)).toBe(expected);
  });

  it("takes a national code's chapter over the words of its name", () => {
    expect(classes.of('002501000010000', '某某检查')).toBe('lab');
  });

  it("is the one table: the post-event indicators classify items by the catalogue's own", () => {
    const { classifier } = loadAuditCore(join(referenceDir, '..'));
    expect(classifier.classesOf('002103000010000', 'X线计算机体层(CT)平扫')).toEqual(['labExam', 'ct']);
    expect(classifier.classesOf('002102000010000', '磁共振平扫')).toEqual(['labExam', 'mri']);
    expect(classifier.classesOf('001904000010000', '血细胞分析(血常规)')).toEqual(['labExam']);
    expect(classifier.classesOf('003310010140000', '食管癌根治+结肠代食管术')).toEqual([]);
  });

  it('names the file and the field when a class has no source', () => {
    writeFileSync(
      join(scratch, SERVICE_CLASSES_FILE),
      JSON.stringify({ $comment: '', classes: [{ class: 'lab', label: '检验', codePrefixes: ['25'] }] }),
    );
    expect(() => loadServiceClasses(scratch)).toThrow(
      /service-classes\.json: is not a valid reference file: classes\[0\]\.source/,
    );
  });
});
