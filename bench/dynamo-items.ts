import { CreateTableCommand, DynamoDBClient, type ProjectionType } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  ExecuteStatementCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Claim } from '../src/contracts/claim.ts';
import type { Decision } from '../src/contracts/decision.ts';
import { loadCore } from '../src/core.ts';
import { generateClaims } from '../src/generator/generate.ts';
import { toHistoryClaim } from '../src/history/store.ts';
import { localClientConfig, startDynamoDbLocal } from '../src/local/emulators.ts';
import { contentHash, documentClient } from '../src/stores/dynamo.ts';
import { groupCpuSeconds, processCpuSeconds } from './cpu.ts';
import { round, writeSection } from './results.ts';

/**
 * What one item costs DynamoDB Local's JVM (and this process) by how it is written or read, the
 * variants interleaved in rounds on one JVM so that a loaded machine slows them alike: the figures
 * behind the in-process store's choices (docs/in-process.md, "Where a claim's CPU goes"). Items are
 * the in-process stage's own: history items of generated claims and their decisions, ten to a call
 * as a batch of the claims queue has them.
 */
export async function benchDynamoItems(
  rounds = Number(process.env.BENCH_ITEMS_ROUNDS ?? 4),
  perRound = Number(process.env.BENCH_ITEMS_PER_ROUND ?? 600),
): Promise<Record<string, number>> {
  const dynamoLocal = await startDynamoDbLocal();
  const client = new DynamoDBClient(localClientConfig(dynamoLocal.endpoint));
  const documents = documentClient(client);
  try {
    const core = loadCore();
    const { claims } = await generateClaims(
      { seed: 7, claims: rounds * perRound, violationRate: 0.05 },
      core,
    );
    const decisions: Decision[] = [];
    for (const claim of claims) decisions.push((await core.screener.screen(claim, { stage: 'in' })).decision);

    const history = (claim: Claim) => {
      const h = toHistoryClaim(claim);
      return {
        insuredId: h.insuredId,
        sk: `${h.firstServiceDate}#${claim.claimId}`,
        claimId: claim.claimId,
        hospitalPeriod: `${claim.hospital.hospitalId}#${h.firstServiceDate.slice(0, 7)}`,
        doctorId: claim.doctorId,
        amount: claim.totals.amount,
        history: JSON.stringify(h),
        claim: JSON.stringify(claim),
      };
    };
    const decision = (i: number) => {
      const claim = claims[i] as Claim;
      const d = decisions[i] as Decision;
      return {
        ...d,
        lines: JSON.stringify(d.lines),
        hospitalId: claim.hospital.hospitalId,
        flagCount: 0,
        decidedAt: new Date().toISOString(),
        contentHash: contentHash(claim),
        version: 1,
        flagIds: '[]',
        historyKey: JSON.stringify({ insuredId: claim.patient.insuredId, sk: claim.claimId }),
      };
    };
    const S = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
    const historyTable = (name: string, projection?: ProjectionType) =>
      client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            S('insuredId'),
            S('sk'),
            ...(projection ? [S('hospitalPeriod'), S('claimId')] : []),
          ],
          KeySchema: [
            { AttributeName: 'insuredId', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          ...(projection
            ? {
                GlobalSecondaryIndexes: [
                  {
                    IndexName: 'byHospitalPeriod',
                    KeySchema: [
                      { AttributeName: 'hospitalPeriod', KeyType: 'HASH' },
                      { AttributeName: 'claimId', KeyType: 'RANGE' },
                    ],
                    Projection: { ProjectionType: projection },
                  },
                ],
              }
            : {}),
        }),
      );
    const decisionTable = (name: string) =>
      client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [S('claimId')],
          KeySchema: [{ AttributeName: 'claimId', KeyType: 'HASH' }],
        }),
      );
    await historyTable('history-all', 'ALL');
    await historyTable('history-keys', 'KEYS_ONLY');
    await historyTable('history-none');
    for (const name of ['decisions-insert', 'decisions-put', 'decisions-transact', 'decisions-batch'])
      await decisionTable(name);

    const batchWrite = (table: string, items: Record<string, unknown>[]) =>
      documents.send(
        new BatchWriteCommand({ RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) } }),
      );
    const notExists = 'attribute_not_exists(claimId)';
    /** Each writes or reads the items of claims `ids` (ten), in one call unless it says otherwise. */
    const variants: Record<string, (ids: number[]) => Promise<unknown>> = {
      historyIndexAll: (ids) =>
        batchWrite(
          'history-all',
          ids.map((i) => history(claims[i] as Claim)),
        ),
      historyIndexKeysOnly: (ids) =>
        batchWrite(
          'history-keys',
          ids.map((i) => history(claims[i] as Claim)),
        ),
      historyNoIndex: (ids) =>
        batchWrite(
          'history-none',
          ids.map((i) => history(claims[i] as Claim)),
        ),
      decisionInsert: (ids) =>
        documents.send(
          new BatchExecuteStatementCommand({
            Statements: ids.map(decision).map((item) => ({
              Statement: `INSERT INTO "decisions-insert" VALUE {${Object.keys(item)
                .map((n) => `'${n}': ?`)
                .join(', ')}}`,
              Parameters: Object.values(item),
            })),
          }),
        ),
      decisionConditionalPutEach: (ids) =>
        Promise.all(
          ids.map((i) =>
            documents.send(
              new PutCommand({
                TableName: 'decisions-put',
                Item: decision(i),
                ConditionExpression: notExists,
              }),
            ),
          ),
        ),
      decisionTransaction: (ids) =>
        documents.send(
          new TransactWriteCommand({
            TransactItems: ids.map((i) => ({
              Put: { TableName: 'decisions-transact', Item: decision(i), ConditionExpression: notExists },
            })),
          }),
        ),
      decisionUnconditionalBatchWrite: (ids) => batchWrite('decisions-batch', ids.map(decision)),
      historySelectTenPatients: (ids) => {
        const patients = [...new Set(ids.map((i) => (claims[i] as Claim).patient.insuredId))];
        return documents.send(
          new ExecuteStatementCommand({
            Statement: `SELECT "history" FROM "history-all" WHERE "insuredId" IN [${patients.map(() => '?').join(', ')}] AND "sk" BETWEEN ? AND ?`,
            Parameters: [...patients, '2000-01-01', '2100-01-01'],
          }),
        );
      },
      decisionBatchGet: (ids) =>
        documents.send(
          new BatchGetCommand({
            RequestItems: {
              'decisions-insert': {
                Keys: ids.map((i) => ({ claimId: (claims[i] as Claim).claimId })),
                ConsistentRead: true,
              },
            },
          }),
        ),
    };

    const spent = new Map<string, { jvm: number; node: number; items: number }>();
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of Object.entries(variants)) {
        const before = { jvm: groupCpuSeconds(dynamoLocal.pid), node: processCpuSeconds() };
        for (let i = 0; i < perRound; i += 10)
          await run(Array.from({ length: Math.min(10, perRound - i) }, (_, k) => r * perRound + i + k));
        const total = spent.get(name) ?? { jvm: 0, node: 0, items: 0 };
        total.jvm += groupCpuSeconds(dynamoLocal.pid) - before.jvm;
        total.node += processCpuSeconds() - before.node;
        total.items += perRound;
        spent.set(name, total);
      }
    }
    const result: Record<string, number> = {};
    for (const [name, { jvm, node, items }] of spent) {
      result[`${name}JvmMs`] = round((jvm * 1000) / items, 3);
      result[`${name}NodeMs`] = round((node * 1000) / items, 3);
    }
    console.table(
      Object.fromEntries(
        [...spent].map(([name, { jvm, node, items }]) => [
          name,
          { jvmMsPerItem: round((jvm * 1000) / items, 3), nodeMsPerItem: round((node * 1000) / items, 3) },
        ]),
      ),
    );
    writeSection('dynamoItems', result);
    return result;
  } finally {
    client.destroy();
    await dynamoLocal.stop();
  }
}
