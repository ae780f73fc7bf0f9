import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { toHistoryClaim } from '../../src/history/store.ts';
import { loadAuditCore } from '../../src/post/audit.ts';
import { deepMerge, readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir, lintRule } from '../../src/rules/load.ts';
import { LineFact } from '../../src/rules/subjects/kind.ts';
import { SUBJECT_KINDS } from '../../src/rules/subjects/registry.ts';
import { claim as claimOf, line } from '../helpers/claims.ts';

const core = loadCore();
const base = readBaseClaim(defaultRulesDir());

describe('the subject kinds', () => {
  it('are registered under the names their modules give', () => {
    for (const [name, kind] of SUBJECT_KINDS) expect(kind.name).toBe(name);
  });

  it('build exactly the facts and line facts they declare, so the linter checks conditions against the truth', () => {
    let built = 0;
    for (const { file, kind } of core.ruleSet.rules) {
      if (kind.scope === 'period') continue;
      const fact = z.strictObject(kind.fact.shape);
      const line = z.strictObject(LineFact.extend(kind.line.shape).shape);
      for (const fixture of file.fixtures) {
        const claim = Claim.parse(deepMerge(base, fixture.claim));
        const history = (fixture.history ?? []).map((past, i) =>
          toHistoryClaim(Claim.parse(deepMerge(base, { claimId: `C-H${i + 1}`, ...past }))),
        );
        const subjects = kind.build({
          claim,
          catalogue: core.catalogue,
          history,
          ruleClass: file.when.ruleClass ?? '',
        });
        for (const subject of subjects) {
          expect(fact.safeParse(subject.fact).error, `${file.id} ${fixture.name}`).toBeUndefined();
          for (const l of subject.lines) expect(line.safeParse(l).error, `${file.id} line`).toBeUndefined();
          expect(subject.kind).toBe(kind.name);
          built += 1;
        }
      }
    }
    // Every hit fixture builds at least its own subject.
    expect(built).toBeGreaterThanOrEqual(core.ruleSet.rules.length);
  });

  it('number a course’s lines by billed day, and a cumulative course’s after the earlier days', () => {
    const drug = {
      code: 'XC05CAQ005B001010100526',
      name: '注射用七叶皂苷钠',
      category: 'drug',
      quantity: 1,
      unitPrice: 10,
      amount: 10,
    };
    const claim = Claim.parse(
      deepMerge(base, {
        visit: { type: 'inpatient', admittedAt: '2026-10-01', dischargedAt: '2026-10-02' },
        items: [
          { lineNo: 1, ...drug, serviceDate: '2026-10-01' },
          { lineNo: 2, ...drug, serviceDate: '2026-10-01' },
          { lineNo: 3, ...drug, serviceDate: '2026-10-02' },
        ],
      }),
    );
    const ruleClass = '药品限支付疗程';
    const input = { claim, catalogue: core.catalogue, history: [], ruleClass };
    const course = SUBJECT_KINDS.get('course');
    expect(course?.scope !== 'period' && course?.build(input)[0]?.lines.map((l) => l.dayNo)).toEqual([
      1, 1, 2,
    ]);
    const earlier = Claim.parse(
      deepMerge(base, {
        claimId: 'C-EARLIER',
        items: [
          { lineNo: 1, ...drug, serviceDate: '2026-09-20' },
          { lineNo: 2, ...drug, serviceDate: '2026-10-01' },
        ],
      }),
    );
    const historyCourse = SUBJECT_KINDS.get('historyCourse');
    const [subject] =
      historyCourse?.scope !== 'period'
        ? (historyCourse?.build({ ...input, history: [toHistoryClaim(earlier)] }) ?? [])
        : [];
    // 10-01 was billed before, so it adds no day; 10-02 is the third.
    expect(subject?.lines.map((l) => l.dayNo)).toEqual([null, null, 3]);
    expect(subject?.fact).toMatchObject({ earlierDays: 2, claimDays: 2, distinctDays: 3 });
  });
});

/** The subjects `name` builds for `claim` (with `history`), for a rule of `ruleClass`. */
function build(name: string, c: Claim, history: Claim[] = [], ruleClass = '') {
  const kind = SUBJECT_KINDS.get(name);
  if (!kind || kind.scope === 'period') throw new Error(`no claim kind ${name}`);
  return kind.build({ claim: c, catalogue: core.catalogue, history: history.map(toHistoryClaim), ruleClass });
}

