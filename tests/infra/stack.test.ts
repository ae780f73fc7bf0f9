import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FundGuardStack } from '../../infra/stack.ts';
import { InProcessEnv } from '../../src/config.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deadLetterQueueName,
  physicalName,
  QUEUES,
  type QueueName,
  TABLES,
  type TableName,
} from '../../src/resources.ts';
import { acknowledgedRules, arnIn, logicalIdIn, nagViolations, synthesize } from '../helpers/cdk.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE_ENTRY = join(PROJECT_ROOT, 'tests', 'fixtures', 'in-process-handler.ts');
const STAGE = 'test';
/** Read by Powertools and Node themselves. */
const RUNTIME_VARIABLES = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];

let outdir: string;
let stack: FundGuardStack;
let template: Template;

beforeAll(() => {
  ({ stack, template, outdir } = synthesize(
    'fundguard-cdk-',
    (app) => new FundGuardStack(app, 'FundGuard-test', { stage: STAGE, inProcessEntry: FIXTURE_ENTRY }),
  ));
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct) => logicalIdIn(stack)(construct);
const arnOf = (construct: IConstruct) => arnIn(stack)(construct);
const indexArnOf = (table: IConstruct, index: string) => ({
  'Fn::Join': ['', [arnOf(table), `/index/${index}`]],
});
const tableNames = Object.keys(TABLES) as TableName[];
const queueNames = Object.keys(QUEUES) as QueueName[];

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}
/** The in-process function's policy statements (the pre-event API has its own roles and tests). */
const statements = (): Statement[] => {
  const role = logicalId(stack.inProcessFunction.role as IConstruct);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
};
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('tables', () => {
  it('creates exactly the tables of src/resources.ts', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableNames.length);
  });

  it.each(tableNames)('gives the %s table the keys and indexes of src/resources.ts', (name) => {
    const def = TABLES[name];
    const keySchema = (partitionKey: { name: string }, sortKey?: { name: string }) => [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
    ];
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physicalName(STAGE, def.name),
      KeySchema: keySchema(def.partitionKey, 'sortKey' in def ? def.sortKey : undefined),
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: def.indexes.length
        ? def.indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, 'sortKey' in index ? index.sortKey : undefined),
            Projection: { ProjectionType: 'projection' in index ? index.projection : 'ALL' },
          }))
        : Match.absent(),
    });
  });

  it.each(tableNames)(
    'protects the %s table with point-in-time recovery and AWS-managed encryption',
    (name) => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: physicalName(STAGE, TABLES[name].name),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // Enabled without a key of ours: the AWS-managed key aws/dynamodb.
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
      });
    },
  );

  it('expires idempotency records by their TTL attribute and nothing else', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physicalName(STAGE, TABLES.idempotency.name),
      TimeToLiveSpecification: { AttributeName: TABLES.idempotency.ttlAttribute, Enabled: true },
    });
    for (const name of tableNames.filter((n) => !('ttlAttribute' in TABLES[n]))) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: physicalName(STAGE, TABLES[name].name),
        TimeToLiveSpecification: Match.absent(),
      });
    }
  });

  it('keeps the data tables when the stack is deleted', () => {
    for (const name of ['claims', 'decisions', 'flags', 'scores'] as const) {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: Match.objectLike({ TableName: physicalName(STAGE, TABLES[name].name) }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });
});

