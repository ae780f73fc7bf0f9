import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogueImportError, importCatalogue } from '../../src/catalogue/import.ts';
import { appliesOn, Catalogue } from '../../src/catalogue/index.ts';
import type { CatalogueFile, KnowledgePoint } from '../../src/catalogue/schema.ts';
import type { Claim, Item } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import { readBaseClaim } from '../../src/rules/fixtures.ts';
import { defaultRulesDir } from '../../src/rules/load.ts';
import { rulesCopy } from '../helpers/rules-copy.ts';

const sampleDir = fileURLToPath(new URL('../fixtures/nhsa-sample', import.meta.url));
const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('importing publication dates', () => {
  const { catalogue } = importCatalogue(sampleDir);
  const point = (id: string) =>
    [...catalogue.knowledgePoints, ...catalogue.supersededPoints].find((kp) => kp.kpId === id);

  it('dates each point by its batch or update, and leaves undated batches undated', () => {
    expect(point('KP-c000000000000002')).toMatchObject({ publishedAt: '2026-01-28', supersededOn: null });
    expect(point('KP-a000000000000002')).toMatchObject({ publishedAt: null, supersededOn: null });
  });

  it('keeps a superseded point, ending on the date its update was published', () => {
    expect(catalogue.knowledgePoints.map((kp) => kp.kpId)).not.toContain('KP-a000000000000001');
    expect(catalogue.supersededPoints).toEqual([
      expect.objectContaining({
        kpId: 'KP-a000000000000001',
        publishedAt: null,
        supersededOn: '2026-01-28',
        restriction: { kind: 'sex', sex: 'M' },
      }),
    ]);
    expect(catalogue.coverage.superseded).toBe(1);
  });

  it('refuses an update published before the point it supersedes', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fundguard-dates-')), 'nhsa');
    scratchDirs.push(dir);
    cpSync(sampleDir, dir, { recursive: true });
    const file = join(dir, 'batches', 'batch_01.json');
    const rows = JSON.parse(readFileSync(file, 'utf8')) as { kp_id: string; published_at: string | null }[];
    for (const row of rows) if (row.kp_id === 'KP-a000000000000001') row.published_at = '2026-03-01';
    writeFileSync(file, JSON.stringify(rows));
    expect(() => importCatalogue(dir)).toThrow(CatalogueImportError);
    expect(() => importCatalogue(dir)).toThrow(
      /KP-c000000000000001 \(published 2026-01-28\) supersedes KP-a000000000000001, published later on 2026-03-01/,
    );
  });
});

/** A knowledge point of one code, dated as given. */
function dated(
  kpId: string,
  restriction: KnowledgePoint['restriction'],
  publishedAt: string | null,
  supersededOn: string | null,
): KnowledgePoint {
  return {
    kpId,
    ruleClass: '药品限支付疗程',
    basisCode: 'GZ10000302001000',
    gzCode: null,
    itemName: '某药',
    codes: ['X1'],
    text: '',
    detectLogic: null,
    batch: publishedAt ? 'updates_2026-01' : 'batch_06',
    publishedAt,
    supersedes: null,
    supersededOn,
    restriction,
    keptAsText: null,
    grade: null,
  };
}

describe('dated catalogue lookups', () => {
  // The stricter 14-day point was replaced on 2026-01-28 by a 30-day one.
  const old = dated('KP-old', { kind: 'course', scope: 'total', maxDays: 14 }, null, '2026-01-28');
  const update = dated('KP-new', { kind: 'course', scope: 'total', maxDays: 30 }, '2026-01-28', null);
  const file: CatalogueFile = {
    $comment: '',
    source: 'test',
    coverage: { read: 2, superseded: 1, active: 1, parsed: 1, keptAsText: 0, graded: 0, byRuleClass: [] },
    supersededBy: { 'KP-old': 'KP-new' },
    knowledgePoints: [update],
    supersededPoints: [old],
  };
  const catalogue = new Catalogue(file, []);

  it('answers a line served before the supersession with the superseded point', () => {
    expect(catalogue.pointsFor('X1', '2026-01-27')?.get('药品限支付疗程')).toBe(old);
    expect(catalogue.entry('X1', '2025-06-01')?.restrictions.course?.kp).toBe(old);
  });

  it('never applies the superseded point from its supersession on, though it is stricter', () => {
    expect(catalogue.pointsFor('X1', '2026-01-28')?.get('药品限支付疗程')).toBe(update);
    expect(catalogue.entry('X1', '2026-10-01')?.restrictions.course?.kp).toBe(update);
    expect(catalogue.pointsFor('X1')?.get('药品限支付疗程')).toBe(update);
  });

  it('applies a new point from its own publication date, an undated one from the start', () => {
    expect(appliesOn(update, '2026-01-27')).toBe(false);
    expect(appliesOn(update, '2026-01-28')).toBe(true);
    expect(appliesOn(old, '2000-01-01')).toBe(true);
    expect(appliesOn(old, '2026-01-28')).toBe(false);
  });
});

