import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest's global setup: the run's temp files (rule-set copies, generated months, spill files,
 * cdk.out directories, browser profiles) go in one directory of their own, removed when the run
 * ends, instead of a few hundred MB left in the system's temp dir by every run. The test workers
 * inherit TMPDIR, and so do the processes they start.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-test-run-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
