import { parseArgs } from 'node:util';
import { Claim } from '../contracts/claim.ts';
import type { Core } from '../core.ts';
import { Backtest, type BacktestReport, type HitExample } from '../pipeline/backtest.ts';
import { readClaims } from './claims.ts';
import { displayWidth, pad } from './summary.ts';
import { UsageError } from './usage.ts';

export const BACKTEST_USAGE = `  rules backtest --input FILE.ndjson [--baseline published|DIR] [--stage in|post] [--json]
                                              working rules vs the baseline over the same claims: hits, amount at risk, diff`;

export interface BacktestIo {
  out(s: string): void;
  err(s: string): void;
  /** The working rules (the rules directory). */
  working(dir: string | undefined): Core;
  /** `published` (the active version of the versions table) or a rules directory. */
  baseline(which: string): Promise<Core>;
}

/** `fundguard rules backtest`: exit 0 when it ran (a diff is not an error), 2 on bad input lines. */
export async function backtest(args: string[], io: BacktestIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      baseline: { type: 'string', default: 'published' },
      stage: { type: 'string', default: 'in' },
      json: { type: 'boolean', default: false },
      rules: { type: 'string' },
    },
    strict: true,
  });
  if (!values.input) throw new UsageError('--input FILE.ndjson is required');
  const stage = values.stage;
  if (stage !== 'in' && stage !== 'post') throw new UsageError('--stage must be in or post');
  const working = io.working(values.rules);
  const baseline = await io.baseline(values.baseline);
  const run = new Backtest(working.screener, baseline.screener, stage);
  let malformed = 0;
  const started = performance.now();
  // Settled claims only: a backtest replays what the in-process and post-event stages saw.
  for await (const claim of readClaims(values.input, Claim, (problem) => {
    malformed += 1;
    io.err(problem);
  }))
    await run.add(claim);
  const seconds = (performance.now() - started) / 1000;
  const report = run.report();
  if (values.json) io.out(JSON.stringify({ ...report, malformed }, null, 2));
  else io.out(formatBacktest(report));
  io.err(
    `${report.claims} claims backtested, ${malformed} malformed, in ${seconds.toFixed(2)} s (${Math.round(report.claims / Math.max(seconds, 1e-9))} claims/s, both rule sets)`,
  );
  return malformed ? 2 : 0;
}

const yuan = (n: number): string => n.toFixed(2);
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

const describeHit = (h: HitExample): string =>
  `${h.claimId} lines ${h.lineNos.join(',')}  ${yuan(h.amountAtRisk)} 元  ${h.message}${h.exemptionId ? `  [exempted: ${h.exemptionId}]` : ''}`;

/** The report as a rule author reads it: totals, a table by rule, then each rule's diff with examples. */
export function formatBacktest(report: BacktestReport): string {
  const { working: w, baseline: b } = report;
  const lines = [
    `backtest, stage ${report.stage}, ${report.claims} claims: working ${w.version} vs baseline ${b.version}`,
    `  working   ${w.hits} hits on ${w.claims} claims, ${yuan(w.amountAtRisk)} 元 at risk`,
    `  baseline  ${b.hits} hits on ${b.claims} claims, ${yuan(b.amountAtRisk)} 元 at risk`,
    `  diff      ${report.newHits} new hits, ${report.lostHits} lost hits, ${signed(Math.round((w.amountAtRisk - b.amountAtRisk) * 100) / 100)} 元`,
    '',
  ];
  const width = Math.max(10, ...report.rules.map((r) => displayWidth(r.ruleClass)));
  lines.push(
    `${pad('rule class', width)}  ${pad('rule', 26)}  ${'hits'.padStart(6)}  ${'claims'.padStart(6)}  ${'at risk'.padStart(11)}  ${'exempt'.padStart(6)}  ${'base'.padStart(6)}  ${'new'.padStart(5)}  ${'lost'.padStart(5)}`,
  );
  for (const r of report.rules) {
    lines.push(
      `${pad(r.ruleClass, width)}  ${pad(r.ruleId, 26)}  ${String(r.hits).padStart(6)}  ${String(r.claims).padStart(6)}  ${yuan(r.amountAtRisk).padStart(11)}  ${String(r.exempted).padStart(6)}  ${String(r.baseline.hits).padStart(6)}  ${String(r.newHits.count).padStart(5)}  ${String(r.lostHits.count).padStart(5)}`,
    );
  }
  for (const r of report.rules) {
    if (!r.newHits.count && !r.lostHits.count) continue;
    lines.push(
      '',
      `${r.ruleId}: ${r.newHits.count} new (${yuan(r.newHits.amountAtRisk)} 元), ${r.lostHits.count} lost (${yuan(r.lostHits.amountAtRisk)} 元)`,
    );
    for (const h of r.newHits.examples) lines.push(`  + ${describeHit(h)}`);
    if (r.newHits.count > r.newHits.examples.length)
      lines.push(`  + … ${r.newHits.count - r.newHits.examples.length} more`);
    for (const h of r.lostHits.examples) lines.push(`  - ${describeHit(h)}`);
    if (r.lostHits.count > r.lostHits.examples.length)
      lines.push(`  - … ${r.lostHits.count - r.lostHits.examples.length} more`);
  }
  return lines.join('\n');
}
