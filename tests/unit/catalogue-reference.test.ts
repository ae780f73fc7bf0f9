import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogueLoadError } from '../../src/catalogue/index.ts';
import { DIAGNOSIS_GROUPS_FILE, loadDiagnosisGroups } from '../../src/catalogue/reference.ts';

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
