import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVersions, publish, rollback } from '../../src/cli/versions.ts';
import type { Claim } from '../../src/contracts/claim.ts';
import { loadCore } from '../../src/core.ts';
import type { Poller } from '../../src/local/poller.ts';
import { startPoller } from '../../src/local/poller.ts';
import type { LocalResources } from '../../src/local/provisioning.ts';
import { claimEntry } from '../../src/pipeline/claims-queue.ts';
import { contentVersion, readRuleSetContent } from '../../src/rules/content.ts';
import { defaultRulesDir, RuleSetError } from '../../src/rules/load.ts';
import { RuleSetVersions } from '../../src/stores/rule-sets.ts';
import { scan, startTestStack, storedFlag, type TestStack, waitFor } from '../helpers/local-stack.ts';
import { rulesCopy, supplyLimit } from '../helpers/rules-copy.ts';

/**
 * Published rule sets on the real local stack: the CLI's publish, versions and rollback against
 * DynamoDB Local, and the deployed in-process handler (behind the Lambda-like poller) picking up
 * each new active version without a restart.
 */
let stack: TestStack;
let resources: LocalResources;
let poller: Poller;
let versions: RuleSetVersions;
const bundled = loadCore();
const lines: string[] = [];
const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), now: () => new Date() };

beforeAll(async () => {
  stack = await startTestStack();
  resources = await stack.provision('rulesets', {
    claims: { visibilityTimeoutSeconds: 2, maxReceiveCount: 2 },
  });
  stack.configureFunctions(resources);
  // A check of the active pointer is trusted for half a second here (AWS: 30 s; npm start: 5 s).
  process.env.RULE_SET_CHECK_SECONDS = '0.5';
  const fn = await import('../../functions/in-process.ts');
  poller = await startPoller({
    sqs: stack.sqs,
    queueUrl: resources.queues.claims.url,
    handler: fn.handler,
    concurrency: 2,
  });
  versions = new RuleSetVersions(stack.documents, resources.tables.ruleSets);
});

afterAll(async () => {
  await poller?.stop();
  await stack?.stop();
});

const base = JSON.parse(
  readFileSync(join(defaultRulesDir(), 'fixtures', 'base-claim.json'), 'utf8'),
) as Claim;

/** An outpatient claim of a 25-day supply: within the bundled 30-day limit, beyond a 20-day one. */
function claim25(claimId: string): Claim {
  const [item] = base.items;
  return {
    ...base,
    claimId,
    patient: { ...base.patient, insuredId: `P-${claimId}` },
    items: [{ ...(item as Claim['items'][number]), quantity: 50, amount: 17.5, daysSupply: 25 }],
    totals: { amount: 17.5, fundPaid: 14, selfPaid: 3.5 },
  };
}

/** Sends the claims, waits for their decisions; returns each claim's decision and flags. */
async function decide(...claims: Claim[]) {
  await stack.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: resources.queues.claims.url,
      Entries: claims.map((c, i) => claimEntry(String(i), JSON.stringify(c))),
    }),
  );
  const ids = new Set(claims.map((c) => c.claimId));
  let decisions: Record<string, unknown>[] = [];
  await waitFor(
    async () => {
      decisions = (await scan(stack.dynamodb, resources.tables.decisions)).filter((d) =>
        ids.has(String(d.claimId)),
      );
      return decisions.length === ids.size;
    },
    `decisions of ${[...ids].join(', ')}`,
  );
  const flags = (await scan(stack.dynamodb, resources.tables.flags))
    .filter((f) => ids.has(String(f.claimId)))
    .map(storedFlag);
  return { versions: decisions.map((d) => d.ruleSetVersion), flags };
}

/**
 * Claims like `claim25` sent one after another until one is decided by `version` (the function
 * checks the pointer every half second here and loads a new version beside the running one);
 * returns that claim's decision and flags.
 */