const core = loadCore();
const base = readBaseClaim(defaultRulesDir()) as unknown as Claim;
const now = new Date('2026-12-01T00:00:00Z');

function drugLine(lineNo: number, code: string, name: string, serviceDate: string): Item {
  return { lineNo, code, name, category: 'drug', quantity: 1, unitPrice: 10, amount: 10, serviceDate };
}

function claimOf(items: Item[], patch: Partial<Claim> = {}): Claim {
  const amount = items.reduce((s, i) => s + i.amount, 0);
  return {
    ...base,
    claimId: `C-DATES-${items.map((i) => i.serviceDate).join('-')}`,
    items,
    totals: { amount, fundPaid: amount * 0.8, selfPaid: amount * 0.2 },
    ...patch,
  };
}

async function flagsOf(claim: Claim, ruleId: string, screener = core.screener) {
  const { flags } = await screener.screen(claim, { stage: 'in', now });
  return flags.filter((f) => f.ruleId === ruleId);
}

describe('screening by service date', () => {
  // 芬太尼透皮贴剂 is out of the internet hospitals' drug scope by batch 10, published 2026-04-28.
  const fentanyl = (date: string) =>
    claimOf([drugLine(1, 'XN02ABF027V002010101389', '芬太尼透皮贴剂', date)], {
      visit: { ...base.visit, type: 'internet' },
    });

  it('does not judge a 2025 claim by a knowledge point published in 2026', async () => {
    expect(await flagsOf(fentanyl('2025-11-20'), 'NHSA-INTERNET-DRUG')).toEqual([]);
    expect(await flagsOf(fentanyl('2026-04-27'), 'NHSA-INTERNET-DRUG')).toEqual([]);
    expect(await flagsOf(fentanyl('2026-04-28'), 'NHSA-INTERNET-DRUG')).toEqual([
      expect.objectContaining({ basis: expect.objectContaining({ knowledgePoint: 'KP-9cbe2b15964c58d0' }) }),
    ]);
  });

  // 艾附暖宫丸 (female only): batch 1's point KP-d44c62fff59ea98b was replaced on 2026-01-28 by
  // KP-8f3fb0c6c5f6fe1b, which also lists ZD03AAA0043020502661, a code batch 1 did not.
  const male = { ...base.patient, sex: 'M' as const };

  it('cites the superseded point before the update and the update from its date on', async () => {
    const listed = (date: string) =>
      claimOf([drugLine(1, 'ZD03AAA0043020102661', '艾附暖宫丸', date)], { patient: male });
    expect(
      core.catalogue.pointsFor('ZD03AAA0043020102661', '2025-12-15')?.get('药品区分性别使用')?.kpId,
    ).toBe('KP-d44c62fff59ea98b');
    const before = await flagsOf(listed('2025-12-15'), 'GZ-DRUG-SEX');
    expect(before.map((f) => f.basis.knowledgePoint)).toEqual(['KP-d44c62fff59ea98b']);
    const after = await flagsOf(listed('2026-01-28'), 'GZ-DRUG-SEX');
    expect(after.map((f) => f.basis.knowledgePoint)).toEqual(['KP-8f3fb0c6c5f6fe1b']);
  });

  it("judges each line of a stay across the update's date by the point in force on that line's day", async () => {
    const stay = claimOf(
      [
        drugLine(1, 'ZD03AAA0043020502661', '艾附暖宫丸', '2026-01-27'),
        drugLine(2, 'ZD03AAA0043020502661', '艾附暖宫丸', '2026-01-28'),
      ],
      {
        patient: male,
        visit: { ...base.visit, type: 'inpatient', admittedAt: '2026-01-26', dischargedAt: '2026-01-29' },
      },
    );
    const flags = await flagsOf(stay, 'GZ-DRUG-SEX');
    expect(flags.map((f) => [f.lineNos, f.basis.knowledgePoint])).toEqual([[[2], 'KP-8f3fb0c6c5f6fe1b']]);
  });

  it("judges only the lines served within a rule's effective dates", async () => {
    const ended = loadCore(
      rulesCopy({
        'drug-sex.json': (rule) => {
          rule.effective = { from: '2025-01-01', to: '2026-06-30' };
        },
      }),
    );
    const stay = claimOf(
      [
        drugLine(1, 'ZD03AAA0043020102661', '艾附暖宫丸', '2026-06-30'),
        drugLine(2, 'ZD03AAA0043020102661', '艾附暖宫丸', '2026-07-01'),
      ],
      {
        patient: male,
        visit: { ...base.visit, type: 'inpatient', admittedAt: '2026-06-29', dischargedAt: '2026-07-02' },
      },
    );
    const flags = await flagsOf(stay, 'GZ-DRUG-SEX', ended.screener);
    expect(flags.map((f) => f.lineNos)).toEqual([[1]]);
  });
});
