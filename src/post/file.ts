import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Claim } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { hash32 } from '../generator/random.ts';
import { cleanUpOnExit } from '../on-exit.ts';
import { defaultRulesDir } from '../rules/load.ts';
import { emptyAggregates, mergeAggregates } from './aggregates.ts';
import { type AuditCore, auditContext, byPatient, mapPatients, reduceFrom, reduceMerged } from './audit.ts';
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
  const removeSpills = () => rmSync(dir, { recursive: true, force: true });
  // Interrupted (Ctrl-C), the audit would leave a copy of its input behind.
  const forgetSpills = cleanUpOnExit(removeSpills);
  // Started first, so the workers load the rules while this thread partitions the file.
  const pool = new AuditWorkers(Math.min(workers, partitions), options.rulesDir ?? defaultRulesDir());
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
    const merged = emptyAggregates();
    const claimFlags: Flag[] = [];
    const bad: BadLine[] = [];
    await pool.map(paths, { period, now: options.now.toISOString() }, (result, index) => {
      // Merged as each partial arrives: sixty partials held to the end were a third of the peak memory.
      mergeAggregates(merged, result.aggregates);
      for (const f of result.flags) claimFlags.push(f);
      for (const b of result.bad) bad.push(b);
      progress(`分区 ${index + 1}/${partitions} 已审核`);
    });
    const reduced = await reduceMerged(merged, core, period, options.now);
    return {
      ...reduced,
      period,
      claimFlags,
      bad: bad.sort((a, b) => a.lineNo - b.lineNo),
      claims: merged.claims,
      patients: merged.patients,
      lines,
      partitions,
    };
  } finally {
    pool.close();
    forgetSpills();
    removeSpills();
  }
}

/**
 * A worker's young generation (V8 sizes it at three semi-spaces; the default semi-space is 16 MB).
 * The map allocates short-lived facts and subjects for every claim; with 32 MB semi-spaces fewer of
 * them live long enough to be copied, which cut a worker's CPU by about a tenth, for ~50 MB more
 * memory per worker.
 */
const WORKER_YOUNG_GENERATION_MB = 96;

type WorkerReply = { path: string; result: PartitionResult } | { path: string; error: string };

/**
 * The audit's worker threads (src/post/worker.ts). Each loads the rules as soon as it is made and
 * then maps the spill files it is handed, one at a time.
 */
class AuditWorkers {
  readonly #workers: Worker[];
  #failure: Error | undefined;
  #onFailure: (error: Error) => void = () => {};
  #onReply: (worker: Worker, reply: WorkerReply) => void = () => {};
  #closed = false;

  constructor(count: number, rulesDir: string) {
    this.#workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: { rulesDir, entry: new URL('./worker.ts', import.meta.url).href },
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      });
      worker.on('message', (reply: WorkerReply) => this.#onReply(worker, reply));
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.#closed) this.#fail(new Error(`audit worker exited with code ${code}`));
      });
      return worker;
    });
  }

  /**
   * Maps the spill files, a worker taking the next file whenever it finishes one, and hands each
   * file's result to `onResult` in file order, whichever worker finishes first: partials merge in
   * one order, so their floating-point sums come out the same on every run.
   */
  map(
    paths: readonly string[],
    job: { period: string; now: string },
    onResult: (result: PartitionResult, index: number) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#onFailure = reject;
      const working = new Map<Worker, number>();
      const finished = new Map<number, PartitionResult>();
      let handedOut = 0;
      let delivered = 0;
      const handOut = (worker: Worker): void => {
        if (handedOut === paths.length) return;
        working.set(worker, handedOut);
        // Posted before a worker has loaded the rules, a file waits in its port until it has.
        worker.postMessage({ path: paths[handedOut], ...job });
        handedOut += 1;
      };
      this.#onReply = (worker, reply) => {
        if ('error' in reply)
          return this.#fail(new Error(`audit worker failed on ${reply.path}: ${reply.error}`));
        finished.set(working.get(worker) as number, reply.result);
        handOut(worker);
        try {
          for (let r = finished.get(delivered); r; r = finished.get(delivered)) {
            finished.delete(delivered);
            onResult(r, delivered);
            delivered += 1;
          }
        } catch (error) {
          return this.#fail(error as Error);
        }
        if (delivered === paths.length) resolve();
      };
      for (const worker of this.#workers) handOut(worker);
    });
  }

  close(): void {
    this.#closed = true;
    for (const worker of this.#workers) void worker.terminate();
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#onFailure(error);
  }
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
