import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateMonth } from '../../src/generator/month.ts';
import { type AuditCore, loadAuditCore } from '../../src/post/audit.ts';
import { auditFile } from '../../src/post/file.ts';

const NOW = new Date('2026-11-01T02:00:00Z');
let core: AuditCore;
let dir: string;
let month: string;
const systemTmp = process.env.TMPDIR;

beforeAll(() => {
  core = loadAuditCore();
  dir = mkdtempSync(join(tmpdir(), 'fundguard-file-audit-'));
  month = join(dir, 'month.ndjson');
  const { claims } = generateMonth({ seed: 3, period: '2026-10', claims: 2_000, outlierHospitals: 1 }, core);
  writeFileSync(month, claims.map((c) => `${JSON.stringify(c)}\n`).join(''));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  if (systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTmp;
});

describe('auditFile over worker threads', () => {
  it('gives the flags and scores of the in-thread audit, in the same order on every run', async () => {
    const inThread = await auditFile(month, core, { period: '2026-10', now: NOW, workers: 0 });
    const spilled = () =>
      auditFile(month, core, { period: '2026-10', now: NOW, workers: 2, partitionBytes: 64 * 1024 });
    const [a, b] = [await spilled(), await spilled()];
    expect(a.partitions).toBeGreaterThan(4);
    expect(a.scores).toEqual(inThread.scores);
    expect(a.flags).toEqual(inThread.flags);
    const ids = (xs: { flagId: string }[]) => xs.map((f) => f.flagId);
    expect([...ids(a.claimFlags)].sort()).toEqual([...ids(inThread.claimFlags)].sort());
    expect(ids(b.claimFlags)).toEqual(ids(a.claimFlags));
  });

  it("fails with a worker's reason, instead of waiting for it, and leaves no spill files", async () => {
    const scratch = mkdtempSync(join(dir, 'tmp-'));
    process.env.TMPDIR = scratch;
    await expect(
      auditFile(month, core, {
        period: '2026-10',
        now: NOW,
        workers: 2,
        rulesDir: join(scratch, 'no-rules'),
      }),
    ).rejects.toThrow(/no-rules/);
    // (The workers' TypeScript loader keeps its cache there too.)
    expect(readdirSync(scratch).filter((name) => name.startsWith('fundguard-audit-'))).toEqual([]);
  });
});
