import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deadLetterQueueName,
  type KeyDef,
  physicalName,
  QUEUES,
  type QueueName,
  TABLES,
  type TableName,
} from '../src/resources.ts';
import { PreEventApi, type PreEventApiProps } from './api.ts';
import { bundling, shellQuote } from './bundling.ts';
import { ReviewApi } from './review.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where Lambda unpacks the bundle (`LAMBDA_TASK_ROOT`); the rules are copied next to the code. */
const LAMBDA_RULES_DIR = '/var/task/rules';

/** Tables whose items expire and can be rebuilt: deleting the stack may delete them. The rest are kept. */
const DISPOSABLE_TABLES: ReadonlySet<TableName> = new Set(['idempotency']);

/** A backlog this old means the in-process stage (seconds per claim) has stalled. */
const OLDEST_CLAIM_ALARM_SECONDS = 300;

export interface FundGuardStackProps extends StackProps {
  /** Entries and keys of the pre-event API (tests point them at fixtures). */
  preEventApi?: Partial<Omit<PreEventApiProps, 'stage' | 'tables'>>;
  /** Prefix of every physical name: `fundguard-<stage>-…`. Default `dev`. */
  stage?: string;
  /** The in-process handler's entry file (exports `handler`). Default `functions/in-process.ts`. */
  inProcessEntry?: string;
  /** Rule files copied into the bundle. Default `rules/`. */
  rulesDir?: string;
}

export interface QueueWithDeadLetters {
  queue: Queue;
  deadLetterQueue: Queue;
}

/**
 * FundGuard on AWS: the tables and queues of `src/resources.ts`, alarms on dead letters and
 * backlog, and the in-process function consuming the claims queue with least-privilege grants.
 */
export class FundGuardStack extends Stack {
  readonly tables: Record<TableName, Table>;
  readonly queues: Record<QueueName, QueueWithDeadLetters>;
  readonly inProcessFunction: NodejsFunction;
  readonly preEventApi: PreEventApi;

  constructor(scope: Construct, id: string, props: FundGuardStackProps = {}) {
    super(scope, id, props);
    const stage = props.stage ?? 'dev';

    this.tables = {} as Record<TableName, Table>;
    for (const name of Object.keys(TABLES) as TableName[]) this.tables[name] = this.#table(stage, name);
    this.queues = {} as Record<QueueName, QueueWithDeadLetters>;
    for (const name of Object.keys(QUEUES) as QueueName[]) this.queues[name] = this.#queue(stage, name);

    new Alarm(this, 'ClaimsBacklogAlarm', {
      alarmDescription: `The oldest claim has waited over ${OLDEST_CLAIM_ALARM_SECONDS} s: in-process controls are behind.`,
      metric: this.queues.claims.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: OLDEST_CLAIM_ALARM_SECONDS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.inProcessFunction = this.#inProcessFunction(
      props.inProcessEntry ?? join(PROJECT_ROOT, 'functions', 'in-process.ts'),
      props.rulesDir ?? join(PROJECT_ROOT, 'rules'),
    );
    this.preEventApi = new PreEventApi(this, 'PreEventApi', {
      stage,
      tables: { claims: this.tables.claims, flags: this.tables.flags },
      ...(props.rulesDir ? { rulesDir: props.rulesDir } : {}),
      ...props.preEventApi,
    });
    new ReviewApi(this, 'ReviewApi', {
      stage,
      tables: this.tables,
      ...(props.rulesDir ? { rulesDir: props.rulesDir } : {}),
    });
  }

  #table(stage: string, name: TableName): Table {
    const def = TABLES[name];
    const table = new Table(this, `${pascal(name)}Table`, {
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
      });
    }
    return table;
  }

  #queue(stage: string, name: QueueName): QueueWithDeadLetters {
    const def = QUEUES[name];
    const deadLetterQueue = new Queue(this, `${pascal(name)}DeadLetterQueue`, {
      queueName: physicalName(stage, deadLetterQueueName(name)),
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const queue = new Queue(this, `${pascal(name)}Queue`, {
      queueName: physicalName(stage, def.name),
      visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(def.retentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: def.maxReceiveCount },
    });
    new Alarm(this, `${pascal(name)}DeadLettersAlarm`, {
      alarmDescription: `Messages of ${def.name} failed ${def.maxReceiveCount} times and wait in its dead-letter queue.`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return { queue, deadLetterQueue };
  }

  #inProcessFunction(entry: string, rulesDir: string): NodejsFunction {
    const logGroup = new LogGroup(this, 'InProcessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role: the default one carries AWSLambdaBasicExecutionRole, whose log rights cover every log group.
    const role = new Role(this, 'InProcessRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'In-process controls: claims queue to decisions, flags and hospital alerts',
    });
    logGroup.grantWrite(role);

    const { claims, decisions, flags, scores, idempotency } = this.tables;
    const fn = new NodejsFunction(this, 'InProcessFunction', {
      description: 'In-process controls (事中审核): screens each settled claim from the claims queue',
      entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      // AWS advises a queue visibility timeout of at least six times the function's timeout, so
      // that retries of a throttled batch do not make messages visible again while in flight.
      timeout: Duration.seconds(Math.floor(QUEUES.claims.visibilityTimeoutSeconds / 6)),
      role,
      logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        CLAIMS_TABLE: claims.tableName,
        DECISIONS_TABLE: decisions.tableName,
        FLAGS_TABLE: flags.tableName,
        SCORES_TABLE: scores.tableName,
        IDEMPOTENCY_TABLE: idempotency.tableName,
        ALERTS_QUEUE_URL: this.queues.alerts.queue.queueUrl,
        FUNDGUARD_RULES_DIR: LAMBDA_RULES_DIR,
        POWERTOOLS_SERVICE_NAME: 'fundguard',
        POWERTOOLS_METRICS_NAMESPACE: 'FundGuard',
        NODE_OPTIONS: '--enable-source-maps',
      },
      // The core reads rule and catalogue JSON at cold start from FUNDGUARD_RULES_DIR.
      bundling: bundling((outputDir) => [
        `cp -R ${shellQuote(rulesDir)} ${shellQuote(join(outputDir, 'rules'))}`,
      ]),
    });

    fn.addEventSource(
      new SqsEventSource(this.queues.claims.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // Bounds the write rate on the tables and the alerts a burst of claims can raise at once.
        maxConcurrency: 20,
      }),
    );
    // History is read with one PartiQL SELECT per batch and outcomes are batch-written
    // (src/stores/dynamo.ts); both are authorised per table.
    grantTable(fn, claims, ['PartiQLSelect', 'BatchWriteItem']);
    grantTable(fn, decisions, ['BatchWriteItem']);
    grantTable(fn, flags, ['BatchWriteItem']);
    grantTable(fn, idempotency, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    this.queues.alerts.queue.grantSendMessages(fn);

    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node 20 is pinned on purpose: package.json engines, the local stack and the tests run on Node 20; ' +
        'the runtime moves together with that toolchain.',
    });
    return fn;
  }
}

/**
 * Exactly these actions on the table itself. `table.grant*()` would add `<table>/index/*`, which the
 * in-process function never queries.
 */
function grantTable(grantee: IGrantable, table: Table, actions: string[]): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: actions.map((action) => `dynamodb:${action}`),
    resourceArns: [table.tableArn],
  });
}

const attribute = (key: KeyDef) => ({
  name: key.name,
  type: key.type === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
});

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
