import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Claim } from '../../src/contracts/claim.ts';
import { generateMonth, type MonthTruth } from '../../src/generator/month.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { type LocalServices, localClientConfig, startLocalServices } from '../../src/local/emulators.ts';
import { createResources, type LocalResources } from '../../src/local/provisioning.ts';
import { SequentialScreening } from '../../src/pipeline/sequence.ts';
import { type AuditCore, auditClaims, loadAuditCore } from '../../src/post/audit.ts';
import {
  type AuditJobDeps,
  InMemoryPartialStore,
  type ReduceOutput,
  runAuditJob,
} from '../../src/stores/audit-job.ts';
import { DynamoOutcomeStore } from '../../src/stores/dynamo.ts';
import { readScores } from '../../src/stores/post-event.ts';

/**
 * The post-event audit over DynamoDB Local: claims settled by the in-process stage's store, then
 * the audit job (parallel scan segments → map → reduce) exactly as the audit function runs it.
 */
const PERIOD = '2026-10';
const NOW = new Date('2026-11-01T02:00:00Z');
let services: LocalServices;
let dynamodb: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let resources: LocalResources;
let core: AuditCore;
let month: {
  claims: Claim[];
  truth: MonthTruth[];
  world: { hospitals: { hospitalId: string; outlier: boolean }[] };
};
let deps: AuditJobDeps;
let first: ReduceOutput;
let inProcessFlagIds: Set<string>;

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return items;
}

beforeAll(async () => {
  services = await startLocalServices();
  dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  resources = await createResources(services.endpoints, 'audit', { dynamodb });
  core = loadAuditCore();
  month = generateMonth({ seed: 11, period: PERIOD, claims: 6_000, injectionsPerPattern: 2 }, core);
  // The live stream: each claim decided in settlement order and recorded as the in-process stage does.
  const live = new SequentialScreening(core.screener, 'in', new InMemoryHistoryStore(), NOW);
  const store = new DynamoOutcomeStore(documents, resources.tables);
  inProcessFlagIds = new Set();
  const outcomes = [];
  for (const claim of month.claims) {
    const { flags, decision } = await live.screen(claim);
    for (const f of flags) inProcessFlagIds.add(f.flagId);
    outcomes.push({ claim, decision, flags, decidedAt: NOW.toISOString() });
  }
  for (let i = 0; i < outcomes.length; i += 200)
    expect((await store.recordAll(outcomes.slice(i, i + 200))).failed.size).toBe(0);
  deps = {
    core,
    documents,
    tables: resources.tables,
    partials: new InMemoryPartialStore(),
    now: () => NOW,
  };
  first = await runAuditJob(PERIOD, 4, deps, 'it-run-1');
}, 240_000);

afterAll(async () => {
  dynamodb?.destroy();
  await services?.stop();
});

describe('the audit job on DynamoDB Local', () => {
  it('audits every claim of the period from parallel scan segments', () => {
    expect(first.claims).toBe(month.claims.length);
  });

  it('writes a post flag for every injected period pattern, and keeps the in-process flags as they were', async () => {
    const flags = await scan(resources.tables.flags);
    for (const t of month.truth.filter((x) => x.claimId && x.ruleId.startsWith('FG-POST-'))) {
      expect(
        flags.some((f) => f.ruleId === t.ruleId && f.claimId === t.claimId && f.stage === 'post'),
        `${t.ruleId} ${t.claimId}`,
      ).toBe(true);
    }
    // What the stream flagged is still the stream's flag, written once.
    for (const f of flags.filter((x) => inProcessFlagIds.has(String(x.flagId)))) expect(f.stage).toBe('in');
    expect(flags.filter((f) => f.stage === 'in')).toHaveLength(inProcessFlagIds.size);
  });

  it('writes hospital and doctor flags with a subject and no claim', async () => {
    const outlier = month.world.hospitals.find((h) => h.outlier)?.hospitalId;
    const flags = (await scan(resources.tables.flags)).filter((f) => f.subject);
    expect(
      flags.some((f) => f.ruleId === 'ZB-POST-DRUG-SHARE' && (f.subject as { id: string }).id === outlier),
    ).toBe(true);
    for (const f of flags) expect(f.claimId).toBeUndefined();
  });

  it('stores post flags with the keys the review queue lists them by (rule class, month)', async () => {
    const post = (await scan(resources.tables.flags)).filter((f) => f.stage === 'post');
    expect(post.length).toBeGreaterThan(0);
    for (const f of post) {
      expect(f.ruleClass).toBe((f.basis as { ruleClass: string }).ruleClass);
      expect(f.createdMonth).toBe(String(f.createdAt).slice(0, 7));
    }
  });

  it('writes the same scores the file path computes, and reads them back by hospital and period', async () => {
    const inMemory = await auditClaims(month.claims, core, PERIOD, NOW);
    expect(first.scores).toBe(inMemory.scores.length);
    const outlier = month.world.hospitals.find((h) => h.outlier)?.hospitalId ?? '';
    const [stored] = await readScores(
      documents,
      resources.tables.scores,
      { kind: 'hospital', id: outlier },
      '2026-01',
      '2026-12',
    );
    expect(stored).toEqual(inMemory.scores.find((s) => s.kind === 'hospital' && s.id === outlier));
    expect(stored?.components.drugShare?.value).toBeGreaterThan(
      stored?.components.drugShare?.peerMedian ?? 1,
    );
  });

  it('writes nothing new when the same period is audited again', async () => {
    const before = (await scan(resources.tables.flags)).length;
    const again = await runAuditJob(PERIOD, 3, deps, 'it-run-2');
    expect(again.claimFlagsWritten).toBe(0);
    expect(again.subjectFlagsWritten).toBe(0);
    expect((await scan(resources.tables.flags)).length).toBe(before);
  });
});
