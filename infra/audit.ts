import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import {
  DefinitionBody,
  DistributedMap,
  ItemBatcher,
  JsonPath,
  LogLevel,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import type { AuditEnv, EnvironmentOf } from '../src/config.ts';
import { physicalName } from '../src/resources.ts';
import { copyRules, fundGuardFunction, LAMBDA_RULES_DIR } from './function.ts';

export interface PostEventAuditProps {
  stage: string;
  tables: { claims: Table; decisions: Table; flags: Table; scores: Table };
  entry: string;
  rulesDir: string;
}

/** Segments audited at once: bounds the scan rate on the claims table and the flag writes. */
export const AUDIT_MAX_CONCURRENCY = 16;
/** Segments per audit invocation (the item batcher): two keeps each well inside 15 minutes. */
export const SEGMENTS_PER_INVOCATION = 2;

/**
 * The post-event stage on AWS: a state machine that plans the run (period, scan segments), fans
 * the segments out through a Distributed Map of audit invocations (each the pure map over its
 * patients, writing their flags and leaving partial aggregates in S3), then reduces them (peer
 * statistics, hospital and doctor flags, scores). All logic is in the function; the state machine
 * only wires the steps. An EventBridge rule starts it at 02:00 UTC on the 1st for the month before;
 * on demand it is one StartExecution with `{"period": "YYYY-MM"}`.
 */
export class PostEventAudit extends Construct {
  readonly function: NodejsFunction;
  readonly stateMachine: StateMachine;
  readonly bucket: Bucket;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: PostEventAuditProps) {
    super(scope, id);
    const { claims, decisions, flags, scores } = props.tables;
    this.bucket = new Bucket(this, 'PartialsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Partial aggregates only feed the reduce step of their run.
      lifecycleRules: [{ expiration: Duration.days(14) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only intermediate aggregates that expire after 14 days; the audit is traced in the state machine logs.',
    });

    this.function = fundGuardFunction(this, 'Audit', {
      description:
        'Post-event audit (事后监管): plans, maps scan segments of the claims table, reduces to scores',
      roleDescription: 'Post-event audit: scans claims, writes post flags and scores, partials in its bucket',
      entry: props.entry,
      memorySize: 3008,
      timeout: Duration.minutes(15),
      environment: {
        CLAIMS_TABLE: claims.tableName,
        DECISIONS_TABLE: decisions.tableName,
        FLAGS_TABLE: flags.tableName,
        SCORES_TABLE: scores.tableName,
        AUDIT_BUCKET: this.bucket.bucketName,
        FUNDGUARD_RULES_DIR: LAMBDA_RULES_DIR,
      } satisfies EnvironmentOf<typeof AuditEnv>,
      afterBundling: copyRules(props.rulesDir),
    });
    const role = this.function.role as IGrantable;
    // Exactly what the steps call: a parallel Scan of claims, the flagged claims' versions from their
    // decisions, conditional Puts of flags with their review counters (UpdateItem, src/review/counts.ts),
    // batch-written scores.
    for (const [table, actions] of [
      [claims, ['Scan']],
      [decisions, ['BatchGetItem']],
      [flags, ['PutItem', 'UpdateItem']],
      [scores, ['BatchWriteItem']],
    ] as const) {
      Grant.addToPrincipal({
        grantee: role,
        actions: actions.map((a) => `dynamodb:${a}`),
        resourceArns: [table.tableArn],
      });
    }
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [this.bucket.arnForObjects('audits/*')],
    });

    const plan = new LambdaInvoke(this, 'Plan', {
      lambdaFunction: this.function,
      // The execution input as it came (`{}` from the schedule, `{"period": …}` on demand).
      payload: TaskInput.fromObject({
        step: 'plan',
        request: JsonPath.entirePayload,
        runId: JsonPath.stringAt('$$.Execution.Name'),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const auditSegment = new LambdaInvoke(this, 'AuditSegments', {
      lambdaFunction: this.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const fanOut = new DistributedMap(this, 'EachSegment', {
      itemsPath: '$.segments',
      itemSelector: { 'segment.$': '$$.Map.Item.Value' },
      itemBatcher: new ItemBatcher({
        maxItemsPerBatch: SEGMENTS_PER_INVOCATION,
        batchInput: {
          step: 'map',
          'period.$': '$.period',
          'runId.$': '$.runId',
          'totalSegments.$': '$.totalSegments',
        },
      }),
      maxConcurrency: AUDIT_MAX_CONCURRENCY,
      resultPath: '$.segmentResults',
    });
    fanOut.itemProcessor(auditSegment);
    const reduce = new LambdaInvoke(this, 'Reduce', {
      lambdaFunction: this.function,
      payload: TaskInput.fromObject({
        step: 'reduce',
        'period.$': '$.period',
        'runId.$': '$.runId',
        'segments.$': '$.segmentResults',
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });

    const machineLogs = new LogGroup(this, 'StateMachineLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'AuditStateMachine', {
      stateMachineName: physicalName(props.stage, 'post-event-audit'),
      definitionBody: DefinitionBody.fromChainable(plan.next(fanOut).next(reduce)),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: LogLevel.ALL, includeExecutionData: false },
    });

    // The wildcards cdk-nag finds, each what a step needs and no more, acknowledged one by one.
    const stack = Stack.of(this);
    const lid = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
    const execution = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${lid(this.stateMachine)}"}]}]}`;
    const findings: [string, string][] = [
      [
        `Resource::<${lid(this.bucket)}.Arn>/audits/*`,
        'Object keys are made per run (audits/<period>/<execution>/segment-n.json): get and put are limited to that prefix.',
      ],
      [
        `Resource::<${lid(this.function)}.Arn>:*`,
        'The state machine invokes the audit function and its versions (fn:*), as the Lambda task grants by default.',
      ],
      [
        'Resource::*',
        'X-Ray tracing and log delivery of the state machine take no resource-level permissions.',
      ],
      [
        `Resource::${execution}:*`,
        'The Distributed Map describes and stops only its own child executions, named at run time.',
      ],
      [
        `Resource::${execution}/*:*`,
        'The Distributed Map describes and stops only its own child executions, named at run time.',
      ],
    ];
    for (const [finding, reason] of findings)
      Validations.of(this).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    this.schedule = new Rule(this, 'MonthlyAudit', {
      description: 'Audits the month just ended at 02:00 UTC on the 1st',
      schedule: Schedule.cron({ minute: '0', hour: '2', day: '1', month: '*', year: '*' }),
      targets: [new SfnStateMachine(this.stateMachine, { input: RuleTargetInput.fromObject({}) })],
    });
  }
}
