import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { toHistoryClaim } from '../../src/history/store.ts';
import { deepMerge, readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { LineFact } from '../../src/rules/subjects/kind.ts';
import { SUBJECT_KINDS } from '../../src/rules/subjects/registry.ts';

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
