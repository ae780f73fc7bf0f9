import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Claim } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { hash32 } from '../generator/random.ts';
import { defaultRulesDir } from '../rules/load.ts';
import type { Aggregates } from './aggregates.ts';
import { type AuditCore, auditContext, byPatient, mapPatients, reduceFrom } from './audit.ts';
import { forEachLine, SpillWriter, stringField } from './lines.ts';
import { type BadLine, type PartitionResult, parseClaimLine } from './partition.ts';
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

const INSURED_ID = Buffer.from('"insuredId"');
const SERVICE_DATE = Buffer.from('"serviceDate"');
const SPILL_ABOVE = 64 * 1024 * 1024;
const PARTITION_BYTES = 24 * 1024 * 1024;

/** Tracks the latest `YYYY-MM` of the lines' first service dates, the period when none is given. */
class LatestMonth {
  value = '';
  see(buf: Buffer, start: number, end: number): void {
    const month = stringField(buf, start, end, SERVICE_DATE)?.slice(0, 7);
    if (month && /^\d{4}-\d{2}$/.test(month) && month > this.value) this.value = month;
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
  const latest = new LatestMonth();
  if (workers === 0 || (options.workers === undefined && size <= (options.spillAboveBytes ?? SPILL_ABOVE))) {
    const bad: BadLine[] = [];
    const claims: Claim[] = [];
    let lines = 0;
    forEachLine(path, (buf, start, end, lineNo) => {
      lines += 1;
      if (!options.period) latest.see(buf, start, end);
      parseClaimLine(buf, start, end, lineNo, claims, bad);
    });
    const period = options.period ?? latest.value;
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
      lines,
      partitions: 1,
    };
  }

  const partitions = Math.max(workers * 2, Math.ceil(size / (options.partitionBytes ?? PARTITION_BYTES)));
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-audit-'));
  try {
    const paths = Array.from({ length: partitions }, (_, i) => join(dir, `${i}.ndjson`));
    const spills = paths.map((p) => new SpillWriter(p));
    let lines = 0;
    try {
      forEachLine(path, (buf, start, end, lineNo) => {
        lines += 1;
        if (!options.period) latest.see(buf, start, end);
        // A line without a readable patient id still goes somewhere, to be reported by its worker.
        const spill = spills[
          hash32(stringField(buf, start, end, INSURED_ID) ?? '') % partitions
        ] as SpillWriter;
        spill.write(`${lineNo}\t`, buf, start, end);
        if (lines % 200_000 === 0) progress(`已读取 ${lines.toLocaleString('en-US')} 行，按参保人分区中…`);
      });
    } finally {
      for (const spill of spills) spill.close();
    }
    const period = options.period ?? latest.value;
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

/**
 * A worker's young generation (V8 sizes it at three semi-spaces; the default semi-space is 16 MB).
 * The map allocates short-lived facts and subjects for every claim; with 32 MB semi-spaces fewer of
 * them live long enough to be copied, which cut a worker's CPU by about a tenth, for ~50 MB more
 * memory per worker.
 */
const WORKER_YOUNG_GENERATION_MB = 96;

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
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
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
