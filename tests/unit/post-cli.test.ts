import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostFlag } from '../../src/contracts/flag.ts';
import { Score } from '../../src/contracts/score.ts';

const dir = mkdtempSync(join(tmpdir(), 'fundguard-audit-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fundguard(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/fundguard.js', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const flagsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => PostFlag.parse(JSON.parse(line)));

describe('fundguard audit', () => {
  const month = join(dir, 'month.ndjson');
  beforeAll(() => {
    expect(
      fundguard('generate', '--month', '2026-10', '--claims', '8000', '--seed', '5', '--out', month).code,
    ).toBe(0);
  });

  it('audits a generated month: every injected pattern on stdout, a ranked Chinese scorecard on stderr', () => {
    const scores = join(dir, 'scores.json');
    const run = fundguard('audit', '--input', month, '--scores-out', scores);
    expect(run.code).toBe(0);
    const flags = flagsOf(run.stdout);
    const truth: { ruleId: string; claimId?: string; subject?: { id: string } }[] = JSON.parse(
      readFileSync(`${month}.truth.json`, 'utf8'),
    ).truth;
    for (const t of truth) {
      expect(
        flags.some(
          (f) =>
            f.ruleId === t.ruleId &&
            (t.claimId
              ? 'claimId' in f && f.claimId === t.claimId
              : 'subject' in f && f.subject.id === t.subject?.id),
        ),
        `${t.ruleId} ${t.claimId ?? t.subject?.id}`,
      ).toBe(true);
    }
    expect(run.stderr).toMatch(/审核期间 2026-10：\d[\d,]* 笔结算/);
    expect(run.stderr).toMatch(/分解住院\s+FG-POST-SPLIT-ADMISSION\s+\d+/);
    expect(run.stderr).toContain('医院费用-质量综合评分');
    expect(run.stderr).toMatch(/\n1\s+H2001\s+2级\s+\d+\.\d/);
    const written = JSON.parse(readFileSync(scores, 'utf8')) as unknown[];
    expect(written.length).toBeGreaterThan(30);
    for (const s of written) expect(() => Score.parse(s)).not.toThrow();
  });

  // Two audits of the month, one starting worker threads (each loads the rules): slow on a busy machine.
  it('gives the same flags from spill files and worker threads as in one thread', {
    timeout: 300_000,
  }, () => {
    const csv = join(dir, 'scores.csv');
    const inline = fundguard('audit', '--input', month, '--workers', '0', '--period', '2026-10');
    const spilled = fundguard(
      'audit',
      '--input',
      month,
      '--workers',
      '2',
      '--period',
      '2026-10',
      '--scores-out',
      csv,
    );
    expect(spilled.code).toBe(0);
    const key = (f: PostFlag) => `${f.flagId}|${f.message}`;
    expect(flagsOf(spilled.stdout).map(key).sort()).toEqual(flagsOf(inline.stdout).map(key).sort());
    expect(spilled.stderr).toMatch(/分入 \d+ 个分区，2 个线程审核 2026-10/);
    const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
    expect(header).toMatch(
      /^kind,id,hospitalId,period,level,composite,cases,amount,costIndex,costIndexScore/,
    );
    // Lowest composite first: the outlier hospital leads the hospitals.
    expect(rows.find((r) => r.startsWith('hospital,'))).toMatch(/^hospital,H2001,H2001,2026-10,2,/);
  });

  it('reports bad lines by number and reason, audits the rest and exits 2', () => {
    const lines = readFileSync(month, 'utf8').trim().split('\n');
    const broken = JSON.parse(lines[1] ?? '{}');
    broken.totals.amount = -1;
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, [lines[0], JSON.stringify(broken), '{not json', ...lines.slice(2, 400)].join('\n'));
    const run = fundguard('audit', '--input', bad, '--period', '2026-10');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.ndjson:2: totals\.amount: /);
    expect(run.stderr).toMatch(/bad\.ndjson:3: not valid JSON/);
    expect(run.stderr).toMatch(/399 笔结算/);
  });

  it('removes its spill files when interrupted with Ctrl-C, and ends by the signal', async () => {
    // Five copies of the month: the workers are still auditing when the signal comes.
    const big = join(dir, 'big.ndjson');
    writeFileSync(big, readFileSync(month, 'utf8').repeat(5));
    const scratch = mkdtempSync(join(dir, 'tmp-'));
    const child = spawn(
      process.execPath,
      ['bin/fundguard.js', 'audit', '--input', big, '--period', '2026-10', '--workers', '2'],
      { env: { ...process.env, TMPDIR: scratch }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.includes('个线程审核')) child.kill('SIGINT');
    });
    const [code, signal] = await once(child, 'exit');
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
    expect(readdirSync(scratch).filter((name) => name.startsWith('fundguard-audit-'))).toEqual([]);
  });

  it('refuses a bad period and a scores file it cannot write the format of', () => {
    expect(fundguard('audit', '--input', month, '--period', '2026-13').stderr).toContain(
      '--period must be YYYY-MM',
    );
    expect(fundguard('audit', '--input', month, '--scores-out', 'x.txt').code).toBe(2);
  });

  it('stops with the file and path when a period rule reads a fact its subject does not offer', () => {
    const rules = join(dir, 'rules');
    cpSync('rules', rules, { recursive: true });
    const file = join(rules, 'period', 'split-admission.json');
    const rule = JSON.parse(readFileSync(file, 'utf8'));
    rule.conditions.all[0].path = '$.gapWeeks';
    writeFileSync(file, JSON.stringify(rule));
    const run = fundguard('rules', 'lint', '--rules', rules);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /split-admission\.json: conditions: subject "readmission" offers no "gapWeeks"/,
    );
    const policy = join(rules, 'policy', 'score-policy.json');
    const p = JSON.parse(readFileSync(policy, 'utf8'));
    p.components.drugShare.weight = 'high';
    writeFileSync(policy, JSON.stringify(p));
    expect(fundguard('rules', 'lint', '--rules', rules).stderr).toMatch(
      /score-policy\.json: components\.drugShare\.weight: expected number/,
    );
  });
});