describe('the claim-only subject kinds', () => {
  it('measure a claim’s totals against its lines and its settlement day against the end of care', () => {
    const stay = claimOf({
      visit: { type: 'inpatient', admittedAt: '2026-10-01', dischargedAt: '2026-10-05' },
      items: [
        line(1, '001102000050000', '住院诊查费', 'service', { serviceDate: '2026-10-01' }),
        line(2, '002101030300000', '子宫造影', 'service'),
      ],
      totals: { amount: 31, fundPaid: 20, selfPaid: 10 },
      submittedAt: '2026-10-12T09:00:00Z',
    });
    expect(build('claim', stay)[0]?.fact).toEqual({
      lineCount: 2,
      lineSum: 20,
      totalsAmount: 31,
      totalsGap: 11,
      totalsExcess: 11,
      paidGap: 1,
      lastServiceDate: '2026-10-03',
      careEnd: '2026-10-05',
      submittedDate: '2026-10-12',
      daysAfterCareEnd: 7,
      daysBeforeLastService: -9,
    });
    expect(build('claim', stay)[0]?.lines).toEqual([]);
  });

  it('leave a draft’s totals and settlement facts null: a pre-event draft has neither', () => {
    const { claimId: _c, submittedAt: _s, totals: _t, ...draft } = claimOf({});
    expect(build('claim', draft as Claim)[0]?.fact).toMatchObject({
      totalsGap: null,
      totalsExcess: null,
      paidGap: null,
      submittedDate: null,
      daysAfterCareEnd: null,
    });
  });

  it('tell an ICD-10 code form from a name or a mis-keyed code', () => {
    const codes = ['E11.900', 'C61.x00', 'E34.500x001', 'I10', 'M81400/3', 'E11-900', 'e11.900', '2型糖尿病'];
    const c = claimOf({ diagnoses: codes.map((code, i) => ({ code, primary: i === 0 })) });
    expect(build('diagnosis', c).map((s) => [s.fact.code, s.fact.icd10Form])).toEqual(
      codes.map((code, i) => [code, i < 5]),
    );
  });

  it('count the distinct generics of a day’s drugs as one prescription, two specs of one drug as one kind', () => {
    const c = claimOf({
      items: [
        line(1, 'XA10BAE054A001010101234', '二甲双胍片', 'drug'),
        line(2, 'XA10BAE054A001020101234', '二甲双胍片', 'drug'),
        line(3, 'XC10AAA071A001010100001', '阿托伐他汀钙片', 'drug'),
        line(4, 'XC10AAA071A001010100001', '阿托伐他汀钙片', 'drug', { serviceDate: '2026-10-04' }),
        line(5, '001102000050000', '住院诊查费', 'service'),
      ],
    });
    expect(build('prescription', c).map((s) => [s.fact.date, s.fact.drugKinds, s.lines.length])).toEqual([
      ['2026-10-03', 2, 3],
      ['2026-10-04', 1, 1],
    ]);
  });

  it('take a day’s TCM pieces as one prescription, with their count and amount', () => {
    const piece = (lineNo: number, code: string, amount: number) =>
      line(lineNo, code, code, 'tcm-herbal', { quantity: 10, unitPrice: amount / 10, amount });
    const c = claimOf({
      items: [piece(1, 'T900100001', 12.5), piece(2, 'T900100002', 30), piece(3, 'T900100002', 30)],
    });
    expect(build('herbalPrescription', c).map((s) => s.fact)).toEqual([
      { date: '2026-10-03', pieceCount: 2, amount: 72.5 },
    ]);
  });

  it('group a day’s western drugs by the pharmacological subgroup of their code, numbering the generics', () => {
    const c = claimOf({
      items: [
        line(1, 'XA10BAE054A001010101234', '二甲双胍片', 'drug'),
        line(2, 'XA10BBG016A001010101234', '格列美脲片', 'drug'),
        line(3, 'XA10BAE054A001020101234', '二甲双胍片', 'drug'),
        line(4, 'XA10BBG016A001010101234', '格列美脲片', 'drug', { serviceDate: '2026-10-04' }),
        line(5, 'XC10AAA071A001010100001', '阿托伐他汀钙片', 'drug'),
        // A Chinese patent drug is classed by efficacy, not ATC: no subgroup.
        line(6, 'ZA01AAA0010010100716', '感冒清热颗粒', 'drug'),
        line(7, '001102000050000', '住院诊查费', 'service'),
      ],
    });
    expect(
      build('drugSubgroup', c).map((s) => [
        s.fact.date,
        s.fact.subgroup,
        s.fact.generics,
        s.lines.map((l) => [l.lineNo, l.genericNo]),
      ]),
    ).toEqual([
      [
        '2026-10-03',
        'A10B',
        2,
        [
          [1, 1],
          [2, 2],
          [3, 1],
        ],
      ],
      ['2026-10-04', 'A10B', 1, [[4, 1]]],
      ['2026-10-03', 'C10A', 1, [[5, 1]]],
    ]);
  });

  it('sum a claim’s examinations and tests against all its charges, and what went on treatment and medicines', () => {
    const c = claimOf({
      items: [
        line(1, '001102000010000', '普通病房床位费', 'service', { unitPrice: 50, amount: 50 }),
        line(2, '002103000010000', 'X线计算机体层(CT)平扫', 'service', { unitPrice: 250, amount: 250 }),
        line(3, '002501000010000', '血细胞分析', 'service', { unitPrice: 20, amount: 20 }),
        line(4, '001204000010000', '静脉输液', 'service', { unitPrice: 12, amount: 12 }),
        line(5, 'XA10BAE054A001010101234', '二甲双胍片', 'drug', { unitPrice: 8, amount: 8 }),
      ],
    });
    const [mix] = build('serviceMix', c);
    expect(mix?.fact).toEqual({
      totalAmount: 340,
      examAmount: 250,
      labAmount: 20,
      examLabShare: 0.79,
      treatedAmount: 20,
    });
    expect(mix?.lines.map((l) => l.serviceClass)).toEqual([null, 'ct', 'lab', 'treatment', null]);
  });
});

