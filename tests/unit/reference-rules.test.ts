import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCodeEdits, PROCEDURE_EDITS_FILE } from '../../src/catalogue/code-edits.ts';
import { CatalogueLoadError } from '../../src/catalogue/index.ts';
import { loadTcmIncompatibility, TCM_INCOMPATIBILITY_FILE } from '../../src/catalogue/tcm-incompatibility.ts';
import { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { generateClaims } from '../../src/generator/generate.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { claim, line, rawClaim } from '../helpers/claims.ts';

const core = loadCore();
const referenceDir = join(defaultRulesDir(), 'reference');

async function flagsOf(ruleId: string, patch: Record<string, unknown>) {
  const { flags } = await core.screener.screen(claim(patch), { stage: 'in' });
  return flags.filter((f) => f.ruleId === ruleId);
}

const male = { sex: 'M' };
const dx = (...codes: string[]) => codes.map((code, i) => ({ code, primary: i === 0 }));

describe('诊断与患者性别不符 and 诊断与患者年龄不符 from rules/reference/diagnosis-edits.json', () => {
  it('rejects endometriosis on a male patient as a violation, citing WHO ICD-10 as its basis', async () => {
    const [flag] = await flagsOf('NHSA-DIAGNOSIS-SEX', { patient: male, diagnoses: dx('N80.000') });
    expect(flag?.result).toBe('violation');
    expect(flag?.action).toBe('reject');
    expect(flag?.basis.text).toMatch(/WHO ICD-10 Version:2019, Chapter XIV/);
    expect(flag?.lineNos).toEqual([]);
    expect(flag?.amountAtRisk).toBe(0);
  });

  it('only holds a congenital genital malformation of the other sex, quoting why it is in doubt', async () => {
    const [flag] = await flagsOf('NHSA-DIAGNOSIS-SEX', { patient: male, diagnoses: dx('Q52.100') });
    expect(flag?.result).toBe('suspicious');
    expect(flag?.action).toBe('hold');
    expect(flag?.basis.doubt).toMatch(/disorder of sex development/);
  });

  it('never flags the sex of a patient with a diagnosis of indeterminate sex', async () => {
    expect(
      await flagsOf('NHSA-DIAGNOSIS-SEX', { patient: male, diagnoses: dx('C53.900', 'Q96.000') }),
    ).toEqual([]);
  });

  it('judges a breast cancer of either sex as fitting both', async () => {
    expect(await flagsOf('NHSA-DIAGNOSIS-SEX', { patient: male, diagnoses: dx('C50.900') })).toEqual([]);
  });

  it('rejects a delivery at 65 and passes one at 64, the Medicare Code Editor’s maternity band 9–64', async () => {
    // Base service date 2026-10-03: born 1961-10-01 is 65, born 1961-10-05 still 64.
    const at65 = await flagsOf('NHSA-DIAGNOSIS-AGE', {
      patient: { birthDate: '1961-10-01' },
      diagnoses: dx('O80.000'),
    });
    expect(at65.map((f) => f.result)).toEqual(['violation']);
    expect(at65[0]?.message).toContain('患者65岁');
    expect(
      await flagsOf('NHSA-DIAGNOSIS-AGE', { patient: { birthDate: '1961-10-05' }, diagnoses: dx('O80.000') }),
    ).toEqual([]);
  });

  it('only holds a perinatal condition after the first year, as WHO’s chapter note allows later morbidity', async () => {
    const [flag] = await flagsOf('NHSA-DIAGNOSIS-AGE', {
      patient: { birthDate: '2023-01-01' },
      diagnoses: dx('P07.300'),
    });
    expect(flag?.result).toBe('suspicious');
    expect(flag?.basis.doubt).toMatch(/even though death or morbidity occurs later/);
  });
});

describe('手术操作编码与性别不符 and the optional procedures of Claim v1', () => {
  it('accepts a claim without procedures, as every claim before it', () => {
    const raw = rawClaim();
    delete raw.procedures;
    expect(Claim.safeParse(raw).success).toBe(true);
  });

  it('refuses a procedure code that is not ICD-9-CM-3, naming its path', () => {
    const raw = rawClaim();
    raw.procedures = [{ code: '0UT90ZZ', primary: true, date: '2026-10-03' }];
    const result = Claim.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['procedures', 0, 'code']);
    expect(result.error?.issues[0]?.message).toMatch(/ICD-9-CM-3/);
  });

  it('rejects a caesarean section on a male patient and cites the obstetrical chapter', async () => {
    const [flag] = await flagsOf('NHSA-PROCEDURE-SEX', {
      patient: male,
      procedures: [{ code: '74.1x00', primary: true, date: '2026-10-03' }],
    });
    expect(flag?.result).toBe('violation');
    expect(flag?.basis.text).toMatch(/Obstetrical procedures \(72–75\)/);
  });

  it('only holds an operation ICD-9-CM indexes for sex transformation (64.5 within 60–64)', async () => {
    const [flag] = await flagsOf('NHSA-PROCEDURE-SEX', {
      procedures: [{ code: '64.5x00', primary: true, date: '2026-10-03' }],
    });
    expect(flag?.result).toBe('suspicious');
    expect(flag?.basis.doubt).toMatch(/sex transformation/);
  });
});

