import { cpus } from 'node:os';
import type { Claim } from '../src/contracts/claim.ts';
import { loadCore } from '../src/core.ts';
import { generateClaims } from '../src/generator/generate.ts';
import { InMemoryHistoryStore } from '../src/history/memory.ts';
import { type HistoryClaim, historyFor, toHistoryClaim } from '../src/history/store.ts';
import { RuleSet } from '../src/rules/rule-set.ts';
import { Screener } from '../src/rules/screen.ts';
import { HAND_WRITTEN_RULE_IDS, handWrittenScreen } from './hand-written.ts';
import { percentile, round, writeSection } from './results.ts';

/** CPU seconds (user + system) `run` takes: wall time means nothing on a machine others share. */
async function cpuSeconds(run: () => Promise<void> | void): Promise<number> {
  const start = process.cpuUsage();
  await run();
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

/** `ruleId:lines` of each flag, sorted, to compare two screeners flag for flag. */
const keysOf = (flags: readonly { ruleId: string; lineNos: readonly number[] }[]): string[] =>
  flags.map((f) => `${f.ruleId}:${f.lineNos.join(',')}`);

/**
 * The rules core against json-rules-engine used naively and against the hand-written floor, as CPU
 * time measured side by side in one run on one generated stream:
 *
 * - the whole pack (every in-process rule), each claim with the patient's earlier claims as
 *   history, as the in-process stage screens it;
 * - the naive use of the whole pack on a sample — new engines for every claim, the default
 *   JSONPath resolver, no memo — against the core on the same sample, flags compared;
 * - the rules the floor implements (`HAND_WRITTEN_RULE_IDS`), the core restricted to them against
 *   the floor, round after round alternately, flags compared one by one.
 */
export async function benchRulesCore(claimCount = 10_000): Promise<Record<string, number>> {
  const core = loadCore();
  const { claims } = await generateClaims({ seed: 2026, claims: claimCount, violationRate: 0.05 }, core);
  const files = core.ruleSet.rules.map((r) => ({ file: r.file, source: r.source }));
  const inProcess = core.ruleSet.forStage('in').filter((r) => r.kind.scope !== 'period');
  const now = new Date('2026-11-01T00:00:00Z');

  // Each claim's history as the in-process stage reads it, built once outside the timing.
  const store = new InMemoryHistoryStore();
  const histories: HistoryClaim[][] = [];
  for (const claim of claims) {
    histories.push([...(await historyFor(claim, core.ruleSet.historyDays('in'), store))]);
    store.add(toHistoryClaim(claim));
  }
  const lines = claims.reduce((s: number, c: Claim) => s + c.items.length, 0);
  console.log(
    `stream: ${claims.length} claims, ${(lines / claims.length).toFixed(1)} lines/claim, ` +
      `${inProcess.length} in-process rules (${HAND_WRITTEN_RULE_IDS.length} hand-written), ${cpus().length} cores`,
  );

  const screenWhole = async (screener: Screener, i: number, memo = true) =>
    screener.screen(claims[i] as Claim, { stage: 'in', now, history: histories[i] ?? [], memo });

  // Warm-up, so the JIT has compiled each path before it is timed.
  for (let i = 0; i < Math.min(1_000, claims.length); i++) await screenWhole(core.screener, i);

  // 1. The whole pack, with history.
  const passes = 3;
  const latencies: number[] = [];
  let wholeFlags = 0;
  const wholeCpu =
    (await cpuSeconds(async () => {
      for (let pass = 0; pass < passes; pass++) {
        for (let i = 0; i < claims.length; i++) {
          const start = performance.now();
          wholeFlags += (await screenWhole(core.screener, i)).flags.length;
          latencies.push(performance.now() - start);
        }
      }
    })) / passes;
  wholeFlags /= passes;

  // 2. Naive json-rules-engine use of the whole pack, against the core, on the same sample.
  const sample = Math.min(claims.length, 1_000);
  const naiveKeys: string[] = [];
  const naiveCpu = await cpuSeconds(async () => {
    for (let i = 0; i < sample; i++) {
      const naive = new Screener(new RuleSet(files, { jsonPath: true }), core.catalogue);
      naiveKeys.push(...keysOf((await screenWhole(naive, i, false)).flags));
    }
  });
  const sampleKeys: string[] = [];
  const sampleCpu =
    (await cpuSeconds(async () => {
      for (let pass = 0; pass < passes; pass++)
        for (let i = 0; i < sample; i++) {
          const { flags } = await screenWhole(core.screener, i);
          if (pass === 0) sampleKeys.push(...keysOf(flags));
        }
    })) / passes;
  if (naiveKeys.join('\n') !== sampleKeys.join('\n'))
    throw new Error(`the naive run found ${naiveKeys.length} flags, the core ${sampleKeys.length}`);

  // 3. The floor's rules: the core restricted to them against the floor, alternately, no history.
  const floorFiles = files.filter(({ file }) => HAND_WRITTEN_RULE_IDS.includes(file.id));
  const missing = HAND_WRITTEN_RULE_IDS.filter((id) => !floorFiles.some(({ file }) => file.id === id));
  if (missing.length) throw new Error(`the floor implements rules the pack lacks: ${missing.join(', ')}`);
  const restricted = new Screener(new RuleSet(floorFiles), core.catalogue);
  for (const claim of claims.slice(0, 1_000)) {
    await restricted.screen(claim, { stage: 'in', now });
    handWrittenScreen(claim, core.catalogue);
  }
  let restrictedCpu = 0;
  let floorCpu = 0;
  let floorFlags = 0;
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    const coreKeys: string[] = [];
    const handKeys: string[] = [];
    restrictedCpu += await cpuSeconds(async () => {
      for (const claim of claims)
        coreKeys.push(...keysOf((await restricted.screen(claim, { stage: 'in', now })).flags));
    });
    floorCpu += await cpuSeconds(() => {
      for (const claim of claims) handKeys.push(...handWrittenScreen(claim, core.catalogue));
    });
    const [a, b] = [coreKeys.sort().join('\n'), handKeys.sort().join('\n')];
    if (a !== b)
      throw new Error(`the hand-written floor found ${handKeys.length} flags, the core ${coreKeys.length}`);
    floorFlags = handKeys.length;
  }
  restrictedCpu /= rounds;
  floorCpu /= rounds;

  latencies.sort((a, b) => a - b);
  const result = {
    claims: claims.length,
    rules: inProcess.length,
    handWrittenRules: HAND_WRITTEN_RULE_IDS.length,
    wholePackCpuSeconds: round(wholeCpu, 3),
    claimsPerCpuSecond: Math.round(claims.length / wholeCpu),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    flags: wholeFlags,
    naiveClaimsPerCpuSecond: Math.round(sample / naiveCpu),
    sampleCoreClaimsPerCpuSecond: Math.round(sample / sampleCpu),
    speedupVsNaive: round(naiveCpu / sampleCpu, 1),
    floorRulesCoreClaimsPerCpuSecond: Math.round(claims.length / restrictedCpu),
    handWrittenClaimsPerCpuSecond: Math.round(claims.length / floorCpu),
    slowdownVsHandWritten: round(restrictedCpu / floorCpu, 1),
    floorFlags,
  };
  console.table({
    'rules core, whole pack with history': {
      'claims/CPU s': result.claimsPerCpuSecond,
      'p50 ms': result.p50Ms,
      'p99 ms': result.p99Ms,
    },
    [`rules core, ${sample}-claim sample`]: { 'claims/CPU s': result.sampleCoreClaimsPerCpuSecond },
    'naive json-rules-engine, same sample': { 'claims/CPU s': result.naiveClaimsPerCpuSecond },
    "rules core, the floor's rules": { 'claims/CPU s': result.floorRulesCoreClaimsPerCpuSecond },
    'hand-written floor': { 'claims/CPU s': result.handWrittenClaimsPerCpuSecond },
  });
  console.log(
    `whole pack: ${result.wholePackCpuSeconds} CPU s for ${claims.length} claims, ${wholeFlags} flags; ` +
      `core is ${result.speedupVsNaive}× the naive use (target ≥ 20×) and ${result.slowdownVsHandWritten}× ` +
      `the floor's CPU time on its ${HAND_WRITTEN_RULE_IDS.length} rules (target ≤ 3×), ${floorFlags} flags alike`,
  );
  writeSection('rulesCore', result);
  return result;
}
