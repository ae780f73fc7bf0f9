import { parentPort, workerData } from 'node:worker_threads';
import { auditContext, loadAuditCore } from './audit.ts';
import { auditPartitionFile } from './partition.ts';

/**
 * A worker thread of the file audit: loads the rules once, then maps the spill files the main
 * thread hands it, one at a time, and sends back each file's flags, aggregates and bad lines.
 */
interface Start {
  rulesDir: string;
  period: string;
  now: string;
}

const port = parentPort;
if (!port) throw new Error('src/post/worker.ts runs as a worker thread');
const { rulesDir, period, now } = workerData as Start & { entry: string };
const ctx = auditContext(loadAuditCore(rulesDir), period, new Date(now));
port.on('message', (message: { path: string } | null) => {
  if (message === null) {
    port.close();
    return;
  }
  auditPartitionFile(message.path, ctx).then(
    (result) => port.postMessage({ path: message.path, result }),
    (error: unknown) =>
      port.postMessage({ path: message.path, error: String((error as Error)?.stack ?? error) }),
  );
});
port.postMessage({ ready: true });