describe('中药饮片配伍禁忌 from rules/reference/tcm-incompatibility.json', () => {
  const piece = (lineNo: number, name: string, serviceDate = '2026-10-03') =>
    line(lineNo, `T90020000${lineNo}`, name, 'tcm-herbal', { serviceDate });

  it('holds 生半夏 with 黑顺片 (附子) — the pair named through processed forms — with both lines at risk', async () => {
    const [flag] = await flagsOf('NHSA-TCM-INCOMPATIBILITY', {
      items: [piece(1, '生半夏'), piece(2, '黄芪'), piece(3, '黑顺片')],
    });
    expect(flag?.result).toBe('suspicious');
    expect(flag?.action).toBe('hold');
    expect(flag?.lineNos).toEqual([1, 3]);
    expect(flag?.amountAtRisk).toBe(20);
    expect(flag?.basis.text).toMatch(/不宜与半夏/);
    expect(flag?.message).toBe('2026-10-03处方中黑顺片与生半夏属十八反（附子与半夏不宜同用）');
  });

  it('raises one flag per conflicting pair: 藜芦 with both 白芍 and 党参', async () => {
    const flags = await flagsOf('NHSA-TCM-INCOMPATIBILITY', {
      items: [piece(1, '藜芦'), piece(2, '炒白芍'), piece(3, '党参')],
    });
    expect(flags.map((f) => f.lineNos)).toEqual([
      [1, 2],
      [1, 3],
    ]);
  });

  it('knows a billed name after its bracketed specification, and never by substring', () => {
    const table = loadTcmIncompatibility(referenceDir);
    expect(table.pieceOf('炙甘草(蜜炙)')).toBe('甘草');
    expect(table.pieceOf('法半夏（片）')).toBe('半夏');
    expect(table.pieceOf('白附子')).toBeUndefined();
  });
});

describe('the reference files', () => {
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'fundguard-reference-'));
    cpSync(referenceDir, dir, { recursive: true });
    return dir;
  };

  it('refuses a suspicious entry that does not say why, naming the file and the entry', () => {
    const dir = scratch();
    const file = join(dir, PROCEDURE_EDITS_FILE);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    delete json.entries[1].doubt;
    writeFileSync(file, JSON.stringify(json));
    expect(() => loadCodeEdits(dir, PROCEDURE_EDITS_FILE)).toThrow(CatalogueLoadError);
    expect(() => loadCodeEdits(dir, PROCEDURE_EDITS_FILE)).toThrow(
      /procedure-edits\.json.*entries\[1\].*says why \(doubt\)/,
    );
  });

  it('refuses a pair naming a piece the table cannot recognise on a claim', () => {
    const dir = scratch();
    const file = join(dir, TCM_INCOMPATIBILITY_FILE);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.pairs[0].b.push('大黄');
    writeFileSync(file, JSON.stringify(json));
    expect(() => loadTcmIncompatibility(dir)).toThrow(/pairs\[0\]\.b\[5\]: "大黄" has no pieces entry/);
  });

  it('names a source on every entry', () => {
    for (const name of ['diagnosis-edits.json', PROCEDURE_EDITS_FILE]) {
      const { entries } = JSON.parse(readFileSync(join(referenceDir, name), 'utf8'));
      for (const e of entries) expect(e.source, `${name}: ${e.name}`).toMatch(/WHO|CMS|ICD-9-CM/);
    }
  });
});

describe('the generator’s background for the reference rules', () => {
  it('bills sex-specific diagnoses and procedures for both sexes, each fitting its patient', async () => {
    const stream = await generateClaims({ seed: 5, claims: 600, violationRate: 0 }, core);
    const edited = (sex: string) =>
      stream.claims.filter(
        (c) =>
          c.patient.sex === sex &&
          c.diagnoses.some((d) => core.catalogue.diagnosisEditsOf(d.code).some((e) => e.edit === 'sex')),
      );
    const withProcedures = stream.claims.filter((c) =>
      c.procedures?.some((p) => core.catalogue.procedureEditsOf(p.code).length > 0),
    );
    expect(edited('F').length).toBeGreaterThan(0);
    expect(edited('M').length).toBeGreaterThan(0);
    expect(withProcedures.length).toBeGreaterThan(0);
    const flagged = [];
    for (const c of [...edited('F'), ...edited('M'), ...withProcedures]) {
      const { flags } = await core.screener.screen(c, { stage: 'in' });
      flagged.push(...flags.filter((f) => /DIAGNOSIS-(SEX|AGE)|PROCEDURE-SEX/.test(f.ruleId)));
    }
    expect(flagged).toEqual([]);
  });
});
