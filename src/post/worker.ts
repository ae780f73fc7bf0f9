import { parentPort, workerData } from 'node:worker_threads';
import { auditContext, loadAuditCore } from './audit.ts';
import { auditPartitionFile } from './partition.ts';

/**
 * A worker thread of the file audit: loads the rules once, then maps the spill files the main
 * thread hands it, one at a time, and sends back each file's flags, aggregates and bad lines. The
 * main thread terminates it when the audit ends.
 */
const port = parentPort;
if (!port) throw new Error('src/post/worker.ts runs as a worker thread');
const { rulesDir } = workerData as { rulesDir: string; entry: string };
const core = loadAuditCore(rulesDir);
port.on('message', ({ path, period, now }: { path: string; period: string; now: string }) => {
  auditPartitionFile(path, auditContext(core, period, new Date(now))).then(
    (result) => port.postMessage({ path, result }),
    (error: unknown) => port.postMessage({ path, error: String((error as Error)?.stack ?? error) }),
  );
});
