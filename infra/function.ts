import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { bundling, shellQuote } from './bundling.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where Lambda unpacks the bundle (`LAMBDA_TASK_ROOT`); files copied after bundling land here. */
export const LAMBDA_TASK_ROOT = '/var/task';

/** Where a function's rules directory lands in its bundle; the core reads rule and catalogue JSON there at cold start. */
export const LAMBDA_RULES_DIR = `${LAMBDA_TASK_ROOT}/rules`;

/** The `afterBundling` command that copies `rulesDir` into the bundle, to be read at `LAMBDA_RULES_DIR`. */
export const copyRules = (rulesDir: string) => (outputDir: string) => [
  `cp -R ${shellQuote(rulesDir)} ${shellQuote(join(outputDir, 'rules'))}`,
];

export interface FunctionOptions {
  description: string;
  /** IAM takes Latin-1 only. */
  roleDescription: string;
  entry: string;
  memorySize: number;
  timeout: Duration;
  /** What the function's schema in src/config.ts reads; write it `satisfies EnvironmentOf<typeof …Env>`. */
  environment: Record<string, string>;
  /** Shell commands run after bundling, given the bundle's directory (rules, keys). */
  afterBundling: (outputDir: string) => string[];
}

/** Read by Powertools and Node themselves, not by our configuration parser. */
const RUNTIME_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: 'fundguard',
  POWERTOOLS_METRICS_NAMESPACE: 'FundGuard',
  NODE_OPTIONS: '--enable-source-maps',
};

/**
 * Every FundGuard Lambda function is made here: Node 22 on arm64, bundled by esbuild (no Docker),
 * with its own log group (a month) and its own role, `<name>Logs`, `<name>Role` and
 * `<name>Function` in `scope`.
 */
export function fundGuardFunction(scope: Construct, name: string, options: FunctionOptions): NodejsFunction {
  const logGroup = new LogGroup(scope, `${name}Logs`, {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Our own role: the default one carries AWSLambdaBasicExecutionRole, whose log rights cover every log group.
  const role = new Role(scope, `${name}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: options.roleDescription,
  });
  logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, `${name}Function`, {
    description: options.description,
    entry: options.entry,
    handler: 'handler',
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: options.timeout,
    role,
    logGroup,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    environment: { ...options.environment, ...RUNTIME_ENVIRONMENT },
    bundling: bundling(options.afterBundling),
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node 22 on purpose: the nearest Lambda runtime to the Node 20 the code is tested on (package.json ' +
      'engines, local stack, tests); it moves to Node 24 together with that toolchain.',
  });
  return fn;
}

/** Seconds a function trusts its last check of the active rule set: a publish takes effect within a minute. */
export const RULE_SET_CHECK_SECONDS = 30;
