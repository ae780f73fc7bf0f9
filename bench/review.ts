import { cpus } from 'node:os';
import { sampleClaims, writeSampleClaims } from '../tests/helpers/review.ts';
import { startReviewStack } from '../tests/helpers/review-stack.ts';
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
): Promise<Record<string, number>> {
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
    await run(rate * 3, false);
    for (const list of Object.values(latencies)) list.length = 0;
    failures = 0;
    await run(rate * seconds, true);

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
