import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Flag } from '../../src/contracts/flag.ts';

const dir = mkdtempSync(join(tmpdir(), 'fundguard-cli-'));

/** The CLI as a user runs it: the package's bin, in a child process. */
function fundguard(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/fundguard.js', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('fundguard CLI', () => {
  const stream = join(dir, 'claims.ndjson');

  it('generates a seeded stream with its ground truth beside it', () => {
    const run = fundguard(
      'generate',
      '--claims',
      '400',
      '--seed',
      '3',
      '--violation-rate',
      '0.2',
      '--out',
      stream,
    );
    expect(run.code).toBe(0);
    expect(readFileSync(stream, 'utf8').trim().split('\n')).toHaveLength(400);
    const truth = JSON.parse(readFileSync(`${stream}.truth.json`, 'utf8'));
    expect(truth.injected.length).toBe(80);
  });

  it('screens it: one valid flag per stdout line, every injected violation among them, a summary on stderr', () => {
    const run = fundguard('screen', '--stage', 'in', '--input', stream);
    expect(run.code).toBe(0);
    const flags = run.stdout
      .trim()
      .split('\n')
      .map((line) => Flag.parse(JSON.parse(line)));
    const truth: { claimId: string; ruleId: string }[] = JSON.parse(
      readFileSync(`${stream}.truth.json`, 'utf8'),
    ).injected;
    expect(new Set(flags.map((f) => `${f.claimId}|${f.ruleId}`))).toEqual(
      new Set(truth.map((t) => `${t.claimId}|${t.ruleId}`)),
    );
    // Readable by a Chinese auditor, with the national basis.
    const sex = flags.find((f) => f.ruleId === 'GZ-DRUG-SEX');
    expect(sex?.message).toMatch(/限(女|男)性患者使用，患者为(男|女)性/);
    expect(sex?.basis).toMatchObject({ ruleClass: '药品区分性别使用', code: 'GZ10000301004000' });
    expect(run.stderr).toContain('claims screened 400, malformed 0');
    expect(run.stderr).toMatch(/药品区分性别使用\s+GZ-DRUG-SEX/);
  });

  it('reports each malformed line with its number and reason, screens the rest and exits 2', () => {
    const [good] = readFileSync(stream, 'utf8').split('\n');
    const claim = JSON.parse(good ?? '{}');
    claim.items[0].quantity = '2';
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, [good, '{"claimId": ', JSON.stringify(claim), good].join('\n'));
    const run = fundguard('screen', '--stage', 'in', '--input', bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.ndjson:2: .*JSON/);
    expect(run.stderr).toContain('bad.ndjson:3: items[0].quantity: expected number, got string');
    expect(run.stderr).toContain('claims screened 2, malformed 2');
  });

  it('exits 2 with the reason on a missing file or a wrong stage', () => {
    expect(fundguard('screen', '--stage', 'in', '--input', join(dir, 'nope.ndjson'))).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no such file'),
    });
    expect(fundguard('screen', '--stage', 'later', '--input', stream)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--stage must be pre or in'),
    });
  });

  it('runs every rule fixture', () => {
    const run = fundguard('rules', 'test');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\d+ passed, 0 failed/);
  });
});
