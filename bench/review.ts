import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadSampleClaims, sampleClaims } from '../tests/helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../tests/helpers/review-stack.ts';
import { percentile, round, writeSection } from './results.ts';

type Kind = 'list' | 'detail' | 'decide';

/** List queries an auditor's day is made of: the queue, a hospital, a rule, a class, overdue, a filtered period. */
const LISTS = [
  'status=open',
  'hospital=H3002&status=open',
  'rule=GZ-DRUG-SEX',
  `ruleClass=${encodeURIComponent('药品限支付疗程')}&severity=medium`,
  'doctor=D-H2001-02&from=2026-09',
  'overdue=true',
  '',
];

/**
 * The review API over HTTP on the local stack with 100,000 flags in DynamoDB Local (loaded in bulk:
 * loadSampleClaims). First each kind of request alone, one at a time — listings of every shape,
 * details, decisions and the queue's counts — for its CPU (node: the API and this bench's client;
 * the JVM: DynamoDB Local) and its DynamoDB calls; then requests evenly spaced at `rate` a second,
 * a third each of listings (a page of 50, some with a cursor), details and decisions, for `seconds`.
 */
export async function benchReview(
  flags = Number(process.env.BENCH_REVIEW_FLAGS ?? 100_000),
  rate = Number(process.env.BENCH_REVIEW_RATE ?? 50),
  seconds = Number(process.env.BENCH_REVIEW_SECONDS ?? 30),
): Promise<Record<string, unknown>> {
  // sampleClaims gives every fourth claim a second flag: 4 claims carry 5 flags.
  const claims = sampleClaims(Math.ceil((flags * 4) / 5), { stepMinutes: 3 });
  const all = claims.flatMap((c) => c.flags);
  const stack = await startReviewStack('bench-review');
  try {
    const seedCpu = cpuMeter(stack);
    await loadSampleClaims(stack.documents, stack.resources.tables, claims);
    const seeded = seedCpu();
    const token = stack.token('auditor-1');
    const headers = { authorization: `Bearer ${token}` };
    // Decisions go to flags nobody has touched, each once, so every one is a real write.
    const undecided = all.filter((_, i) => i % 7 === 3).map((f) => f.flagId);
    let decided = 0;
    const cursors: string[] = [];
    const latencies: Record<Kind, number[]> = { list: [], detail: [], decide: [] };
    let failures = 0;

    const list = async (query: string): Promise<Response> => {
      const response = await fetch(`${stack.review.url}/v1/review/flags?${query}&limit=50`, { headers });
      if (response.ok) {
        const page = (await response.json()) as { nextCursor: string | null };
        if (page.nextCursor && query.startsWith('status=open')) cursors.push(page.nextCursor);
      }
      return response;
    };
    const detail = async (i: number): Promise<Response> => {
      const flag = all[(i * 7919) % all.length];
      const response = await fetch(`${stack.review.url}/v1/review/flags/${flag?.flagId}`, { headers });
      await response.arrayBuffer();
      return response;
    };
    const decide = async (i: number): Promise<Response> => {
      const flagId = undecided[decided++ % undecided.length];
      const response = await fetch(`${stack.review.url}/v1/review/flags/${flagId}/transitions`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          action: i % 2 ? 'confirm' : 'dismiss',
          reason: '基准测试',
          expectedVersion: 0,
        }),
      });
      await response.arrayBuffer();
      return response;
    };
    const counts = async (query: string): Promise<Response> => {
      const response = await fetch(`${stack.review.url}/v1/review/flags/counts?${query}`, { headers });
      await response.arrayBuffer();
      return response;
    };

    const one = async (kind: Kind, i: number): Promise<void> => {
      const started = performance.now();
      let response: Response;
      if (kind === 'list') {
        const cursor = i % 3 === 0 ? cursors.pop() : undefined;
        response = await list(cursor ? `status=open&cursor=${cursor}` : (LISTS[i % LISTS.length] ?? ''));
      } else if (kind === 'detail') response = await detail(i);
      else response = await decide(i);
      if (!response.ok) failures += 1;
      latencies[kind].push(performance.now() - started);
    };

    const perRequest = await profile(stack, {
      ...Object.fromEntries(LISTS.map((q) => [`list ${q || '(no filter)'}`, () => list(q)])),
      'list status=open, next page': () => list(`status=open&cursor=${cursors.pop() ?? ''}`),
      detail: (i) => detail(i),
      decide: (i) => decide(i),
      ...Object.fromEntries(COUNTS.map((q) => [`counts ${q || '(no filter)'}`, () => counts(q)])),
    });

    const run = async (total: number, record: boolean): Promise<void> => {
      const kinds: Kind[] = ['list', 'detail', 'decide'];
      const inFlight: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inFlight.push(one(kinds[i % 3] as Kind, record ? i : i + 1_000_000));
      }
      await Promise.all(inFlight);
    };
    await run(rate * 3, false);
    for (const l of Object.values(latencies)) l.length = 0;
    failures = 0;
    const load = loadavg()[0] ?? 0;
    const cpu = cpuMeter(stack);
    await run(rate * seconds, true);
    const spent = cpu();

    const p = (kind: Kind, q: number) =>
      round(
        percentile(
          [...latencies[kind]].sort((a, b) => a - b),
          q,
        ),
        1,
      );
    const result = {
      listP50Ms: p('list', 50),
      listP99Ms: p('list', 99),
      detailP50Ms: p('detail', 50),
      detailP99Ms: p('detail', 99),
      decideP50Ms: p('decide', 50),
      decideP99Ms: p('decide', 99),
      flags: all.length,
      rate,
      seconds,
      requests: latencies.list.length + latencies.detail.length + latencies.decide.length,
      failures,
      // CPU of the run at `rate` per request: the API and the bench (node), DynamoDB Local (JVM).
      nodeCpuMsPerRequest: round(spent.nodeMs / (rate * seconds), 2),
      dynamoCpuMsPerRequest: round(spent.jvmMs / (rate * seconds), 2),
      // Cores the run kept busy, of the machine's: above what the others left it, requests queue.
      coresBusy: round((spent.nodeMs + spent.jvmMs) / (seconds * 1000), 2),
      loadAverageAtStart: round(load, 2),
      perRequest,
      seedSeconds: round(seeded.wallMs / 1000, 1),
      seedCpuSeconds: { node: round(seeded.nodeMs / 1000, 1), dynamo: round(seeded.jvmMs / 1000, 1) },
      cores: cpus().length,
    };
    writeSection('review', result);
    process.stdout.write(`review: ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await stack.stop();
  }
}

/** Counts the queue asks for beside its listing: from the counters (the first two) and read from the flags (the others). */
const COUNTS = ['status=open', '', 'rule=GZ-DRUG-SEX', 'doctor=D-H2001-02'];

/**
 * Each request kind alone, one request at a time after a few to warm up: CPU milliseconds of node
 * and of DynamoDB Local's JVM per request, and the DynamoDB calls the API made for it (every HTTP
 * request this process sends while only the API is sending: the bench's own requests go by fetch,
 * which node:http's diagnostics channel does not see).
 */
async function profile(
  stack: ReviewStack,
  kinds: Record<string, (i: number) => Promise<Response>>,
): Promise<Record<string, Record<string, number | Record<string, number>>>> {
  const calls = new Map<string, number>();
  const count = (message: unknown): void => {
    const { request } = message as { request: { getHeader(name: string): unknown } };
    const operation = String(request.getHeader('x-amz-target') ?? 'other').split('.')[1] ?? 'other';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
  };
  subscribe('http.client.request.start', count);
  const reps = Number(process.env.BENCH_REVIEW_PROFILE_REQUESTS ?? 20);
  const out: Record<string, Record<string, number | Record<string, number>>> = {};
  try {
    for (const [name, send] of Object.entries(kinds)) {
      const heavy = name.startsWith('counts');
      const n = heavy ? Math.max(2, reps / 5) : reps;
      for (let i = 0; i < 3; i++) await (await send(i)).arrayBuffer().catch(() => undefined);
      calls.clear();
      const cpu = cpuMeter(stack);
      for (let i = 0; i < n; i++) {
        const response = await send(1000 + i);
        if (!response.ok) throw new Error(`${name}: ${response.status} ${await response.text()}`);
      }
      const spent = cpu();
      out[name] = {
        nodeCpuMs: round(spent.nodeMs / n, 2),
        dynamoCpuMs: round(spent.jvmMs / n, 2),
        dynamodbCalls: Object.fromEntries([...calls].map(([op, k]) => [op, round(k / n, 1)])),
      };
    }
  } finally {
    unsubscribe('http.client.request.start', count);
  }
  return out;
}

/** CPU milliseconds of this process and of DynamoDB Local's JVM since the call: the only honest speed on a shared machine. */
function cpuMeter(stack: ReviewStack): () => { nodeMs: number; jvmMs: number; wallMs: number } {
  const port = new URL(stack.services.endpoints.dynamodb).port;
  const jvm = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .find((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\u0000');
        return (
          argv[0]?.endsWith('java') && argv.includes('-port') && argv[argv.indexOf('-port') + 1] === port
        );
      } catch {
        return false; // a process that ended while we looked
      }
    });
  // utime + stime, in clock ticks (100 a second on Linux).
  const jvmMs = (): number => {
    if (!jvm) return Number.NaN;
    const fields = readFileSync(`/proc/${jvm}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const node = process.cpuUsage();
  const jvmStart = jvmMs();
  const started = performance.now();
  return () => {
    const used = process.cpuUsage(node);
    return {
      nodeMs: (used.user + used.system) / 1000,
      jvmMs: jvmMs() - jvmStart,
      wallMs: performance.now() - started,
    };
  };
}
