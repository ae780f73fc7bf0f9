import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { type KeyDef, physicalName, TABLES, type TableName } from '../src/resources.ts';

/** Tables whose items expire and can be rebuilt: deleting the stack may delete them. The rest are kept. */
const DISPOSABLE_TABLES: ReadonlySet<TableName> = new Set(['idempotency']);

/**
 * A table exactly as src/resources.ts defines it (keys, indexes, TTL), on demand, with point-in-time
 * recovery and encryption: `<Name>Table` in `scope`. The stack and the tests build tables only here.
 */
export function resourceTable(scope: Construct, stage: string, name: TableName): Table {
  const def = TABLES[name];
  const table = new Table(scope, `${pascal(name)}Table`, {
    tableName: physicalName(stage, def.name),
    partitionKey: attribute(def.partitionKey),
    ...('sortKey' in def ? { sortKey: attribute(def.sortKey) } : {}),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    ...('ttlAttribute' in def ? { timeToLiveAttribute: def.ttlAttribute } : {}),
    removalPolicy: DISPOSABLE_TABLES.has(name) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  for (const index of def.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...('sortKey' in index ? { sortKey: attribute(index.sortKey) } : {}),
      projectionType: 'projection' in index ? PROJECTIONS[index.projection] : ProjectionType.ALL,
    });
  }
  return table;
}

const PROJECTIONS = { ALL: ProjectionType.ALL, KEYS_ONLY: ProjectionType.KEYS_ONLY } as const;

const attribute = (key: KeyDef) => ({
  name: key.name,
  type: key.type === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
});

export const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