describe('course and cycle subjects in the scope and unit the text states', () => {
  const ruleClass = '药品限支付疗程';
  // 帕妥珠单抗注射液: 支付不超过12个月 (scope span); 奥扎格雷钠注射液: 支付不超过14天 (total);
  // 银杏内酯注射液: 单次最多支付14天 (episode).
  const pertuzumab = (d: string, lineNo = 1) =>
    line(lineNo, 'XL01FDP138B002010181735', '帕妥珠单抗注射液', 'drug', { serviceDate: d });
  const ginkgolide = (d: string) =>
    line(1, 'ZA12HAY0759010106725', '银杏内酯注射液', 'drug', { serviceDate: d });

  it('measure a span from the first dose in history, and mark the lines on or after its end', () => {
    const earlier = claimOf({ claimId: 'C-FIRST', items: [pertuzumab('2025-09-01')] });
    const c = claimOf({ items: [pertuzumab('2026-08-31'), pertuzumab('2026-09-02', 2)] });
    const [subject] = build('courseSpan', c, [earlier], ruleClass);
    expect(subject?.fact).toEqual({
      name: '帕妥珠单抗注射液',
      firstDose: '2025-09-01',
      spanEnd: '2026-09-01',
      lastDate: '2026-09-02',
      daysPastSpan: 2,
    });
    expect(subject?.lines.map((l) => l.pastSpan)).toEqual([false, true]);
    // A span counts no billed days, so neither day-counting kind takes it.
    expect(build('course', c, [], ruleClass)).toEqual([]);
    expect(build('historyCourse', c, [earlier], ruleClass)).toEqual([]);
  });

  it('count an episode limit within the stay only: no cumulative subject across stays', () => {
    const earlier = claimOf({ claimId: 'C-STAY-1', items: [ginkgolide('2026-09-01')] });
    const c = claimOf({ items: [ginkgolide('2026-09-21')] });
    expect(build('course', c, [], ruleClass)).toHaveLength(1);
    expect(build('historyCourse', c, [earlier], ruleClass)).toEqual([]);
    expect(build('courseSpan', c, [earlier], ruleClass)).toEqual([]);
  });

  it('count the charges of a cycle-limited service in its Monday-to-Sunday week', () => {
    const training = (claimId: string, d: string) =>
      claimOf({
        claimId,
        items: [line(1, '003402000350000', '儿童听力障碍语言训练', 'service', { serviceDate: d })],
      });
    const cycle = '医疗服务项目周期超频次';
    // Friday 2026-09-25, then Monday 09-28 (a new week) and Friday 10-02 (the same week as 09-28).
    const monday = build(
      'historyCycle',
      training('C-MON', '2026-09-28'),
      [training('C-FRI', '2026-09-25')],
      cycle,
    );
    expect(monday[0]?.fact).toMatchObject({ daysSincePrevious: 3, chargesInCalendarWeek: 1 });
    const friday = build(
      'historyCycle',
      training('C-FRI2', '2026-10-02'),
      [training('C-MON', '2026-09-28')],
      cycle,
    );
    expect(friday[0]?.fact).toMatchObject({ daysSincePrevious: 4, chargesInCalendarWeek: 2 });
  });
});

