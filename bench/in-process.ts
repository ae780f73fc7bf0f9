import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadCore } from '../src/core.ts';
import { generateClaims } from '../src/generator/generate.ts';
import { localClientConfig, startDynamoDbLocal, startSqsLocal } from '../src/local/emulators.ts';
import { applyEnvironment, lambdaEnvironment } from '../src/local/lambda-env.ts';
import { startPoller } from '../src/local/poller.ts';
import { createResources } from '../src/local/provisioning.ts';
import { sendStream } from '../src/local/stream.ts';
import { countItems, queueDepth } from '../src/local/summary.ts';
import { groupCpuSeconds, processCpuSeconds } from './cpu.ts';
import { percentile, round, writeSection } from './results.ts';

/**
 * End to end on the local stack: generated claims sent to the claims queue, the in-process handler
 * behind the Lambda-like poller, until every claim is decided or dead-lettered. Throughput from a
 * burst; latency (send → handler done: decision, flags and history written, message deleted) from
 * a steady stream. The loss check counts the decisions table and the DLQ.
 *
 * Wall-clock figures depend on what else the machine runs; CPU per claim (this process: handler,
 * poller and local SQS; DynamoDB Local's JVM) and DynamoDB calls per claim do not, so both are
 * reported per phase.
 */
export async function benchInProcess(
  claimCount = Number(process.env.BENCH_IN_PROCESS_CLAIMS ?? 20_000),
  steadyRate = Number(process.env.BENCH_IN_PROCESS_RATE ?? 500),
  steadySeconds = Number(process.env.BENCH_IN_PROCESS_SECONDS ?? 10),
  concurrency = Number(process.env.BENCH_IN_PROCESS_CONCURRENCY ?? 12),
): Promise<Record<string, number>> {
  const [dynamoLocal, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  const endpoints = { dynamodb: dynamoLocal.endpoint, sqs: sqsLocal.endpoint };
  const sqs = new SQSClient(localClientConfig(endpoints.sqs));
  const dynamodb = new DynamoDBClient(localClientConfig(endpoints.dynamodb));
  try {
    const resources = await createResources(endpoints, 'bench', { sqs, dynamodb });
    applyEnvironment({
      ...lambdaEnvironment(endpoints, resources),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const { handler } = await import('../functions/in-process.ts');
    // The handler's own client: every DynamoDB call it makes, by operation.
    const { dynamo, sqs: handlerSqs } = await import('../functions/commons/clients.ts');
    const calls = new Map<string, number>();
    // Items written, by table (the stage suffix of its physical name): DynamoDB Local's CPU goes
    // mostly per item, so this is the figure the store's design moves.
    const written = new Map<string, number>();
    const wrote = (table: unknown, n = 1) => {
      const name = String(table).replace(/^fundguard-bench-/, '');
      written.set(name, (written.get(name) ?? 0) + n);
    };
    dynamo.middlewareStack.add(
      (next, context) => (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        calls.set(name, (calls.get(name) ?? 0) + 1);
        countWrites(name, args.input as WriteInput, wrote);
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter' },
    );
    // SQS calls of the poller, the sender and the alerts, by operation (local SQS runs in this process).
    const sqsCalls = new Map<string, number>();
    for (const client of [sqs, handlerSqs])
      client.middlewareStack.add(
        (next, context) => (args) => {
          const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
          sqsCalls.set(name, (sqsCalls.get(name) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'benchSqsCallCounter' },
      );
    const core = loadCore();
    const stream = async (seed: number, claims: number) =>
      (await generateClaims({ seed, claims, violationRate: 0.05 }, core)).claims.map((c) =>
        JSON.stringify(c),
      );

    const sentAt = new Map<string, number>();
    let latencies: number[] = [];
    let lastDone = 0;
    const poller = await startPoller({
      sqs,
      queueUrl: resources.queues.claims.url,
      handler,
      concurrency,
      onBatch: ({ messageIds, failedMessageIds }) => {
        const failed = new Set(failedMessageIds);
        const now = performance.now();
        for (const id of messageIds) {
          const sent = sentAt.get(id);
          if (failed.has(id) || sent === undefined) continue;
          latencies.push(now - sent);
          sentAt.delete(id);
          lastDone = now;
        }
      },
    });
    // What the JVM and this process spend with nothing to do (GC, JIT, timers, the poller's idle
    // receives), per second: on a loaded machine a phase lasts long enough for it to matter, so
    // each phase also reports its CPU net of it.
    const idleFor = 3;
    const idleBefore = { node: processCpuSeconds(), jvm: groupCpuSeconds(dynamoLocal.pid) };
    await new Promise((r) => setTimeout(r, idleFor * 1000));
    const idle = {
      node: (processCpuSeconds() - idleBefore.node) / idleFor,
      jvm: (groupCpuSeconds(dynamoLocal.pid) - idleBefore.jvm) / idleFor,
    };

    /** Sends a stream at `rate` (0: all at once) and waits until each claim is decided or dead-lettered. */
    const run = async (bodies: string[], rate: number) => {
      latencies = [];
      calls.clear();
      written.clear();
      sqsCalls.clear();
      const deadLetteredBefore = await queueDepth(sqs, resources.queues.claims.dlqUrl);
      const cpuBefore = { node: processCpuSeconds(), jvm: groupCpuSeconds(dynamoLocal.pid) };
      const started = performance.now();
      await sendStream({
        sqs,
        queueUrl: resources.queues.claims.url,
        bodies,
        rate,
        onSent: (sent) => {
          for (const m of sent) sentAt.set(m.messageId, m.sentAt);
        },
      });
      const deadline = Date.now() + 10 * 60_000;
      while (Date.now() < deadline) {
        const dead = (await queueDepth(sqs, resources.queues.claims.dlqUrl)) - deadLetteredBefore;
        if (latencies.length + dead >= bodies.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const n = bodies.length;
      const perClaim = (seconds: number) => round((seconds * 1000) / n, 3);
      const elapsed = (performance.now() - started) / 1000;
      const node = processCpuSeconds() - cpuBefore.node;
      const jvm = groupCpuSeconds(dynamoLocal.pid) - cpuBefore.jvm;
      return {
        seconds: (lastDone - started) / 1000,
        latencies: [...latencies].sort((a, b) => a - b),
        nodeCpuMsPerClaim: perClaim(node),
        jvmCpuMsPerClaim: perClaim(jvm),
        netNodeCpuMsPerClaim: perClaim(node - idle.node * elapsed),
        netJvmCpuMsPerClaim: perClaim(jvm - idle.jvm * elapsed),
        dynamoCallsPerClaim: round([...calls.values()].reduce((a, b) => a + b, 0) / n, 3),
        calls: Object.fromEntries([...calls].map(([name, count]) => [name, round(count / n, 3)])),
        itemsWrittenPerClaim: round([...written.values()].reduce((a, b) => a + b, 0) / n, 3),
        written: Object.fromEntries([...written].map(([name, count]) => [name, round(count / n, 3)])),
        sqsCallsPerClaim: round([...sqsCalls.values()].reduce((a, b) => a + b, 0) / n, 3),
        sqsCalls: Object.fromEntries([...sqsCalls].map(([name, count]) => [name, round(count / n, 3)])),
      };
    };

    // Throughput: the whole stream at once, so the stage is never waiting for work.
    const burst = await run(await stream(2027, claimCount), 0);
    // Latency: a steady rate, so the figures are claim latency, not queueing.
    const steadyClaims = steadyRate * steadySeconds;
    const steady = await run(await stream(2028, steadyClaims), steadyRate);
    await poller.stop();
    const sent = claimCount + steadyClaims;
    const decided = await countItems(dynamodb, resources.tables.decisions);
    const deadLettered = await queueDepth(sqs, resources.queues.claims.dlqUrl);
    const result = {
      claimsPerSec: Math.round(claimCount / burst.seconds),
      p50Ms: round(percentile(steady.latencies, 50), 1),
      p99Ms: round(percentile(steady.latencies, 99), 1),
      sent,
      decided,
      deadLettered,
      steadyRate,
      burstClaims: claimCount,
      burstP50Ms: round(percentile(burst.latencies, 50), 1),
      burstNodeCpuMsPerClaim: burst.nodeCpuMsPerClaim,
      burstJvmCpuMsPerClaim: burst.jvmCpuMsPerClaim,
      burstNetNodeCpuMsPerClaim: burst.netNodeCpuMsPerClaim,
      burstNetJvmCpuMsPerClaim: burst.netJvmCpuMsPerClaim,
      idleNodeCpuPerSec: round(idle.node, 3),
      idleJvmCpuPerSec: round(idle.jvm, 3),
      burstDynamoCallsPerClaim: burst.dynamoCallsPerClaim,
      burstItemsWrittenPerClaim: burst.itemsWrittenPerClaim,
      burstSqsCallsPerClaim: burst.sqsCallsPerClaim,
      steadyNodeCpuMsPerClaim: steady.nodeCpuMsPerClaim,
      steadyJvmCpuMsPerClaim: steady.jvmCpuMsPerClaim,
      concurrency,
      loadAverage: round(loadavg()[0] ?? 0, 1),
    };
    console.table({ 'in-process (local stack)': result });
    console.log('DynamoDB calls per claim (burst):', burst.calls);
    console.log('items written per claim, by table (burst):', burst.written);
    console.log('SQS calls per claim (burst):', burst.sqsCalls);
    const lost = result.sent - decided - deadLettered;
    console.log(
      lost === 0
        ? `nothing lost: sent ${result.sent} = decided ${decided} + dead-lettered ${deadLettered}`
        : `LOST ${lost} claims: sent ${result.sent}, decided ${decided}, dead-lettered ${deadLettered}`,
    );
    writeSection('inProcess', result);
    if (lost !== 0) throw new Error(`${lost} claims unaccounted for`);
    return result;
  } finally {
    sqs.destroy();
    dynamodb.destroy();
    await Promise.all([dynamoLocal.stop(), sqsLocal.stop()]);
  }
}

type WriteInput = {
  TableName?: string;
  RequestItems?: Record<string, unknown[]>;
  Statements?: { Statement?: string }[];
  TransactItems?: Record<string, { TableName?: string }>[];
};

/** The items a write call puts, updates or deletes, by table. */
function countWrites(command: string, input: WriteInput, wrote: (table: unknown, n?: number) => void): void {
  switch (command) {
    case 'BatchWriteItem':
      for (const [table, requests] of Object.entries(input.RequestItems ?? {})) wrote(table, requests.length);
      return;
    case 'BatchExecuteStatement':
      for (const { Statement = '' } of input.Statements ?? [])
        if (/^(INSERT|UPDATE|DELETE)/i.test(Statement)) wrote(/"([^"]+)"/.exec(Statement)?.[1]);
      return;
    case 'TransactWriteItems':
      for (const item of input.TransactItems ?? []) {
        const write = item.Put ?? item.Update ?? item.Delete;
        if (write) wrote(write.TableName);
      }
      return;
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      wrote(input.TableName);
  }
}
