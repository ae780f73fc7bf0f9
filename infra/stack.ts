import { join } from 'node:path';
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { EnvironmentOf, InProcessEnv } from '../src/config.ts';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deadLetterQueueName,
  indexOf,
  physicalName,
  QUEUES,
  type QueueDef,
  type QueueName,
  TABLES,
  type TableName,
} from '../src/resources.ts';
import { PreEventApi, type PreEventApiProps } from './api.ts';
import { PostEventAudit } from './audit.ts';
import {
  copyRules,
  fundGuardFunction,
  LAMBDA_RULES_DIR,
  PROJECT_ROOT,
  RULE_SET_CHECK_SECONDS,
} from './function.ts';
import { ReviewApi } from './review.ts';
import { pascal, resourceTable } from './table.ts';

/** The rules are copied next to the code. */

const CLAIMS_EVENT_SOURCE = QUEUES.claims.eventSource;

/** A backlog this old means the in-process stage (seconds per claim) has stalled. */
const OLDEST_CLAIM_ALARM_SECONDS = 300;

export interface FundGuardStackProps extends StackProps {
  /** Entries and keys of the pre-event API (tests point them at fixtures). */
  preEventApi?: Partial<Omit<PreEventApiProps, 'stage' | 'tables'>>;
  /** Prefix of every physical name: `fundguard-<stage>-…`. Default `dev`. */
  stage?: string;
  /** The in-process handler's entry file (exports `handler`). Default `functions/in-process.ts`. */
  inProcessEntry?: string;
  /** The audit handler's entry file. Default `functions/audit.ts`. */
  auditEntry?: string;
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
  readonly audit: PostEventAudit;

  constructor(scope: Construct, id: string, props: FundGuardStackProps = {}) {
    super(scope, id, props);
    const stage = props.stage ?? 'dev';

    this.tables = {} as Record<TableName, Table>;
    for (const name of Object.keys(TABLES) as TableName[])
      this.tables[name] = resourceTable(this, stage, name);
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
    this.audit = new PostEventAudit(this, 'PostEventAudit', {
      stage,
      tables: this.tables,
      entry: props.auditEntry ?? join(PROJECT_ROOT, 'functions', 'audit.ts'),
      rulesDir: props.rulesDir ?? join(PROJECT_ROOT, 'rules'),
    });
    this.preEventApi = new PreEventApi(this, 'PreEventApi', {
      stage,
      tables: {
        claims: this.tables.claims,
        flags: this.tables.flags,
        decisions: this.tables.decisions,
        ruleSets: this.tables.ruleSets,
      },
      ...(props.rulesDir ? { rulesDir: props.rulesDir } : {}),
      ...props.preEventApi,
    });
    new ReviewApi(this, 'ReviewApi', {
      stage,
      tables: this.tables,
      ...(props.rulesDir ? { rulesDir: props.rulesDir } : {}),
    });
  }

  #queue(stage: string, name: QueueName): QueueWithDeadLetters {
    const def: QueueDef = QUEUES[name];
    const fifo = def.fifo ? { fifo: true } : {};
    const deadLetterQueue = new Queue(this, `${pascal(name)}DeadLetterQueue`, {
      ...fifo,
      queueName: physicalName(stage, deadLetterQueueName(name)),
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const queue = new Queue(this, `${pascal(name)}Queue`, {
      ...fifo,
      ...(def.fifo ? { contentBasedDeduplication: true } : {}),
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
    const { claims, decisions, flags, scores, idempotency, ruleSets } = this.tables;
    const fn = fundGuardFunction(this, 'InProcess', {
      description: 'In-process controls (事中审核): screens each settled claim from the claims queue',
      roleDescription: 'In-process controls: claims queue to decisions, flags and hospital alerts',
      entry,
      memorySize: 1024,
      // AWS advises a queue visibility timeout of at least six times the function's timeout, so
      // that retries of a throttled batch do not make messages visible again while in flight.
      timeout: Duration.seconds(Math.floor(QUEUES.claims.visibilityTimeoutSeconds / 6)),
      environment: {
        CLAIMS_TABLE: claims.tableName,
        DECISIONS_TABLE: decisions.tableName,
        FLAGS_TABLE: flags.tableName,
        SCORES_TABLE: scores.tableName,
        IDEMPOTENCY_TABLE: idempotency.tableName,
        ALERTS_QUEUE_URL: this.queues.alerts.queue.queueUrl,
        FUNDGUARD_RULES_DIR: LAMBDA_RULES_DIR,
        RULE_SETS_TABLE: ruleSets.tableName,
        RULE_SET_CHECK_SECONDS: String(RULE_SET_CHECK_SECONDS),
      } satisfies EnvironmentOf<typeof InProcessEnv>,
      afterBundling: copyRules(rulesDir),
    });

    fn.addEventSource(
      new SqsEventSource(this.queues.claims.queue, {
        batchSize: CLAIMS_EVENT_SOURCE.batchSize,
        // A FIFO source takes no batching window (Lambda refuses one); the claims queue is FIFO.
        ...(CLAIMS_EVENT_SOURCE.maxBatchingWindowSeconds > 0
          ? { maxBatchingWindow: Duration.seconds(CLAIMS_EVENT_SOURCE.maxBatchingWindowSeconds) }
          : {}),
        reportBatchItemFailures: true,
        maxConcurrency: CLAIMS_EVENT_SOURCE.maxConcurrency,
      }),
    );
    // History is read with one PartiQL SELECT per batch and outcomes are batch-written
    // (src/stores/dynamo.ts); both are authorised per table.
    grantTable(fn, claims, ['PartiQLSelect', 'BatchWriteItem']);
    // The identity read, then the decision written conditionally as the commit marker: a new claim's
    // by a PartiQL INSERT (a batch of them per call), a correction's by PutItem (docs/dynamodb.md).
    grantTable(fn, decisions, ['BatchGetItem', 'PartiQLInsert', 'PutItem']);
    // Flags batch-written; a correction marks the earlier version's flags superseded.
    // GetItem and UpdateItem: a superseded flag is read, then marked and uncounted (src/review/counts.ts).
    grantTable(fn, flags, ['BatchWriteItem', 'GetItem', 'UpdateItem']);
    // A retried claim's flags by claim, to delete what a failed attempt left (src/stores/dynamo.ts).
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: [`${flags.tableArn}/index/${indexOf('flags', 'byClaim').indexName}`],
    });
    grantTable(fn, idempotency, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    // The active pointer and a version's parts are single GetItems; publishing is the CLI's, not the function's.
    grantTable(fn, ruleSets, ['GetItem']);
    this.queues.alerts.queue.grantSendMessages(fn);

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
