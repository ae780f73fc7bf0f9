import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PostFlag } from '../contracts/flag.ts';
import { loadAuditCore } from '../post/audit.ts';
import { auditFile, readFlagIds } from '../post/file.ts';
import { formatFlagSummary, formatScorecard, scoresCsv } from '../post/scorecard.ts';

export interface AuditIo {
  out: (s: string) => void;
  err: (s: string) => void;
  usage: (message: string) => Error;
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * `fundguard audit --input FILE.ndjson [--period YYYY-MM] [--scores-out FILE.json|FILE.csv]
 * [--in-flags FLAGS.ndjson] [--workers N]`: post-event flags as NDJSON on stdout; a summary, the
 * ranked scorecard and progress on stderr. Exit 0 when it ran, 2 when some lines were bad.
 */
export async function audit(args: string[], io: AuditIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      period: { type: 'string' },
      'scores-out': { type: 'string' },
      'in-flags': { type: 'string' },
      workers: { type: 'string' },
      rules: { type: 'string' },
      top: { type: 'string' },
    },
    strict: true,
  });
  if (!values.input) throw io.usage('--input FILE.ndjson is required');
  if (values.period !== undefined && !PERIOD.test(values.period))
    throw io.usage(`--period must be YYYY-MM, got "${values.period}"`);
  const scoresOut = values['scores-out'];
  if (scoresOut && !/\.(json|csv)$/.test(scoresOut)) throw io.usage('--scores-out must end in .json or .csv');
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0))
    throw io.usage(`--workers must be a whole number, got "${values.workers}"`);
  const core = loadAuditCore(values.rules);
  const started = performance.now();
  let result: Awaited<ReturnType<typeof auditFile>>;
  try {
    result = await auditFile(values.input, core, {
      now: new Date(),
      ...(values.period ? { period: values.period } : {}),
      ...(values.rules ? { rulesDir: values.rules } : {}),
      ...(workers !== undefined ? { workers } : {}),
      onProgress: (m) => io.err(m),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw io.usage(`cannot read ${values.input}: no such file`);
    throw error;
  }
  for (const b of result.bad) io.err(`${values.input}:${b.lineNo}: ${b.reason}`);
  // A post flag repeating an in-process flag (same id: same claim, rule, version, lines) is not written again.
  const known = values['in-flags'] ? readFlagIds(values['in-flags']) : new Set<string>();
  const claimFlags = [...result.claimFlags].sort(
    (a, b) =>
      a.claimId.localeCompare(b.claimId) ||
      a.ruleId.localeCompare(b.ruleId) ||
      a.flagId.localeCompare(b.flagId),
  );
  const written: PostFlag[] = [...claimFlags.filter((f) => !known.has(f.flagId)), ...result.flags];
  for (const f of written) io.out(JSON.stringify(f));
  if (scoresOut)
    writeFileSync(
      scoresOut,
      scoresOut.endsWith('.csv') ? scoresCsv(result.scores) : `${JSON.stringify(result.scores, null, 2)}\n`,
    );
  const seconds = (performance.now() - started) / 1000;
  const repeated = claimFlags.length - (written.length - result.flags.length);
  io.err(
    [
      `审核期间 ${result.period}：${result.claims.toLocaleString('en-US')} 笔结算、${result.patients.toLocaleString('en-US')} 名参保人（共读取 ${result.lines.toLocaleString('en-US')} 行，${result.bad.length} 行无效），用时 ${seconds.toFixed(1)} 秒`,
      `事后标记 ${written.length} 条（结算 ${written.length - result.flags.length} 条，医院/医师 ${result.flags.length} 条）${known.size ? `；另有 ${repeated} 条与事中标记重复，未重复写出` : ''}`,
      formatFlagSummary(written),
      '',
      formatScorecard(result.scores, result.period, values.top ? Number(values.top) : 10),
      scoresOut ? `\n评分已写入 ${scoresOut}（${result.scores.length} 个）` : '',
    ].join('\n'),
  );
  return result.bad.length ? 2 : 0;
}
