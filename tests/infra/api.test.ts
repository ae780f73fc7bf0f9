import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreEventApi } from '../../infra/api.ts';
import { resourceTable } from '../../infra/table.ts';
import { issueKey, readKeysFile } from '../../src/api/keys.ts';
import { ROUTES, routeKey } from '../../src/api/routes.ts';
import { ApiEnv, AuthorizerEnv } from '../../src/config.ts';
import { acknowledgedRules, arnIn, logicalIdIn, nagViolations, synthesize } from '../helpers/cdk.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let outdir: string;
let keysFile: string;
let stack: Stack;
let api: PreEventApi;
let tables: { claims: Table; flags: Table; decisions: Table; ruleSets: Table };
let template: Template;

/** The tables the API reads, built as FundGuardStack builds them. */
const tablesIn = (scope: Stack) => ({
  claims: resourceTable(scope, 'test', 'claims'),
  flags: resourceTable(scope, 'test', 'flags'),
  decisions: resourceTable(scope, 'test', 'decisions'),
  ruleSets: resourceTable(scope, 'test', 'ruleSets'),
});

beforeAll(() => {
  ({ stack, template, outdir } = synthesize('fundguard-api-cdk-', (app, dir) => {
    keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ keys: [issueKey('H3001', 'H3001-test').entry] }));
    const built = new Stack(app, 'PreEventApiTest');
    tables = tablesIn(built);
    api = new PreEventApi(built, 'PreEventApi', { stage: 'test', tables, apiKeysFile: keysFile });
    return built;
  }));
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct) => logicalIdIn(stack)(construct);
const arnOf = (construct: IConstruct) => arnIn(stack)(construct);

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}
/** The statements of the policies attached to a function's role. */
function statementsOf(fn: NodejsFunction): Statement[] {
  const role = fn.role ? { Ref: logicalId(fn.role) } : undefined;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([role]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('routes and authorizer', () => {
  it('serves exactly the routes of src/api/routes.ts, each behind the API key authorizer', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(
      Object.values(routes)
        .map((r) => r.Properties.RouteKey)
        .sort(),
    ).toEqual(Object.values(ROUTES).map(routeKey).sort());
    const [authorizerId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    for (const route of Object.values(routes)) {
      expect(route.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }
  });

  it('sends both routes to the API function with payload format 2.0', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: arnOf(api.apiFunction),
    });
  });

  it('checks the x-api-key header with simple responses and caches each answer for five minutes', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.x-api-key'],
      AuthorizerResultTtlInSeconds: 300,
      AuthorizerUri: {
        'Fn::Join': ['', Match.arrayWith([arnOf(api.authorizerFunction)])],
      },
    });
  });

  it('lets API Gateway alone invoke the functions, from this API only', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
      (p) => p.Properties,
    );
    expect(permissions.length).toBeGreaterThanOrEqual(2);
    for (const permission of permissions) {
      expect(permission).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
      });
      expect(JSON.stringify(permission.SourceArn)).toContain(logicalId(api.httpApi));
    }
    const targets = permissions.map((p) => JSON.stringify(p.FunctionName));
    expect(targets.some((t) => t.includes(logicalId(api.apiFunction)))).toBe(true);
    expect(targets.some((t) => t.includes(logicalId(api.authorizerFunction)))).toBe(true);
  });
});

