import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Claim } from '../src/contracts/claim.ts';
import { loadCore } from '../src/core.ts';
import { generateClaims } from '../src/generator/generate.ts';
import { type HistoryClaim, historyFor } from '../src/history/store.ts';
import { startLocalApi } from '../src/local/api.ts';
import { localClientConfig, startLocalServices } from '../src/local/emulators.ts';
import { createResources } from '../src/local/provisioning.ts';
import { DynamoHistoryStore, DynamoOutcomeStore, documentClient } from '../src/stores/dynamo.ts';
import { percentile, round, writeSection } from './results.ts';

/** The part of autocannon (which ships no types) this benchmark uses. */
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate: number;
  ignoreCoordinatedOmission: boolean;
  requests: { setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const HISTORY_CLAIMS = 4_000;
const DRAFTS = 2_000;
const WARM_UP_SECONDS = 5;

/**
 * Prescreen latency over HTTP on the local stack: the API server on loopback, DynamoDB Local holding
 * the patients' earlier claims, autocannon sending generated drafts (each with its own hospital's
 * key) at a fixed rate; and the engine alone (`Screener.screen`, stage pre, with each draft's history).
 *
 * autocannon's rate limit is per second and bursty: each connection sends its share of the second
 * back to back, then waits for the next second. The latencies are therefore those of `connections`
 * concurrent clients during each burst, a harsher load than requests evenly spaced at `rate`.
 */
export async function benchPreEvent(
  rate = Number(process.env.BENCH_PRE_EVENT_RATE ?? 200),
  seconds = Number(process.env.BENCH_PRE_EVENT_SECONDS ?? 15),
  connections = Number(process.env.BENCH_PRE_EVENT_CONNECTIONS ?? 4),
): Promise<Record<string, number>> {
  const core = loadCore();
  // One stream: the earlier claims become history, the later ones drafts of the same patients.
  const { claims } = await generateClaims(
    { seed: 2028, claims: HISTORY_CLAIMS + DRAFTS, violationRate: 0.1 },
    core,
  );
  const settled = claims.slice(0, HISTORY_CLAIMS);
  const drafts = claims.slice(HISTORY_CLAIMS).map(toDraft);

  const services = await startLocalServices();
  const dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  const documents = documentClient(dynamodb);
  const stateDir = mkdtempSync(join(tmpdir(), 'fundguard-bench-api-'));
  try {
    const { tables } = await createResources(services.endpoints, 'bench-api', { dynamodb });
    await seedHistory(settled, core.screener, new DynamoOutcomeStore(documents, tables));
    const api = await startLocalApi({
      endpoints: services.endpoints,
      tables,
      stateDir,
      screener: core.screener,
      logger: {
        error: (message, attributes) => console.error(message, attributes),
        debug: () => {},
      },
    });
    try {
      const bodies = drafts.map((d) => ({
        body: JSON.stringify(d.draft),
        key: api.keys[d.hospitalId] ?? '',
      }));
      let next = 0;
      const load = (duration: number) =>
        autocannon({
          url: api.url,
          connections,
          duration,
          overallRate: rate,
          // autocannon corrects for coordinated omission with an expected interval of ceil(1 / rate)
          // milliseconds, i.e. 1 ms whatever the rate, which adds samples no request ever took.
          // Raw per-request latencies are the honest figure here.
          ignoreCoordinatedOmission: true,
          requests: [
            {
              // Every request takes the next draft, whichever connection sends it.
              setupRequest: (request) => {
                const { body, key } = bodies[next++ % bodies.length] ?? { body: '', key: '' };
                return {
                  ...request,
                  method: 'POST',
                  path: '/v1/prescreen',
                  headers: { 'content-type': 'application/json', 'x-api-key': key },
                  body,
                };
              },
            },
          ],
        });
      // The same load, untimed, warms the JIT, the rule memo and DynamoDB Local's JVM alike.
      const warmUp = await load(WARM_UP_SECONDS);
      if (warmUp.non2xx || warmUp.errors)
        throw new Error(`warm-up: ${warmUp.non2xx} non-2xx, ${warmUp.errors} errors`);
      const http = await load(seconds);
      if (http.non2xx || http.errors || http.timeouts)
        throw new Error(
          `prescreen under load: ${http.non2xx} non-2xx, ${http.errors} errors, ${http.timeouts} timeouts`,
        );

      const engine = await engineLatencies(
        drafts,
        core.screener,
        new DynamoHistoryStore(documents, tables.claims),
      );
      const result = {
        rps: round(http.requests.average, 1),
        p50Ms: http.latency.p50,
        p99Ms: http.latency.p99,
        maxMs: http.latency.max,
        engineP50Ms: round(percentile(engine, 50), 3),
        engineP99Ms: round(percentile(engine, 99), 3),
        targetRps: rate,
        requests: http.requests.total,
        connections,
        seconds,
        historyClaims: settled.length,
        cores: cpus().length,
      };
      console.table({ 'pre-event (local stack)': result });
      writeSection('preEvent', result);
      return result;
    } finally {
      await api.stop();
    }
  } finally {
    dynamodb.destroy();
    await services.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function toDraft(claim: Claim) {
  const { claimId: _claimId, submittedAt: _submittedAt, totals: _totals, ...draft } = claim;
  return { draft, hospitalId: claim.hospital.hospitalId };
}

/** The earlier claims settled as the in-process stage writes them: history, decision, flags. */
async function seedHistory(
  claims: readonly Claim[],
  screener: ReturnType<typeof loadCore>['screener'],
  outcomes: DynamoOutcomeStore,
): Promise<void> {
  const now = new Date('2026-10-01T00:00:00Z');
  for (let i = 0; i < claims.length; i += 100) {
    const batch = [];
    for (const claim of claims.slice(i, i + 100)) {
      const { flags, decision } = await screener.screen(claim, { stage: 'in', now });
      batch.push({ claim, decision, flags, decidedAt: now.toISOString() });
    }
    const { failed } = await outcomes.recordAll(batch);
    if (failed.size) throw new Error(`seeding history: ${failed.size} claims not written`);
  }
}

/** Milliseconds per `screen` call, stage pre, with each draft's history read beforehand (not timed). */
async function engineLatencies(
  drafts: ReturnType<typeof toDraft>[],
  screener: ReturnType<typeof loadCore>['screener'],
  store: DynamoHistoryStore,
): Promise<number[]> {
  const withHistory: { draft: ReturnType<typeof toDraft>['draft']; history: HistoryClaim[] }[] = [];
  for (const { draft } of drafts)
    withHistory.push({ draft, history: await historyFor(draft, screener.ruleSet.historyDays('pre'), store) });
  const latencies: number[] = [];
  // Two passes; the first warms up.
  for (let pass = 0; pass < 2; pass++) {
    for (const { draft, history } of withHistory) {
      const started = performance.now();
      await screener.screen(draft, { stage: 'pre', history });
      if (pass === 1) latencies.push(performance.now() - started);
    }
  }
  return latencies.sort((a, b) => a - b);
}
