import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { Flag } from '../contracts/flag.ts';
import { hash32 } from '../generator/random.ts';
import { defaultRulesDir } from '../rules/load.ts';
import type { Aggregates } from './aggregates.ts';
import { type AuditCore, auditContext, byPatient, mapPatients, reduceFrom } from './audit.ts';
import { type BadLine, type PartitionResult, parseLines } from './partition.ts';
import type { Reduced } from './reduce.ts';

/**
 * The file path of the audit, bounded in memory whatever the file's size or order: claims are
 * partitioned by a hash of the patient id into spill files (so each patient lies whole in one),
 * worker threads run the same map over one spill file at a time, and the main thread merges their
 * aggregates and reduces. Small files are mapped in the main thread without spilling.
 */
export interface FileAuditOptions {
  /** `YYYY-MM`; the latest month of the file's service dates when absent. */
  period?: string;
  now: Date;
  rulesDir?: string;
  /**
   * Worker threads. Absent: the machine's parallelism, for files above `spillAboveBytes`. A number
   * spills any file to that many workers; 0 maps in the main thread.
   */
  workers?: number;
  /** Bytes of input above which the file is spilled and mapped by workers. */
  spillAboveBytes?: number;
  /** Target bytes per spill file. */
  partitionBytes?: number;
  onProgress?: (message: string) => void;
}

export interface FileAudit extends Reduced {
  period: string;
  claimFlags: Flag[];
  bad: BadLine[];
  claims: number;
  patients: number;
  lines: number;
  partitions: number;
}

const INSURED_ID = /"insuredId"\s*:\s*"([^"]*)"/;
const SERVICE_MONTH = /"serviceDate"\s*:\s*"(\d{4}-\d{2})/;
const SPILL_ABOVE = 64 * 1024 * 1024;
const PARTITION_BYTES = 24 * 1024 * 1024;

async function* numberedLines(path: string): AsyncGenerator<{ lineNo: number; text: string }> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNo = 0;
  for await (const text of lines) {
    lineNo += 1;
    if (text.trim()) yield { lineNo, text };
  }
}

/** Audit an NDJSON claims file. Bad lines are reported, the rest audited. */
export async function auditFile(
  path: string,
  core: AuditCore,
  options: FileAuditOptions,
): Promise<FileAudit> {
  const size = statSync(path).size;
  const workers = options.workers ?? Math.max(1, availableParallelism());
  const progress = options.onProgress ?? (() => {});
  if (workers === 0 || (options.workers === undefined && size <= (options.spillAboveBytes ?? SPILL_ABOVE))) {
    const numbered: string[] = [];
    let latest = '';
    for await (const { lineNo, text } of numberedLines(path)) {
      numbered.push(`${lineNo}\t${text}`);
      const month = SERVICE_MONTH.exec(text)?.[1];
      if (month && month > latest) latest = month;
    }
    const period = options.period ?? latest;
    const bad: BadLine[] = [];
    const claims = parseLines(numbered, bad);
    const { flags, aggregates } = await mapPatients(
      byPatient(claims),
      auditContext(core, period, options.now),
    );
    const reduced = await reduceFrom([aggregates], core, period, options.now);
    return {
      ...reduced,
      period,
      claimFlags: flags,
      bad,
      claims: aggregates.claims,
      patients: aggregates.patients,
      lines: numbered.length,
      partitions: 1,
    };
  }

  const partitions = Math.max(workers * 2, Math.ceil(size / (options.partitionBytes ?? PARTITION_BYTES)));
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-audit-'));
  try {
    const paths = Array.from({ length: partitions }, (_, i) => join(dir, `${i}.ndjson`));
    const streams: WriteStream[] = paths.map((p) => createWriteStream(p));
    let latest = '';
    let lines = 0;
    for await (const { lineNo, text } of numberedLines(path)) {
      lines += 1;
      const month = SERVICE_MONTH.exec(text)?.[1];
      if (month && month > latest) latest = month;
      // A line without a readable patient id still goes somewhere, to be reported by its worker.
      const stream = streams[hash32(INSURED_ID.exec(text)?.[1] ?? '') % partitions] as WriteStream;
      if (!stream.write(`${lineNo}\t${text}\n`))
        await new Promise<void>((r) => stream.once('drain', () => r()));
      if (lines % 200_000 === 0) progress(`已读取 ${lines.toLocaleString('en-US')} 行，按参保人分区中…`);
    }
    await Promise.all(streams.map((s) => new Promise<void>((r) => s.end(() => r()))));
    const period = options.period ?? latest;
    progress(
      `${lines.toLocaleString('en-US')} 行分入 ${partitions} 个分区，${workers} 个线程审核 ${period}…`,
    );
    const results = await mapInWorkers(
      paths,
      workers,
      {
        rulesDir: options.rulesDir ?? defaultRulesDir(),
        period,
        now: options.now.toISOString(),
      },
      (done) => progress(`分区 ${done}/${partitions} 已审核`),
    );
    const partials: Aggregates[] = results.map((r) => r.aggregates);
    const reduced = await reduceFrom(partials, core, period, options.now);
    return {
      ...reduced,
      period,
      claimFlags: results.flatMap((r) => r.flags),
      bad: results.flatMap((r) => r.bad).sort((a, b) => a.lineNo - b.lineNo),
      claims: partials.reduce((s, a) => s + a.claims, 0),
      patients: partials.reduce((s, a) => s + a.patients, 0),
      lines,
      partitions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type WorkerReply =
  | { ready: true }
  | { path: string; result: PartitionResult }
  | { path: string; error: string };

/** Hand the spill files to a pool of worker threads, one file at a time each, in file order. */
function mapInWorkers(
  paths: readonly string[],
  count: number,
  start: { rulesDir: string; period: string; now: string },
  onDone: (done: number) => void,
): Promise<PartitionResult[]> {
  return new Promise((resolve, reject) => {
    const results = new Map<string, PartitionResult>();
    const queue = [...paths];
    const pool: Worker[] = [];
    let failed = false;
    const stopAll = (error: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(error);
    };
    const next = (w: Worker): void => {
      const path = queue.shift();
      w.postMessage(path === undefined ? null : { path });
    };
    for (let i = 0; i < Math.min(count, paths.length); i++) {
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: { ...start, entry: new URL('./worker.ts', import.meta.url).href },
      });
      pool.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if ('ready' in reply) return next(worker);
        if ('error' in reply)
          return stopAll(new Error(`audit worker failed on ${reply.path}: ${reply.error}`));
        results.set(reply.path, reply.result);
        onDone(results.size);
        if (results.size === paths.length) {
          for (const w of pool) w.postMessage(null);
          resolve(paths.map((p) => results.get(p) as PartitionResult));
        } else next(worker);
      });
      worker.on('error', stopAll);
      worker.on('exit', (code) => {
        if (code !== 0 && results.size < paths.length)
          stopAll(new Error(`audit worker exited with code ${code}`));
      });
    }
  });
}

/** Read a flags NDJSON file (`fundguard screen --stage in` output) for its flag ids. */
export function readFlagIds(path: string): Set<string> {
  const ids = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const id = (JSON.parse(line) as { flagId?: unknown }).flagId;
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}
