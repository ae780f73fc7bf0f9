import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../src/resources.ts';
import { FlagFilters } from '../src/review/contracts.ts';
import { FLAG_INDEX_KEYS, planList, type QueryStep } from '../src/review/plan.ts';
import { loadReviewPolicy } from '../src/review/policy.ts';
import { LISTED_ATTRIBUTES } from '../src/review/store.ts';
import { sampleClaims, writeSampleClaims } from '../tests/helpers/review.ts';
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
 * The review API over HTTP on the local stack with 100,000 flags in DynamoDB Local: requests evenly
 * spaced at `rate` a second, a third each of listings (a page of 50, some with a cursor), flag
 * details (flag, claim, siblings, rule) and decisions (a conditional update each), for `seconds`.
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
    const seeding = performance.now();
    await writeSampleClaims(stack.documents, stack.resources.tables, claims);
    const seedSeconds = (performance.now() - seeding) / 1000;
    const token = stack.token('auditor-1');
    const headers = { authorization: `Bearer ${token}` };
    // Decisions go to flags nobody has touched, each once, so every one is a real write.
    const undecided = all.filter((_, i) => i % 7 === 3).map((f) => f.flagId);
    const cursors: string[] = [];
    const latencies: Record<Kind, number[]> = { list: [], detail: [], decide: [] };
    let failures = 0;

    const one = async (kind: Kind, i: number): Promise<void> => {
      const started = performance.now();
      let response: Response;
      if (kind === 'list') {
        const cursor = i % 3 === 0 ? cursors.pop() : undefined;
        const query = cursor ? `status=open&cursor=${cursor}` : (LISTS[i % LISTS.length] ?? '');
        response = await fetch(`${stack.review.url}/v1/review/flags?${query}&limit=50`, { headers });
        if (response.ok) {
          const page = (await response.json()) as { nextCursor: string | null };
          if (page.nextCursor && query.startsWith('status=open')) cursors.push(page.nextCursor);
        }
      } else if (kind === 'detail') {
        const flag = all[(i * 7919) % all.length];
        response = await fetch(`${stack.review.url}/v1/review/flags/${flag?.flagId}`, { headers });
        await response.arrayBuffer();
      } else {
        const flagId = undecided[i % undecided.length];
        response = await fetch(`${stack.review.url}/v1/review/flags/${flagId}/transitions`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            action: i % 2 ? 'confirm' : 'dismiss',
            reason: '基准测试',
            expectedVersion: 0,
          }),
        });
        await response.arrayBuffer();
      }
      if (!response.ok) failures += 1;
      latencies[kind].push(performance.now() - started);
    };

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
    const shapes = await compareShapes(stack);
    await run(rate * 3, false);
    for (const list of Object.values(latencies)) list.length = 0;
    failures = 0;
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
      // CPU of the whole run per request: the API and the bench (node), DynamoDB Local (JVM).
      nodeCpuMsPerRequest: round(spent.nodeMs / (rate * seconds), 2),
      dynamoCpuMsPerRequest: round(spent.jvmMs / (rate * seconds), 2),
      shapes,
      seedSeconds: round(seedSeconds, 1),
      cores: cpus().length,
    };
    writeSection('review', result);
    process.stdout.write(`review: ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await stack.stop();
  }
}

/** CPU milliseconds of this process and of DynamoDB Local's JVM since the call: the only honest speed on a shared machine. */
function cpuMeter(stack: ReviewStack): () => { nodeMs: number; jvmMs: number } {
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
  return () => {
    const used = process.cpuUsage(node);
    return { nodeMs: (used.user + used.system) / 1000, jvmMs: jvmMs() - jvmStart };
  };
}

/**
 * The query shapes this branch changed, before and after, side by side on the same table in one
 * run (CPU per call, node and JVM, and items DynamoDB evaluated):
 * - a page of 50: before, `Limit` twice the page whenever a filter applies (now always: superseded
 *   and exempted flags are filtered out) and whole items; after, `Limit` the page and no trail;
 * - a flag's claim: before, whole history items; after, only their history JSON.
 */
async function compareShapes(stack: ReviewStack): Promise<Record<string, Record<string, number>>> {
  const policy = loadReviewPolicy();
  const auditor = { role: 'auditor', actorId: 'bench' } as const;
  const plans = LISTS.map((q) =>
    planList(FlagFilters.parse(Object.fromEntries(new URLSearchParams(q))), auditor, policy, new Date()),
  );
  const listQuery = (before: boolean, i: number): QueryCommandInput | undefined => {
    const plan = plans[i % plans.length];
    const step = plan?.steps[0] as QueryStep | undefined;
    if (!plan || !step) return undefined;
    const keys = FLAG_INDEX_KEYS[step.index];
    const range = step.range?.to ? ' AND #sk <= :to' : '';
    return {
      TableName: stack.resources.tables.flags,
      IndexName: step.index,
      KeyConditionExpression: `#pk = :pk${range}`,
      ExpressionAttributeNames: {
        '#pk': keys.partition,
        ...(range ? { '#sk': keys.sort } : {}),
        ...plan.filter?.names,
        ...(before ? {} : Object.fromEntries(LISTED.map((a, k) => [`#p${k}`, a]))),
      },
      ExpressionAttributeValues: {
        ':pk': step.partition,
        ...(range ? { ':to': step.range?.to } : {}),
        ...plan.filter?.values,
      },
      ...(plan.filter ? { FilterExpression: plan.filter.expression } : {}),
      ScanIndexForward: false,
      Limit: before ? 100 : 50,
      ...(before ? {} : { ProjectionExpression: LISTED.map((_, k) => `#p${k}`).join(', ') }),
    };
  };
  const claimsOf =
    (
      await stack.documents.send(
        new QueryCommand({
          TableName: stack.resources.tables.flags,
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'open' },
          ProjectionExpression: 'insuredId, claimId',
          Limit: 200,
        }),
      )
    ).Items ?? [];
  const claimQuery = (before: boolean, i: number): QueryCommandInput | undefined => {
    const flag = claimsOf[i % claimsOf.length];
    if (!flag) return undefined;
    return {
      TableName: stack.resources.tables.claims,
      KeyConditionExpression: `${TABLES.claims.partitionKey.name} = :p`,
      FilterExpression: 'claimId = :c',
      ExpressionAttributeValues: { ':p': flag.insuredId, ':c': flag.claimId },
      ...(before ? {} : { ProjectionExpression: '#h', ExpressionAttributeNames: { '#h': 'history' } }),
    };
  };
  const calls = Number(process.env.BENCH_REVIEW_SHAPE_CALLS ?? 140);
  const LISTED = [...LISTED_ATTRIBUTES];
  const measure = async (shape: (before: boolean, i: number) => QueryCommandInput | undefined) => {
    const out: Record<string, number> = {};
    for (const before of [true, false]) {
      let scanned = 0;
      const cpu = cpuMeter(stack);
      for (let i = 0; i < calls; i++) {
        const input = shape(before, i);
        if (!input) continue;
        const answer = await stack.documents.send(new QueryCommand(input));
        scanned += answer.ScannedCount ?? 0;
      }
      const spent = cpu();
      const when = before ? 'before' : 'after';
      out[`${when}NodeCpuMs`] = round(spent.nodeMs / calls, 2);
      out[`${when}DynamoCpuMs`] = round(spent.jvmMs / calls, 2);
      out[`${when}ItemsRead`] = round(scanned / calls, 1);
    }
    return out;
  };
  return { listPage: await measure(listQuery), claimOfFlag: await measure(claimQuery) };
}
