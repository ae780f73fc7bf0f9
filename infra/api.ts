import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, CfnOutput, Duration } from 'aws-cdk-lib';
import { AccessLogField } from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi, HttpStage, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_KEY_HEADER } from '../src/api/identity.ts';
import { apiKeysFileFor, readKeysFile } from '../src/api/keys.ts';
import { ROUTES } from '../src/api/routes.ts';
import type { ApiEnv, AuthorizerEnv, EnvironmentOf } from '../src/config.ts';
import { indexOf } from '../src/resources.ts';
import { shellQuote } from './bundling.ts';
import { cursorSecret } from './cursor-secret.ts';
import {
  copyRules,
  fundGuardFunction,
  LAMBDA_RULES_DIR,
  LAMBDA_TASK_ROOT,
  PROJECT_ROOT,
  RULE_SET_CHECK_SECONDS,
} from './function.ts';
import { lambdaHttpApi } from './http-api.ts';

/** The design load is a steady 200 prescreens a second; the headroom serves peaks and still stops a runaway client. */
const DEFAULT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 500, burstLimit: 1000 };

/** How long API Gateway reuses an authorizer answer for the same key; also how long a revoked key lives on. */
const DEFAULT_AUTHORIZER_CACHE = Duration.minutes(5);

export interface PreEventApiProps {
  /** Prefix of physical names: `fundguard-<stage>-…`. */
  stage: string;
  /** The claims table (patients' history), the flags table (hospitals' alerts, byHospital index), the decisions, the rule set versions. */
  tables: { claims: ITable; flags: ITable; decisions: ITable; ruleSets: ITable };
  /** Hashed keys the authorizer accepts. Default `apiKeysFileFor(stage)`; missing, every request is refused. */
  apiKeysFile?: string;
  /** Entry files; default `functions/api.ts` and `functions/authorizer.ts`. */
  apiEntry?: string;
  authorizerEntry?: string;
  /** Rule files copied into the API bundle. Default `rules/`. */
  rulesDir?: string;
  throttle?: Required<ThrottleSettings>;
  authorizerCacheTtl?: Duration;
}

/**
 * The hospital-facing pre-event API: an HTTP API whose routes (src/api/routes.ts) all sit behind a
 * Lambda authorizer checking per-hospital API keys, one function serving them with read-only
 * access to a patient's history and the hospital's alerts, stage throttling and JSON access logs.
 */
