import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuditCore } from '../src/post/audit.ts';
import { auditFile } from '../src/post/file.ts';
import { round, writeSection } from './results.ts';

/**
 * The post-event file path on a generated month: 1,000,000 claims (BENCH_POST_CLAIMS to change),
 * spilled by patient and mapped by worker threads. Generation runs in a child process and is not
 * timed; the month file is kept in the temp dir and reused when it is already there.
 *
 * `rulesCoreCpuSeconds`, the rules core's whole-pack time in the same run: this machine's speed
 * varies up to 2× from run to run, and the audit's time follows it, so their ratio is what
 * compares across runs.
 */
export async function benchPostEvent(rulesCoreCpuSeconds?: number): Promise<void> {
  const claims = Number(process.env.BENCH_POST_CLAIMS ?? 1_000_000);
  const dir = join(tmpdir(), 'fundguard-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `month-2026-10-${claims}-seed7.ndjson`);
  if (!existsSync(`${path}.truth.json`)) {
    process.stderr.write(
      `post-event: generating ${claims.toLocaleString('en-US')} claims into ${path} (not timed)…\n`,
    );
    const gen = spawnSync(
      process.execPath,
      [
        'bin/fundguard.js',
        'generate',
        '--month',
        '2026-10',
        '--claims',
        String(claims),
        '--seed',
        '7',
        '--out',
        path,
      ],
      { stdio: 'inherit' },
    );
    if (gen.status !== 0) throw new Error(`generating the month failed with exit code ${gen.status}`);
  }
  const core = loadAuditCore();
  const workers = Math.max(1, availableParallelism());
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await auditFile(path, core, {
    period: '2026-10',
    now: new Date('2026-11-01T02:00:00Z'),
    workers,
    onProgress: (m) => process.stderr.write(`post-event: ${m}\n`),
  });
  const seconds = (performance.now() - started) / 1000;
  // CPU time of the process, worker threads included: the machine is shared, so wall time alone
  // says as much about the neighbours as about the audit.
  const cpu = process.cpuUsage(cpuBefore);
  const [load1] = loadavg();
  // maxRSS covers the worker threads too (they share the process); the month was generated elsewhere.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const postEvent = {
    claims: result.claims,
    seconds: round(seconds, 1),
    claimsPerSec: Math.round(result.claims / seconds),
    peakRssMb: Math.round(peakRssMb),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
    loadAverage: round(load1 ?? 0, 1),
    workers,
    partitions: result.partitions,
    flags: result.claimFlags.length + result.flags.length,
    scores: result.scores.length,
    ...(rulesCoreCpuSeconds
      ? { rulesCoreCpuSeconds, secondsPerRulesCoreCpuSecond: round(seconds / rulesCoreCpuSeconds, 1) }
      : {}),
  };
  writeSection('postEvent', postEvent);
  process.stderr.write(`postEvent: ${JSON.stringify(postEvent)}\n`);
}