describe('queues', () => {
  it.each(queueNames)('sends %s messages to a dead-letter queue after maxReceiveCount receives', (name) => {
    const { queue, deadLetterQueue } = stack.queues[name];
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: physicalName(STAGE, QUEUES[name].name),
      VisibilityTimeout: QUEUES[name].visibilityTimeoutSeconds,
      MessageRetentionPeriod: QUEUES[name].retentionSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(deadLetterQueue),
        maxReceiveCount: QUEUES[name].maxReceiveCount,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: physicalName(STAGE, deadLetterQueueName(name)),
      MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
      SqsManagedSseEnabled: true,
    });
    expect(logicalId(queue)).not.toBe(logicalId(deadLetterQueue));
  });

  it('denies every queue, dead-letter queues included, to requests without TLS', () => {
    const queues = queueNames.flatMap((name) => [
      stack.queues[name].queue,
      stack.queues[name].deadLetterQueue,
    ]);
    for (const queue of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it.each(queueNames)('raises an alarm as soon as a %s message is dead-lettered', (name) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.queues[name].deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('raises an alarm when the oldest claim has waited too long', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.queues.claims.queue), 'QueueName'] } },
      ],
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('in-process function', () => {
  it('consumes the claims queue with the event source settings of src/resources.ts, reporting partial batch failures', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(stack.queues.claims.queue),
      FunctionName: { Ref: logicalId(stack.inProcessFunction) },
      BatchSize: QUEUES.claims.eventSource.batchSize,
      MaximumBatchingWindowInSeconds: Match.absent(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: QUEUES.claims.eventSource.maxConcurrency },
    });
  });

  it('runs on Node 22 arm64 with a timeout a sixth of the claims visibility timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: Math.floor(QUEUES.claims.visibilityTimeoutSeconds / 6),
    });
  });

  it('names every table, the alerts queue and the bundled rules in its environment', () => {
    const tableRef = (name: TableName) => ({ Ref: logicalId(stack.tables[name]) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          CLAIMS_TABLE: tableRef('claims'),
          DECISIONS_TABLE: tableRef('decisions'),
          FLAGS_TABLE: tableRef('flags'),
          SCORES_TABLE: tableRef('scores'),
          IDEMPOTENCY_TABLE: tableRef('idempotency'),
          ALERTS_QUEUE_URL: { Ref: logicalId(stack.queues.alerts.queue) },
          FUNDGUARD_RULES_DIR: '/var/task/rules',
          POWERTOOLS_SERVICE_NAME: 'fundguard',
          POWERTOOLS_METRICS_NAMESPACE: 'FundGuard',
        },
      },
    });
  });

  it('sets exactly the variables src/config.ts reads for it, beside those Powertools and Node read', () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack.inProcessFunction)];
    expect(Object.keys(fn?.Properties.Environment.Variables).sort()).toEqual(
      [...Object.keys(InProcessEnv.shape), ...RUNTIME_VARIABLES].sort(),
    );
  });

  it('logs to its own log group with a retention', () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack.inProcessFunction)];
    const logGroupId = fn?.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(template.findResources('AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(30);
  });

  it('bundles the handler as ESM with the rules directory beside it', () => {
    const assets = readdirSync(outdir).filter((entry) => entry.startsWith('asset.'));
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack.inProcessFunction)];
    const hash = String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '');
    const bundle = assets.map((asset) => join(outdir, asset)).find((dir) => dir.endsWith(`asset.${hash}`));
    expect(existsSync(join(bundle ?? '', 'index.mjs'))).toBe(true);
    expect(bundle).toBeDefined();
    const bundled = readdirSync(join(bundle ?? '', 'rules'));
    expect(bundled).toEqual(expect.arrayContaining(readdirSync(join(PROJECT_ROOT, 'rules'))));
  });
});

describe('least privilege', () => {
  it('uses no wildcard action or resource and no managed policy', () => {
    for (const statement of statements()) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/\*/);
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('grants exactly the table actions the in-process stage performs, on the tables themselves', () => {
    const grants = statements()
      .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
      .map((s) => ({ actions: actionsOf(s).sort(), resource: s.Resource }));
    expect(grants).toEqual(
      expect.arrayContaining([
        {
          actions: ['dynamodb:BatchWriteItem', 'dynamodb:PartiQLSelect'],
          resource: arnOf(stack.tables.claims),
        },
        {
          actions: ['dynamodb:BatchGetItem', 'dynamodb:PartiQLInsert', 'dynamodb:PutItem'],
          resource: arnOf(stack.tables.decisions),
        },
        {
          actions: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resource: arnOf(stack.tables.flags),
        },
        { actions: ['dynamodb:Query'], resource: indexArnOf(stack.tables.flags, 'byClaim') },
        {
          actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resource: arnOf(stack.tables.idempotency),
        },
        // The active rule set's pointer and parts; publishing is the CLI's, never the function's.
        { actions: ['dynamodb:GetItem'], resource: arnOf(stack.tables.ruleSets) },
      ]),
    );
    expect(grants).toHaveLength(6);
    expect(JSON.stringify(grants)).not.toContain(logicalId(stack.tables.scores));
  });

  it('lets the function send to the alerts queue only, and consume the claims queue', () => {
    const senders = statements().filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(senders.map((s) => s.Resource)).toEqual([arnOf(stack.queues.alerts.queue)]);
    const consumers = statements().filter((s) => actionsOf(s).includes('sqs:ReceiveMessage'));
    expect(consumers.map((s) => s.Resource)).toEqual([arnOf(stack.queues.claims.queue)]);
    expect(actionsOf(consumers[0] as Statement)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no violation', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  it('gives a reason for every acknowledged rule', () => {
    const acknowledged = acknowledgedRules(stack);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });
});
