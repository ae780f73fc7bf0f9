import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Keyring, readKeysFile } from '../../src/api/keys.ts';
import { Claim } from '../../src/contracts/claim.ts';
import { Flag } from '../../src/contracts/flag.ts';
import { parseJsonContract } from '../../src/contracts/issues.ts';
import { rulesCopy, supplyLimit } from '../helpers/rules-copy.ts';
import { readTruth } from '../helpers/truth.ts';

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
    expect(readTruth(`${stream}.truth.json`)).toHaveLength(80);
  });

  it('screens it: one valid flag per stdout line, every injected violation among them, a summary on stderr', () => {
    const run = fundguard('screen', '--stage', 'in', '--input', stream);
    expect(run.code).toBe(0);
    const flags = run.stdout
      .trim()
      .split('\n')
      .map((line) => Flag.parse(JSON.parse(line)));
    const truth = readTruth(`${stream}.truth.json`);
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
    const claim = parseJsonContract(Claim, 'claim', good ?? '');
    const [first, ...others] = claim.items;
    const broken = { ...claim, items: [{ ...first, quantity: '2' }, ...others] };
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, [good, '{"claimId": ', JSON.stringify(broken), good].join('\n'));
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

describe('fundguard keys', () => {
  const file = join(dir, 'keys', 'test.json');

  it('issues a key shown once, stores only its hash, and lets the keyring verify it', () => {
    const run = fundguard('keys', 'issue', '--file', file, '--hospital', 'H3001');
    expect(run.code).toBe(0);
    const key = run.stdout.trim();
    expect(key).toMatch(/^fgk_[A-Za-z0-9_-]{43}$/);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(key);
    const identity = new Keyring(readKeysFile(file)).verify(key);
    expect(identity?.hospitalId).toBe('H3001');
    expect(run.stderr).toContain(`issued ${identity?.keyId} for H3001`);
  });

  it('lists key ids and hospitals, never a key', () => {
    const run = fundguard('keys', 'list', '--file', file);
    expect(run.code).toBe(0);
    const [entry] = readKeysFile(file).keys;
    expect(run.stdout).toBe(`${entry?.keyId}\tH3001\n`);
  });

  it('refuses a third key for a hospital: a rotation holds two at most', () => {
    expect(fundguard('keys', 'issue', '--file', file, '--hospital', 'H3001').code).toBe(0);
    const third = fundguard('keys', 'issue', '--file', file, '--hospital', 'H3001');
    expect(third).toMatchObject({ code: 2, stderr: expect.stringContaining('already has 2 keys') });
    expect(readKeysFile(file).keys).toHaveLength(2);
  });

  it('revokes a key by its id, and names a key id it does not know', () => {
    const [first] = readKeysFile(file).keys;
    const run = fundguard('keys', 'revoke', first?.keyId ?? '', '--file', file);
    expect(run.code).toBe(0);
    expect(readKeysFile(file).keys.map((k) => k.keyId)).not.toContain(first?.keyId);
    expect(fundguard('keys', 'revoke', 'H3001-nope', '--file', file)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no key H3001-nope'),
    });
  });

  it('exits 2 without a stage or file, or with an unknown subcommand', () => {
    expect(fundguard('keys', 'list')).toMatchObject({ code: 2, stderr: expect.stringContaining('--stage') });
    expect(fundguard('keys', 'rotate', '--file', file)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('issue, revoke or list'),
    });
  });
});

describe('fundguard rules backtest', () => {
  const stream = join(dir, 'backtest.ndjson');

  // Three CLI processes, two of them loading two whole rule sets and catalogues: more than the
  // default minute on a loaded machine, though each is a few CPU seconds.
  it('prints the diff against a baseline directory, and the same report as JSON with --json', {
    timeout: 180_000,
  }, () => {
    expect(fundguard('generate', '--claims', '300', '--seed', '5', '--out', stream).code).toBe(0);
    const baseline = rulesCopy({ 'drug-max-supply.json': supplyLimit(20) });
    const text = fundguard('rules', 'backtest', '--input', stream, '--baseline', baseline);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /backtest, stage in, 300 claims: working rs-[0-9a-f]{16} vs baseline rs-[0-9a-f]{16}/,
    );
    const json = fundguard('rules', 'backtest', '--input', stream, '--baseline', baseline, '--json');
    const report = JSON.parse(json.stdout) as {
      lostHits: number;
      rules: { ruleId: string; lostHits: { count: number } }[];
    };
    // The working rules allow 30 days where the baseline allowed 20: its extra hits are lost.
    expect(report.lostHits).toBeGreaterThan(0);
    expect(report.rules[0]).toMatchObject({
      ruleId: 'NHSA-DRUG-MAX-SUPPLY',
      lostHits: { count: report.lostHits },
    });
    expect(text.stdout).toContain(`NHSA-DRUG-MAX-SUPPLY: 0 new (0.00 元), ${report.lostHits} lost`);
  });

  it('refuses a baseline that is neither published nor a directory', () => {
    const run = fundguard('rules', 'backtest', '--input', stream, '--baseline', join(dir, 'nope'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is neither "published" nor a rules directory');
  });
});
