import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { diffCatalogue, formatDiff, isUnchanged, readCommittedCatalogue } from '../../src/catalogue/diff.ts';
import { importCatalogue, writeCatalogue } from '../../src/catalogue/import.ts';

const sampleDir = fileURLToPath(new URL('../fixtures/nhsa-sample', import.meta.url));
const scratchDirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-diff-'));
  scratchDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the NHSA sample, edited: `rows` maps a batch file to a change of its records. */
function sampleWith(rows: Record<string, (records: Record<string, unknown>[]) => Record<string, unknown>[]>) {
  const dir = join(scratch(), 'nhsa');
  cpSync(sampleDir, dir, { recursive: true });
  for (const [name, edit] of Object.entries(rows)) {
    const file = join(dir, 'batches', name);
    writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')))));
  }
  return dir;
}

function fundguard(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/fundguard.js', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('catalogue import diff', () => {
  // The committed catalogue before the 2026-01 update batch arrived.
  const committed = scratch();
  const withoutUpdate = sampleWith({ 'updates_2026-01.json': () => [] });
  writeCatalogue(importCatalogue(withoutUpdate), committed);

  it('reports a new update batch as added and superseded knowledge points, by rule class', () => {
    const diff = diffCatalogue(readCommittedCatalogue(committed), importCatalogue(sampleDir).catalogue);
    expect(diff.byRuleClass).toEqual([
      {
        ruleClass: '药品区分性别使用',
        added: ['KP-c000000000000001', 'KP-c000000000000002'],
        superseded: ['KP-a000000000000001'],
        removed: [],
        changed: [],
      },
    ]);
    expect(diff.totals).toEqual({ added: 2, superseded: 1, removed: 0, changed: 0 });
  });

  it('reports a point no batch lists any more as removed, and a reworded one as changed', () => {
    const edited = sampleWith({
      'updates_2026-01.json': () => [],
      'batch_07.json': (records) =>
        records
          .filter((r) => r.kp_id !== 'KP-b000000000000003')
          .map((r) => (r.kp_id === 'KP-b000000000000002' ? { ...r, constraint: '限住院患者。' } : r)),
    });
    const diff = diffCatalogue(readCommittedCatalogue(committed), importCatalogue(edited).catalogue);
    expect(diff.byRuleClass).toEqual([
      expect.objectContaining({ ruleClass: '药品限就医方式', changed: ['KP-b000000000000002'] }),
      expect.objectContaining({ ruleClass: '药品限医疗机构级别', removed: ['KP-b000000000000003'] }),
    ]);
    expect(formatDiff(diff, 'rules/catalogue')).toBe(
      [
        'against rules/catalogue: 0 added, 0 superseded, 1 removed, 1 changed',
        '       added  superseded     removed     changed  rule class',
        '           0           0           0           1  药品限就医方式',
        '           0           0           1           0  药品限医疗机构级别',
      ].join('\n'),
    );
  });

  it('finds nothing to report when the source has not changed', () => {
    const diff = diffCatalogue(readCommittedCatalogue(committed), importCatalogue(withoutUpdate).catalogue);
    expect(isUnchanged(diff)).toBe(true);
    expect(readCommittedCatalogue(scratch())).toBeUndefined();
  });
});

describe('fundguard catalogue import', () => {
  it('prints the diff before writing, writes the same bytes every time, and a second import changes nothing', () => {
    const out = join(scratch(), 'catalogue');
    const first = fundguard('catalogue', 'import', sampleDir, '--out', out);
    expect(first.code).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe(`no catalogue in ${out} yet: 9 knowledge points added`);
    expect(first.stdout).toContain(`written to ${out}`);
    const bytes = readFileSync(join(out, 'knowledge-points.json'));
    const written = statSync(join(out, 'knowledge-points.json')).mtimeMs;

    const second = fundguard('catalogue', 'import', sampleDir, '--out', out);
    expect(second.code).toBe(0);
    expect(second.stdout.split('\n')[0]).toBe(
      `against ${out}: 0 added, 0 superseded, 0 removed, 0 changed (the knowledge points in force are unchanged)`,
    );
    expect(second.stdout).toContain(`${out} is up to date: nothing written`);
    expect(readFileSync(join(out, 'knowledge-points.json'))).toEqual(bytes);
    expect(statSync(join(out, 'knowledge-points.json')).mtimeMs).toBe(written);
  });

  it('only reports with --dry-run, and exits 1 with --check when the import would change the catalogue', () => {
    const out = join(scratch(), 'catalogue');
    writeCatalogue(importCatalogue(sampleWith({ 'updates_2026-01.json': () => [] })), out);
    const before = readFileSync(join(out, 'knowledge-points.json'), 'utf8');

    const dry = fundguard('catalogue', 'import', sampleDir, '--out', out, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 added, 1 superseded, 0 removed, 0 changed');
    expect(dry.stdout).toContain(`would rewrite knowledge-points.json in ${out}`);
    const check = fundguard('catalogue', 'import', sampleDir, '--out', out, '--check');
    expect(check.code).toBe(1);
    expect(readFileSync(join(out, 'knowledge-points.json'), 'utf8')).toBe(before);

    writeCatalogue(importCatalogue(sampleDir), out);
    const upToDate = fundguard('catalogue', 'import', sampleDir, '--out', out, '--check');
    expect(upToDate.code).toBe(0);
    expect(upToDate.stdout).toContain(`${out} is up to date`);
  });
});
