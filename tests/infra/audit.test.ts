import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_MAX_CONCURRENCY, SEGMENTS_PER_INVOCATION } from '../../infra/audit.ts';
import { FundGuardStack } from '../../infra/stack.ts';
import { logicalIdIn, nagViolations, synthesize } from '../helpers/cdk.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
let outdir: string;
let stack: FundGuardStack;
let template: Template;

beforeAll(() => {
  ({ stack, template, outdir } = synthesize(
    'fundguard-cdk-audit-',
    (app) =>
      new FundGuardStack(app, 'FundGuard-audit-test', {
        stage: 'test',
        inProcessEntry: join(PROJECT_ROOT, 'tests', 'fixtures', 'in-process-handler.ts'),
        auditEntry: join(PROJECT_ROOT, 'tests', 'fixtures', 'audit-handler.ts'),
      }),
  ));
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (c: IConstruct) => logicalIdIn(stack)(c);

/** The state machine's Amazon States Language, with the function ARNs left as placeholders. */
// biome-ignore lint/suspicious/noExplicitAny: the ASL document is read as untyped JSON.
function definition(): Record<string, any> {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
  const parts = machine?.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  // Tokens (function ARNs) sit inside JSON strings: a plain word keeps the JSON valid.
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ARN')).join(''));
}

describe('post-event audit state machine', () => {
  it('plans, fans segments out through a Distributed Map with batching and bounded concurrency, then reduces', () => {
    const asl = definition();
    expect(asl.StartAt).toBe('Plan');
    expect(asl.States.Plan.Next).toBe('EachSegment');
    const map = asl.States.EachSegment;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemsPath).toBe('$.segments');
    expect(map.MaxConcurrency).toBe(AUDIT_MAX_CONCURRENCY);
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(SEGMENTS_PER_INVOCATION);
    expect(map.ItemBatcher.BatchInput).toEqual({
      step: 'map',
      'period.$': '$.period',
      'runId.$': '$.runId',
      'totalSegments.$': '$.totalSegments',
    });
    expect(map.ItemSelector).toEqual({ 'segment.$': '$$.Map.Item.Value' });
    expect(map.ResultPath).toBe('$.segmentResults');
    expect(map.Next).toBe('Reduce');
    expect(asl.States.Reduce.Parameters).toMatchObject({
      step: 'reduce',
      'segments.$': '$.segmentResults',
    });
    // Only the three steps: the logic lives in the function.
    expect(Object.keys(asl.States).sort()).toEqual(['EachSegment', 'Plan', 'Reduce']);
  });

  it('traces and logs every execution', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL' },
    });
  });

  it('runs monthly at 02:00 UTC on the 1st with an empty input (the plan picks the month before)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 1 * ? *)',
      Targets: [{ Arn: { Ref: logicalId(stack.audit.stateMachine) }, Input: '{}' }],
    });
  });

  it('gives the audit function the tables and bucket by name, 15 minutes and no more rights than its steps use', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: {
          CLAIMS_TABLE: { Ref: logicalId(stack.tables.claims) },
          DECISIONS_TABLE: { Ref: logicalId(stack.tables.decisions) },
          FLAGS_TABLE: { Ref: logicalId(stack.tables.flags) },
          SCORES_TABLE: { Ref: logicalId(stack.tables.scores) },
          AUDIT_BUCKET: { Ref: logicalId(stack.audit.bucket) },
        },
      },
    });
    const role = logicalId(stack.audit.function.role as IConstruct);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    const byAction = Object.fromEntries(dynamo.map((s) => [String(s.Action), s.Resource]));
    expect(byAction).toEqual({
      'dynamodb:Scan': { 'Fn::GetAtt': [logicalId(stack.tables.claims), 'Arn'] },
      'dynamodb:BatchGetItem': { 'Fn::GetAtt': [logicalId(stack.tables.decisions), 'Arn'] },
      'dynamodb:PutItem,dynamodb:UpdateItem': { 'Fn::GetAtt': [logicalId(stack.tables.flags), 'Arn'] },
      'dynamodb:BatchWriteItem': { 'Fn::GetAtt': [logicalId(stack.tables.scores), 'Arn'] },
    });
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(JSON.stringify(s3.map((s) => s.Resource))).toContain('/audits/*');
    expect(JSON.stringify(statements)).not.toContain('"dynamodb:*"');
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nagViolations(stack.audit)).toEqual([]);
  });
});