describe('the subject kinds from public reference data', () => {
  it('build one diagnosis subject per edit: a delivery is both female-only and in the maternity band', () => {
    const c = claimOf({
      diagnoses: [
        { code: 'O80.000', primary: true },
        { code: 'E11.900', primary: false },
      ],
    });
    expect(build('diagnosisEdit', c).map((s) => s.fact)).toEqual([
      expect.objectContaining({
        index: 1,
        code: 'O80.000',
        edit: 'sex',
        sex: 'F',
        minAgeYears: 0,
        maxAgeYears: 150,
      }),
      expect.objectContaining({
        index: 1,
        code: 'O80.000',
        edit: 'age',
        sex: '',
        minAgeYears: 9,
        maxAgeYears: 64,
      }),
    ]);
  });

  it('build nothing for a claim without procedures, and a procedure subject on its own date', () => {
    expect(build('procedureEdit', claimOf())).toEqual([]);
    const [subject] = build(
      'procedureEdit',
      claimOf({ procedures: [{ code: '68.4901', primary: true, date: '2026-10-02' }] }),
    );
    expect(subject?.date).toBe('2026-10-02');
    expect(subject?.fact).toMatchObject({ code: '68.4901', edit: 'sex', sex: 'F' });
  });

  it('pair the TCM pieces of one service date only, each line with its side of the pair', () => {
    const piece = (lineNo: number, name: string, serviceDate = '2026-10-03') =>
      line(lineNo, `T90020000${lineNo}`, name, 'tcm-herbal', { serviceDate });
    const subjects = build(
      'tcmIncompatibility',
      claimOf({
        items: [piece(1, '海藻'), piece(2, '炙甘草'), piece(3, '甘草'), piece(4, '甘遂', '2026-10-04')],
      }),
    );
    expect(subjects.map((s) => s.fact)).toEqual([
      { date: '2026-10-03', group: '十八反', a: '甘草', b: '海藻', namesA: '炙甘草、甘草', namesB: '海藻' },
    ]);
    expect(subjects[0]?.lines.map((l) => [l.lineNo, l.role])).toEqual([
      [1, 'b'],
      [2, 'a'],
      [3, 'a'],
    ]);
  });
});

describe('the indication subject kind', () => {
  it('builds one subject per line of a drug whose indication point was read, judged on every diagnosis', () => {
    const c = claimOf({
      patient: { birthDate: '2015-06-01' },
      diagnoses: [
        { code: 'J06.900', primary: true },
        { code: 'E11.900', primary: false },
      ],
      items: [
        line(1, 'XA10BJL326B002010101523', '利拉鲁肽注射液', 'drug'),
        line(2, 'XA10AED356B002010178997', '德谷胰岛素利拉鲁肽注射液', 'drug'),
        line(3, 'XA10BAE054A001010101234', '二甲双胍片', 'drug'),
      ],
    });
    const subjects = build('indication', c, [], '药品限适应症');
    expect(
      subjects.map((s) => [s.lines.map((l) => l.lineNo), s.fact.diagnosisIndicated, s.fact.indicated]),
    ).toEqual([
      [[1], true, true],
      // 限成人2型糖尿病: the diagnosis fits, the 11-year-old does not.
      [[2], true, false],
    ]);
    expect(subjects[0]?.fact).toMatchObject({
      indication: '2型糖尿病',
      diagnosisCodes: 'J06.900、E11.900',
      finding: '',
    });
    expect(subjects[0]?.points?.get('药品限适应症')?.kpId).toBe('KP-9bb0090a9c2c1f46');
  });
});

describe('the period subject kinds', () => {
  const audit = loadAuditCore();

  it('are looked up in the registry by the subject their period rules name, post stage only', () => {
    for (const rule of audit.periodRules.rules) {
      expect(SUBJECT_KINDS.get(rule.file.subject)).toBe(rule.kind);
      expect(rule.kind.stages).toEqual(['post']);
    }
    expect(audit.periodRules.patientKinds.map((k) => k.kind.name)).toContain('readmission');
  });

  it('build exactly the facts they declare from their rules’ fixtures, so the lint checks the truth', () => {
    let built = 0;
    for (const { file, kind } of audit.periodRules.rules) {
      if (kind.level !== 'patient') continue;
      const fact = z.strictObject(kind.fact.shape);
      for (const fixture of file.fixtures) {
        const claims = [...(fixture.history ?? []), fixture.claim ?? {}].map((patch, i) =>
          Claim.parse(deepMerge(base, { claimId: `C-P${i + 1}`, ...patch })),
        );
        for (const subject of kind.build(claims, {
          params: file.params,
          plannedCycles: audit.policy.plannedCycles,
        })) {
          expect(fact.safeParse(subject.fact).error, `${file.id} ${fixture.name}`).toBeUndefined();
          expect(claims).toContain(subject.claim);
          built += 1;
        }
      }
    }
    expect(built).toBeGreaterThan(0);
  });

  it('are refused in a claim rule file, whose rules the claim screener runs', () => {
    const [rule] = core.ruleSet.rules;
    if (!rule) throw new Error('no claim rules');
    expect(lintRule({ ...rule.file, subject: 'readmission', scope: 'period', stages: ['post'] })).toEqual([
      'subject: "readmission" is a period subject: its rules live in rules/period/',
    ]);
  });
});