describe('stage', () => {
  it('outputs the base URL hospitals call, on the API', () => {
    const outputs = Object.values(
      template.findOutputs('*', { Description: Match.stringLikeRegexp('pre-event API') }),
    );
    expect(outputs).toHaveLength(1);
    expect(JSON.stringify(outputs[0]?.Value)).toContain(logicalId(api.httpApi));
  });

  it('throttles the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('writes JSON access logs naming the hospital to a log group kept a year', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]?.Properties;
    expect(stage.AccessLogSettings.DestinationArn).toEqual(arnOf(api.accessLogs));
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      hospitalId: '$context.authorizer.hospitalId',
      authorizerError: '$context.authorizer.error',
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('functions', () => {
  it('run on Node 22 arm64, each logging to its own log group with a retention', () => {
    for (const fn of [api.apiFunction, api.authorizerFunction]) {
      const properties = template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties;
      expect(properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      const logGroup = template.findResources('AWS::Logs::LogGroup')[properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('give the API function its tables and bundled rules, and the authorizer its bundled keys', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CLAIMS_TABLE: { Ref: logicalId(tables.claims) },
          DECISIONS_TABLE: { Ref: logicalId(tables.decisions) },
          FLAGS_TABLE: { Ref: logicalId(tables.flags) },
          FUNDGUARD_RULES_DIR: '/var/task/rules',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FUNDGUARD_API_KEYS_FILE: '/var/task/api-keys.json' }) },
    });
  });

  it('give the API function its cursor key from a generated secret, resolved at deploy time, not written in the template', () => {
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
    });
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(api.apiFunction)];
    const value = JSON.stringify(fn?.Properties.Environment.Variables.CURSOR_SECRET);
    expect(value).toContain('{{resolve:secretsmanager:');
    expect(value).toContain(String(secretId));
  });

  it('set exactly the variables src/config.ts reads for each, beside those Powertools and Node read', () => {
    const runtime = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
    const variables = (fn: NodejsFunction) =>
      Object.keys(
        template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Environment.Variables,
      ).sort();
    expect(variables(api.apiFunction)).toEqual([...Object.keys(ApiEnv.shape), ...runtime].sort());
    expect(variables(api.authorizerFunction)).toEqual(
      [...Object.keys(AuthorizerEnv.shape), ...runtime].sort(),
    );
  });

  it('bundles the rules with the API function and the keys file (hashes only) with the authorizer', () => {
    const bundles = readdirSync(outdir)
      .filter((entry) => entry.startsWith('asset.'))
      .map((asset) => join(outdir, asset))
      .filter((dir) => existsSync(join(dir, 'index.mjs')));
    const withRules = bundles.find((dir) => existsSync(join(dir, 'rules')));
    const withKeys = bundles.find((dir) => existsSync(join(dir, 'api-keys.json')));
    expect(readdirSync(join(withRules ?? '', 'rules'))).toEqual(
      expect.arrayContaining(readdirSync(join(PROJECT_ROOT, 'rules'))),
    );
    expect(readFileSync(join(withKeys ?? '', 'api-keys.json'), 'utf8')).toBe(readFileSync(keysFile, 'utf8'));
    expect(withKeys).not.toBe(withRules);
  });
});

describe('least privilege', () => {
  it('lets the API function Query the claims table and the flags table’s byHospital index, and read decisions and rule set versions, nothing more', () => {
    const grants = statementsOf(api.apiFunction)
      .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
      .map((s) => ({ actions: actionsOf(s), resource: s.Resource }));
    expect(grants).toEqual([
      { actions: ['dynamodb:Query'], resource: arnOf(tables.claims) },
      {
        actions: ['dynamodb:Query'],
        resource: { 'Fn::Join': ['', [arnOf(tables.flags), '/index/byHospital']] },
      },
      { actions: ['dynamodb:BatchGetItem'], resource: arnOf(tables.decisions) },
      { actions: ['dynamodb:GetItem'], resource: arnOf(tables.ruleSets) },
    ]);
  });

  it('gives the authorizer no data access at all', () => {
    const actions = statementsOf(api.authorizerFunction).flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a.startsWith('logs:'))).toBe(true);
  });

  it('uses no wildcard action or resource and no managed policy', () => {
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
    for (const statement of all) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/\*/);
    }
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('keys file', () => {
  it('warns at synth and bundles an empty keyring when the stage has no keys file', () => {
    const bareOut = join(outdir, 'no-keys');
    const app = new App({ outdir: bareOut });
    const bare = new Stack(app, 'NoKeys');
    new PreEventApi(bare, 'PreEventApi', {
      stage: 'test',
      tables: tablesIn(bare),
      apiKeysFile: join(outdir, 'missing.json'),
    });
    Annotations.fromStack(bare).hasWarning('*', Match.stringLikeRegexp('refuses every request'));
    const keyrings = readdirSync(bareOut)
      .map((asset) => join(bareOut, asset, 'api-keys.json'))
      .filter((file) => existsSync(file));
    expect(keyrings.map((file) => readKeysFile(file))).toEqual([{ keys: [] }]);
  });

  it('fails synth on a malformed keys file rather than deploying it', () => {
    const malformed = join(outdir, 'malformed.json');
    writeFileSync(
      malformed,
      JSON.stringify({ keys: [{ keyId: 'k', hospitalId: 'H3001', sha256: 'plain-key' }] }),
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const bare = new Stack(app, 'BadKeys');
    expect(
      () =>
        new PreEventApi(bare, 'PreEventApi', {
          stage: 'test',
          tables: tablesIn(bare),
          apiKeysFile: malformed,
        }),
    ).toThrow(/keys\[0\]\.sha256/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no violation', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  it('gives a written reason for every acknowledged rule: the Node 22 runtime of the two functions, the cursor key’s rotation', () => {
    const acknowledged = acknowledgedRules(stack);
    expect(acknowledged.map(([id]) => id).sort()).toEqual([
      expect.stringContaining('AwsSolutions-L1'),
      expect.stringContaining('AwsSolutions-L1'),
      expect.stringContaining('AwsSolutions-SMG4'),
    ]);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });
});