export class PreEventApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly apiFunction: NodejsFunction;
  readonly authorizerFunction: NodejsFunction;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: PreEventApiProps) {
    super(scope, id);
    const keysFile = props.apiKeysFile ?? apiKeysFileFor(props.stage);
    const rulesDir = props.rulesDir ?? join(PROJECT_ROOT, 'rules');

    const cursors = cursorSecret(this, 'Api');
    this.apiFunction = fundGuardFunction(this, 'Api', {
      description: "Pre-event alerts (事前提醒): screens hospitals' draft claims and lists their alerts",
      roleDescription: 'Pre-event API: reads patient history and hospital alerts',
      entry: props.apiEntry ?? join(PROJECT_ROOT, 'functions', 'api.ts'),
      memorySize: 1024,
      // API Gateway waits up to 30 s; a prescreen takes milliseconds, so anything this slow is stuck.
      timeout: Duration.seconds(6),
      environment: {
        CLAIMS_TABLE: props.tables.claims.tableName,
        DECISIONS_TABLE: props.tables.decisions.tableName,
        FLAGS_TABLE: props.tables.flags.tableName,
        CURSOR_SECRET: cursors.value,
        FUNDGUARD_RULES_DIR: LAMBDA_RULES_DIR,
        RULE_SETS_TABLE: props.tables.ruleSets.tableName,
        RULE_SET_CHECK_SECONDS: String(RULE_SET_CHECK_SECONDS),
      } satisfies EnvironmentOf<typeof ApiEnv>,
      afterBundling: copyRules(rulesDir),
    });

    this.authorizerFunction = fundGuardFunction(this, 'Authorizer', {
      description: "Pre-event API authorizer: maps a hospital's API key to its hospital id",
      roleDescription: 'Pre-event API authorizer: checks API keys, reads no data',
      entry: props.authorizerEntry ?? join(PROJECT_ROOT, 'functions', 'authorizer.ts'),
      memorySize: 256,
      timeout: Duration.seconds(3),
      environment: {
        FUNDGUARD_API_KEYS_FILE: `${LAMBDA_TASK_ROOT}/api-keys.json`,
      } satisfies EnvironmentOf<typeof AuthorizerEnv>,
      afterBundling: this.#bundleKeys(keysFile, props.stage),
    });

    this.#grantReads(props.tables);

    const authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', this.authorizerFunction, {
      authorizerName: 'api-key',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [`$request.header.${API_KEY_HEADER}`],
      resultsCacheTtl: props.authorizerCacheTtl ?? DEFAULT_AUTHORIZER_CACHE,
    });
    // Who called what and with which answer: kept a year for audits of hospitals' access.
    ({
      httpApi: this.httpApi,
      stage: this.stage,
      accessLogs: this.accessLogs,
    } = lambdaHttpApi(this, {
      stage: props.stage,
      name: 'pre-event-api',
      description: 'FundGuard pre-event alerts for hospitals',
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      fn: this.apiFunction,
      integrationId: 'ApiIntegration',
      authorizer,
      routes: ROUTES,
      logFields: {
        status: AccessLogField.contextStatus(),
        responseLength: AccessLogField.contextResponseLength(),
        latencyMs: AccessLogField.contextResponseLatency(),
        integrationLatencyMs: AccessLogField.contextIntegrationLatency(),
        hospitalId: '$context.authorizer.hospitalId',
        keyId: '$context.authorizer.keyId',
        authorizerError: '$context.authorizer.error',
        integrationError: '$context.integrationErrorMessage',
      },
    }));
    new CfnOutput(this, 'Url', {
      description: 'Base URL of the pre-event API for hospitals',
      value: this.url,
    });
  }

  /** The base URL hospitals call. */
  get url(): string {
    return this.stage.url;
  }

  /**
   * The keys file, validated now so a malformed one fails `cdk synth`, copied into the authorizer's
   * bundle. Without one the authorizer gets an empty keyring and refuses every request.
   */
  #bundleKeys(keysFile: string, stage: string): (outputDir: string) => string[] {
    const target = (outputDir: string) => shellQuote(join(outputDir, 'api-keys.json'));
    if (!existsSync(keysFile)) {
      Annotations.of(this).addWarningV2(
        'fundguard:api-keys-missing',
        `no API keys file ${keysFile}: the pre-event API of stage ${stage} refuses every request until ` +
          'keys are issued (npx fundguard keys issue --stage STAGE --hospital ID; see docs/api.md)',
      );
      return (outputDir) => [`printf '%s\\n' '{"keys":[]}' > ${target(outputDir)}`];
    }
    readKeysFile(keysFile);
    return (outputDir) => [`cp ${shellQuote(keysFile)} ${target(outputDir)}`];
  }

  /**
   * Exactly the reads the API makes: a patient's history, a hospital's flags by the byHospital
   * index, and the active rule set (GetItem of its pointer and parts).
   */
  #grantReads(tables: PreEventApiProps['tables']): void {
    const byHospital = indexOf('flags', 'byHospital');
    Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['dynamodb:Query'],
      resourceArns: [tables.claims.tableArn],
    });
    Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['dynamodb:Query'],
      resourceArns: [`${tables.flags.tableArn}/index/${byHospital.indexName}`],
    });
    // An alert is listed only once its claim's decision lists it (src/api/alerts-dynamo.ts).
    Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['dynamodb:BatchGetItem'],
      resourceArns: [tables.decisions.tableArn],
    });
    Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: ['dynamodb:GetItem'],
      resourceArns: [tables.ruleSets.tableArn],
    });
  }
}
