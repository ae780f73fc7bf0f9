import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generateMonth } from '../src/generator/month.ts';
import { localClientConfig, startLocalServices } from '../src/local/emulators.ts';
import { createResources } from '../src/local/provisioning.ts';
import { loadAuditCore } from '../src/post/audit.ts';
import { DEFAULT_SEGMENTS, InMemoryPartialStore, runAuditJob } from '../src/stores/audit-job.ts';
import { DynamoOutcomeStore } from '../src/stores/dynamo.ts';
import { round, writeSection } from './results.ts';

/**
 * The audit's DynamoDB path: a generated month (100,000 claims; BENCH_POST_DYNAMO_CLAIMS to
 * change) written to DynamoDB Local as the in-process stage writes it (not timed), then the audit
 * job — parallel scan segments, map, reduce, flags and scores written — timed.
 */
export async function benchPostEventDynamo(): Promise<void> {
  const claims = Number(process.env.BENCH_POST_DYNAMO_CLAIMS ?? 100_000);
  // As many segments as on AWS: DynamoDB Local's scan pages cost more the larger the segment.
  const segments = Number(process.env.BENCH_POST_DYNAMO_SEGMENTS ?? DEFAULT_SEGMENTS);
  const services = await startLocalServices();
  const client = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    const resources = await createResources(services.endpoints, 'bench-audit', { dynamodb: client });
    const core = loadAuditCore();
    const month = generateMonth({ seed: 7, period: '2026-10', claims }, core);
    const store = new DynamoOutcomeStore(documents, resources.tables);
    const decidedAt = new Date().toISOString();
    const pass = { outcome: 'pass' as const, lines: [], ruleSetVersion: core.ruleSet.version };
    for (let i = 0; i < month.claims.length; i += 500) {
      const chunk = month.claims
        .slice(i, i + 500)
        .map((claim) => ({ claim, decision: { ...pass, claimId: claim.claimId }, flags: [], decidedAt }));
      const { failed } = await store.recordAll(chunk);
      if (failed.size) throw new Error(`loading the month failed for ${failed.size} claims`);
    }
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const out = await runAuditJob('2026-10', segments, {
      core,
      documents,
      tables: resources.tables,
      partials: new InMemoryPartialStore(),
      now: () => new Date('2026-11-01T02:00:00Z'),
    });
    const seconds = (performance.now() - started) / 1000;
    // This process only: DynamoDB Local's JVM is another process.
    const cpu = process.cpuUsage(cpuBefore);
    const postEventDynamo = {
      claims: out.claims,
      segments,
      seconds: round(seconds, 1),
      claimsPerSec: Math.round(out.claims / seconds),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
      scores: out.scores,
    };
    writeSection('postEventDynamo', postEventDynamo);
    process.stderr.write(`postEventDynamo: ${JSON.stringify(postEventDynamo)}\n`);
  } finally {
    client.destroy();
    await services.stop();
  }
}
