import { rmSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReviewApi } from '../../infra/review.ts';
import { resourceTable } from '../../infra/table.ts';
import { TABLES } from '../../src/resources.ts';
import { REVIEW_ROUTES } from '../../src/review/routes.ts';
import { logicalIdIn, nagViolations, synthesize } from '../helpers/cdk.ts';

let outdir: string;
let stack: Stack;
let api: ReviewApi;
let tables: Record<'flags' | 'claims' | 'scores', Table>;
let template: Template;

beforeAll(() => {
  ({ stack, template, outdir } = synthesize('fundguard-review-cdk-', (app) => {
    const built = new Stack(app, 'ReviewApiTest');
    const table = (name: 'flags' | 'claims' | 'scores') => resourceTable(built, 'test', name);
    tables = { flags: table('flags'), claims: table('claims'), scores: table('scores') };
    api = new ReviewApi(built, 'ReviewApi', { stage: 'test', tables });
    return built;
  }));
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct) => logicalIdIn(stack)(construct);

describe('review API', () => {
  it('serves exactly the routes of src/review/routes.ts, each behind the JWT authorizer', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      Object.values(REVIEW_ROUTES)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    const [authorizerId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    for (const route of routes)
      expect(route.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
  });

  it("verifies tokens of the reviewers' user pool for the console's client", () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: logicalId(api.client) }],
        Issuer: {
          'Fn::Join': [
            '',
            Match.arrayWith([Match.stringLikeRegexp('cognito-idp'), { Ref: logicalId(api.userPool) }]),
          ],
        },
      },
    });
  });

  it('has one group per role, no self sign-up, MFA, and a hospital id users cannot change', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => g.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['auditor', 'hospital', 'rule-author']);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Schema: Match.arrayWith([Match.objectLike({ Name: 'hospitalId', Mutable: false })]),
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0]?.Properties;
    expect(client.ReadAttributes).toContain('custom:hospitalId');
    expect(client.WriteAttributes).not.toContain('custom:hospitalId');
  });

  it('grants the function exactly its reads and the one conditional write, no scan, no delete', () => {
    const role = { Ref: logicalId(api.fn.role as IConstruct) };
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([role]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    const actions = dynamo.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(new Set(actions)).toEqual(
      new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:Query']),
    );
    const writes = dynamo.filter((s) => JSON.stringify(s.Action).includes('UpdateItem'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]?.Resource)).toContain(logicalId(tables.flags));
    const indexes = JSON.stringify(dynamo.map((s) => s.Resource));
    for (const index of TABLES.flags.indexes) expect(indexes).toContain(`/index/${index.indexName}`);
    expect(indexes).not.toContain(logicalId(tables.claims).concat('/index'));
  });

  it('writes exports to a private bucket that empties itself, and lets the function put and sign only exports', () => {
    const bucket = logicalId(api.exports);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Prefix: 'exports/',
            ExpirationInDays: 1,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EXPORT_BUCKET: { Ref: bucket } }) },
    });
    const role = { Ref: logicalId(api.fn.role as IConstruct) };
    const s3 = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([role]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      )
      .filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(new Set(s3[0]?.Action)).toEqual(
      new Set(['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject']),
    );
    expect(JSON.stringify(s3[0]?.Resource)).toContain('/exports/*');
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});
