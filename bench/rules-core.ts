import { cpus } from 'node:os';
import type { Claim } from '../src/contracts/claim.ts';
import { loadCore } from '../src/core.ts';
import { generateClaims } from '../src/generator/generate.ts';
import { RuleSet } from '../src/rules/rule-set.ts';
import { Screener } from '../src/rules/screen.ts';
import { handWrittenScreen } from './hand-written.ts';
import { percentile, round, writeSection } from './results.ts';

/**
 * The rules core against (a) json-rules-engine used naively — new engines for every claim, the
 * default JSONPath resolver, no memo — and (b) the same rules hand-written, in one run on one stream.
 */
export async function benchRulesCore(claimCount = 10_000): Promise<Record<string, number>> {
  const core = loadCore();
  const { claims } = await generateClaims({ seed: 2026, claims: claimCount, violationRate: 0.05 }, core);
  const files = core.ruleSet.rules.map((r) => ({ file: r.file, source: r.source }));
  const now = new Date('2026-11-01T00:00:00Z');
  const lines = claims.reduce((s: number, c: Claim) => s + c.items.length, 0);
  console.log(
    `stream: ${claims.length} claims, ${(lines / claims.length).toFixed(1)} lines/claim, ${core.ruleSet.rules.length} rules, ${cpus().length} cores`,
  );

  // Warm up all three on the same claims so the JIT has compiled each before timing.
  const warmUp = claims.slice(0, 1_000);
  for (const claim of warmUp) await core.screener.screen(claim, { stage: 'in', now });
  for (const claim of warmUp) handWrittenScreen(claim, core.catalogue);
  for (const claim of warmUp.slice(0, 50))
    await new Screener(new RuleSet(files, { jsonPath: true }), core.catalogue).screen(claim, {
      stage: 'in',
      now,
      memo: false,
    });

  // Three passes, like the hand-written floor's rounds, so both are timed at steady state.
  const passes = 3;
  const latencies: number[] = [];
  let coreFlags = 0;
  let t = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    for (const claim of claims) {
      const start = performance.now();
      const { flags } = await core.screener.screen(claim, { stage: 'in', now });
      latencies.push(performance.now() - start);
      coreFlags += flags.length;
    }
  }
  const coreSeconds = (performance.now() - t) / 1000 / passes;
  coreFlags /= passes;

  let handFlags = 0;
  t = performance.now();
  for (let round = 0; round < 5; round++) {
    for (const claim of claims) handFlags += handWrittenScreen(claim, core.catalogue).length;
  }
  const handSeconds = (performance.now() - t) / 1000 / 5;
  handFlags /= 5;

  // The naive baseline is slow; a sample of the stream keeps the run short.
  const sample = claims.slice(0, Math.min(claims.length, 1_000));
  let naiveFlags = 0;
  t = performance.now();
  for (const claim of sample) {
    const naive = new Screener(new RuleSet(files, { jsonPath: true }), core.catalogue);
    naiveFlags += (await naive.screen(claim, { stage: 'in', now, memo: false })).flags.length;
  }
  const naiveSeconds = (performance.now() - t) / 1000;
  let sampleCoreFlags = 0;
  for (const claim of sample)
    sampleCoreFlags += (await core.screener.screen(claim, { stage: 'in', now })).flags.length;

  if (handFlags !== coreFlags)
    throw new Error(`hand-written floor found ${handFlags} flags, the core ${coreFlags}`);
  if (naiveFlags !== sampleCoreFlags)
    throw new Error(`naive run found ${naiveFlags} flags, the core ${sampleCoreFlags}`);

  latencies.sort((a, b) => a - b);
  const result = {
    claimsPerSec: Math.round(claims.length / coreSeconds),
    naiveClaimsPerSec: Math.round(sample.length / naiveSeconds),
    handWrittenClaimsPerSec: Math.round(claims.length / handSeconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    claims: claims.length,
    flags: coreFlags,
  };
  const vsNaive = result.claimsPerSec / result.naiveClaimsPerSec;
  const vsFloor = result.handWrittenClaimsPerSec / result.claimsPerSec;
  console.table({
    'rules core': { 'claims/s': result.claimsPerSec, 'p50 ms': result.p50Ms, 'p99 ms': result.p99Ms },
    'naive json-rules-engine': { 'claims/s': result.naiveClaimsPerSec },
    'hand-written floor': { 'claims/s': result.handWrittenClaimsPerSec },
  });
  console.log(
    `core is ${vsNaive.toFixed(1)}× the naive use and ${vsFloor.toFixed(1)}× slower than the hand-written floor; ${coreFlags} flags`,
  );
  writeSection('rulesCore', {
    ...result,
    speedupVsNaive: round(vsNaive, 1),
    slowdownVsHandWritten: round(vsFloor, 1),
  });
  return result;
}