async function decidedBy(version: string, prefix: string) {
  const deadline = Date.now() + 30_000;
  for (let n = 1; ; n++) {
    const result = await decide(claim25(`${prefix}-${n}`));
    if (result.versions[0] === version) return result;
    if (Date.now() > deadline) throw new Error(`no claim decided by ${version} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Past the function's check interval, and a load of the version it then finds. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 3000));

describe('published rule sets on the local stack', () => {
  it('refuses to publish a rule set that fails validation, or one whose fixtures fail, and stores nothing', async () => {
    const invalid = rulesCopy({
      'drug-sex.json': (rule) => {
        rule.conditions = { all: [{ fact: 'patient', path: '$.sex', operator: 'isDifferent', value: 'M' }] };
      },
    });
    await expect(publish([], invalid, versions, io)).rejects.toThrow(
      /drug-sex\.json: conditions\.all\[0\]\.operator: unknown operator/,
    );
    // 25 days allowed, but a fixture still expects a 30-day supply to pass: a failing fixture.
    const failing = rulesCopy({
      'drug-max-supply.json': (rule) => {
        (rule.params as Record<string, unknown>).maxDaysSupply = 25;
      },
    });
    await expect(publish([], failing, versions, io)).rejects.toThrow(RuleSetError);
    expect(lines.join('\n')).toMatch(/FAIL {2}NHSA-DRUG-MAX-SUPPLY {2}miss: a 30-day outpatient supply/);
    // A period rule's fixture counts too: the set is published with its period rules.
    const periodFailing = rulesCopy({
      'period/frequent-outpatient.json': (rule) => {
        (rule.params as Record<string, unknown>).minVisits = 11;
      },
    });
    await expect(publish([], periodFailing, versions, io)).rejects.toThrow(RuleSetError);
    expect(lines.join('\n')).toMatch(/FAIL {2}FG-POST-FREQUENT-OUTPATIENT {2}hit: ten visits in 20 days/);
    expect(await versions.list()).toEqual([]);
    expect(await versions.active()).toBeUndefined();
  });

  it('decides with the bundled rules until a version is published, then with each new version within seconds', async () => {
    const before = await decide(claim25('C-RS-1'));
    expect(before).toEqual({ versions: [bundled.ruleSet.version], flags: [] });

    // The committed rules, published: same content, same version as the bundle.
    await publish(
      ['--message', 'first published set', '--author', 'tester'],
      defaultRulesDir(),
      versions,
      io,
    );
    const v1 = bundled.ruleSet.version;
    expect((await versions.active())?.active).toBe(v1);

    const tightened = rulesCopy({ 'drug-max-supply.json': supplyLimit(20) });
    await publish(['--message', 'outpatient supply 20 days', '--author', 'tester'], tightened, versions, io);
    const v2 = contentVersion(readRuleSetContent(tightened));
    expect(v2).not.toBe(v1);
    const after = await decidedBy(v2, 'C-RS-2');
    expect(after.flags).toEqual([
      expect.objectContaining({ ruleId: 'NHSA-DRUG-MAX-SUPPLY', ruleSetVersion: v2, lineNos: [1] }),
    ]);
    expect(after.flags[0]?.message).toContain('最大开药天数20天');

    lines.length = 0;
    await listVersions(versions, io);
    expect(lines[0]).toMatch(new RegExp(`^  ${v1}  \\S+  tester +\\d+ rules  first published set$`));
    expect(lines[1]).toMatch(new RegExp(`^\\* ${v2}  \\S+  tester +\\d+ rules  outpatient supply 20 days$`));
  });

  it('stores the catalogue in chunks under the item limit and never overwrites a version', async () => {
    const v1 = bundled.ruleSet.version;
    const manifest = await versions.manifest(v1);
    expect(manifest?.chunks).toBeGreaterThan(1);
    const { Item } = await stack.documents.send(
      new GetCommand({ TableName: resources.tables.ruleSets, Key: { version: v1, part: 'chunk#000' } }),
    );
    expect(Item?.data).toBeInstanceOf(Uint8Array);
    expect((Item?.data as Uint8Array | undefined)?.byteLength).toBeLessThanOrEqual(256 * 1024);
    lines.length = 0;
    await publish([], defaultRulesDir(), versions, io);
    expect(lines[0]).toMatch(new RegExp(`^${v1} was already published .* by tester\\): nothing stored$`));
  });

  it('rolls back: the next claims are decided by the earlier version again', async () => {
    const v1 = bundled.ruleSet.version;
    expect(await rollback([v1], versions, io)).toBe(0);
    expect(await decidedBy(v1, 'C-RS-3')).toEqual({ versions: [v1], flags: [] });
  });

  it('keeps the running set when the active version was altered after publishing, or fails validation', async () => {
    const v1 = bundled.ruleSet.version;
    const tightened = rulesCopy({ 'drug-max-supply.json': supplyLimit(15) });
    await publish(['--author', 'tester'], tightened, versions, io);
    const v3 = contentVersion(readRuleSetContent(tightened));
    // Someone with write access edits the stored content in place: it no longer hashes to v3.
    const other = rulesCopy({ 'drug-max-supply.json': supplyLimit(10) });
    const forged = new RuleSetVersions(stack.documents, resources.tables.ruleSets);
    const { manifest } = await forged.put(readRuleSetContent(other), {
      author: 'x',
      message: '',
      now: new Date(),
      ruleIds: [],
    });
    for (let i = 0; i < manifest.chunks; i++) {
      const part = `chunk#${String(i).padStart(3, '0')}`;
      const { Item } = await stack.documents.send(
        new GetCommand({ TableName: resources.tables.ruleSets, Key: { version: manifest.version, part } }),
      );
      await stack.documents.send(
        new PutCommand({ TableName: resources.tables.ruleSets, Item: { ...Item, version: v3 } }),
      );
    }
    // The pointer is moved to the altered version (rollback itself would refuse it).
    expect(await rollback([v3], versions, io)).toBe(1);
    expect(lines.at(-1)).toMatch(/altered after publishing/);
    await versions.activate(v3, 'tester', new Date());
    await settled();
    expect(await decide(claim25('C-RS-4'))).toEqual({ versions: [v1], flags: [] });

    // Content that hashes right but is not a valid rule set (stored without the CLI's checks).
    const broken = readRuleSetContent(defaultRulesDir());
    broken.rules['drug-sex.json'] = '{ "id": ';
    const { manifest: bad } = await versions.put(broken, {
      author: 'x',
      message: '',
      now: new Date(),
      ruleIds: [],
    });
    expect(await rollback([bad.version], versions, io)).toBe(1);
    expect(lines.at(-1)).toMatch(/drug-sex\.json: not valid JSON/);
    await versions.activate(bad.version, 'tester', new Date());
    await settled();
    expect(await decide(claim25('C-RS-5'))).toEqual({ versions: [v1], flags: [] });
  });

  it("records a published exemption's hits as exempted flags with its id, and decides the claim as if unflagged", async () => {
    const exempting = rulesCopy({ 'drug-max-supply.json': supplyLimit(20) });
    mkdirSync(join(exempting, 'exemptions'), { recursive: true });
    writeFileSync(
      join(exempting, 'exemptions', 'review-2026-10.json'),
      JSON.stringify({
        exemptions: [
          {
            id: 'EX-2026-010',
            ruleId: 'NHSA-DRUG-MAX-SUPPLY',
            scope: { hospitalId: base.hospital.hospitalId },
            reason: '慢病长处方试点医院，经专家组复核',
            approver: '医保局专家组',
            expires: '2026-12-31',
          },
        ],
      }),
    );
    await publish(
      ['--author', 'tester', '--message', 'exempt the long-prescription pilot'],
      exempting,
      versions,
      io,
    );
    const v5 = contentVersion(readRuleSetContent(exempting));
    const { flags } = await decidedBy(v5, 'C-RS-6');
    expect(flags).toEqual([
      expect.objectContaining({
        ruleId: 'NHSA-DRUG-MAX-SUPPLY',
        ruleSetVersion: v5,
        status: 'exempted',
        exemptionId: 'EX-2026-010',
      }),
    ]);
    const decisions = await scan(stack.dynamodb, resources.tables.decisions);
    expect(
      decisions.find((d) => String(d.claimId).startsWith('C-RS-6') && d.ruleSetVersion === v5),
    ).toMatchObject({
      outcome: 'pass',
    });
  });
});
