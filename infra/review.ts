import { join } from 'node:path';
import { type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogField } from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StringAttribute,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { EnvironmentOf, ReviewEnv } from '../src/config.ts';
import { physicalName, TABLES } from '../src/resources.ts';
import { EXPORT_PREFIX } from '../src/review/export.ts';
import { REVIEW_ROUTES } from '../src/review/routes.ts';
import { ROLES } from '../src/review/states.ts';
import { cursorSecret } from './cursor-secret.ts';
import { copyRules, fundGuardFunction, LAMBDA_RULES_DIR, PROJECT_ROOT } from './function.ts';
import { lambdaHttpApi } from './http-api.ts';

/** The review API queries every index of the flags table (src/review/plan.ts chooses among them). */
const FLAG_INDEXES = TABLES.flags.indexes.map((i) => i.indexName);

export interface ReviewApiProps {
  stage: string;
  tables: { flags: ITable; claims: ITable; scores: ITable };
  entry?: string;
  rulesDir?: string;
}

/**
 * The review API for auditors, hospitals and rule authors: an HTTP API whose routes
 * (src/review/routes.ts) all sit behind a JWT authorizer on a Cognito user pool. A user's role is
 * their group (`auditor`, `hospital`, `rule-author`, in `cognito:groups`); a hospital user carries
 * its hospital in the immutable, admin-set `custom:hospitalId`. Any other OIDC issuer with a role
 * claim works the same through HttpJwtAuthorizer (docs/review.md).
 */
export class ReviewApi extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly httpApi: HttpApi;
  readonly fn: NodejsFunction;
  /** CSV exports, written while the listing is paged and downloaded by presigned URL (src/review/export.ts). */
  readonly exports: Bucket;

  constructor(scope: Construct, id: string, props: ReviewApiProps) {
    super(scope, id);
    const rulesDir = props.rulesDir ?? join(PROJECT_ROOT, 'rules');

    this.userPool = new UserPool(this, 'Users', {
      userPoolName: physicalName(props.stage, 'reviewers'),
      // Accounts are made by the bureau's administrator, never by sign-up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      customAttributes: { hospitalId: new StringAttribute({ mutable: false, minLen: 1, maxLen: 64 }) },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const role of ROLES)
      new CfnUserPoolGroup(this, `${role}Group`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: `FundGuard ${role}`,
      });
    // The client may read custom:hospitalId but never write it: a user cannot move to another hospital.
    this.client = this.userPool.addClient('Console', {
      authFlows: { userSrp: true },
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true })
        .withCustomAttributes('hospitalId'),
      writeAttributes: new ClientAttributes().withStandardAttributes({ email: true }),
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      preventUserExistenceErrors: true,
    });

    this.exports = new Bucket(this, 'ExportsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // An export is downloaded within minutes of its request; what is left, and uploads a failure
      // left open, go after a day.
      lifecycleRules: [
        {
          prefix: EXPORT_PREFIX,
          expiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.exports).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only exports that expire after a day; who exported what is in the API access log (route, user, time).',
    });

    const cursors = cursorSecret(this, 'Review');
    this.fn = fundGuardFunction(this, 'Review', {
      description: 'Review API (审核): flags, decisions, appeals, exports, scores',
      roleDescription: 'Review API: reads flags, claims and scores, records review transitions',
      entry: props.entry ?? join(PROJECT_ROOT, 'functions', 'review.ts'),
      memorySize: 1024,
      // Bulk decisions read up to a few hundred items, an export pages the listing into S3; API
      // Gateway waits 30 s at most (an export of ~10^5 flags fits; larger ones want a period).
      timeout: Duration.seconds(25),
      environment: {
        FLAGS_TABLE: props.tables.flags.tableName,
        CLAIMS_TABLE: props.tables.claims.tableName,
        SCORES_TABLE: props.tables.scores.tableName,
        CURSOR_SECRET: cursors.value,
        EXPORT_BUCKET: this.exports.bucketName,
        FUNDGUARD_RULES_DIR: LAMBDA_RULES_DIR,
      } satisfies EnvironmentOf<typeof ReviewEnv>,
      afterBundling: copyRules(rulesDir),
    });
    this.#grant(props.tables);

    const authorizer = new HttpUserPoolAuthorizer('ReviewAuthorizer', this.userPool, {
      userPoolClients: [this.client],
      authorizerName: 'reviewers',
    });
    // Who read or decided what: kept a year, as the trail of a supervision audit.
    const { httpApi, stage } = lambdaHttpApi(this, {
      stage: props.stage,
      name: 'review-api',
      description: 'FundGuard review API for auditors, hospitals and rule authors',
      throttle: { rateLimit: 100, burstLimit: 200 },
      fn: this.fn,
      integrationId: 'Integration',
      authorizer,
      routes: REVIEW_ROUTES,
      logFields: {
        path: '$context.path',
        status: AccessLogField.contextStatus(),
        latencyMs: AccessLogField.contextResponseLatency(),
        user: '$context.authorizer.claims.sub',
        groups: '$context.authorizer.claims.cognito:groups',
        authorizerError: '$context.authorizer.error',
      },
    });
    this.httpApi = httpApi;

    new CfnOutput(this, 'Url', { description: 'Base URL of the review API', value: stage.url });
    new CfnOutput(this, 'UserPoolId', {
      description: 'Cognito user pool of reviewers',
      value: this.userPool.userPoolId,
    });
  }

  /** Exactly what the review API does: flags by key and by its indexes, claims of a patient, scores. */
  #grant(tables: ReviewApiProps['tables']): void {
    const grant = (actions: string[], resourceArns: string[]) =>
      Grant.addToPrincipal({ grantee: this.fn, actions, resourceArns });
    // BatchGetItem: the live counts read their counter items (src/review/counts.ts).
    grant(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], [tables.flags.tableArn]);
    grant(
      ['dynamodb:Query'],
      FLAG_INDEXES.map((i) => `${tables.flags.tableArn}/index/${i}`),
    );
    grant(['dynamodb:Query'], [tables.claims.tableArn]);
    grant(['dynamodb:Query'], [tables.scores.tableArn, `${tables.scores.tableArn}/index/byPeriod`]);
    // Put and multipart-upload exports; GetObject is what the presigned download URL is signed with.
    grant(
      ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
      [this.exports.arnForObjects(`${EXPORT_PREFIX}*`)],
    );
    const stack = Stack.of(this);
    const bucket = stack.getLogicalId(this.exports.node.defaultChild as CfnElement);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/${EXPORT_PREFIX}*]`,
      reason:
        'Each export gets a key of its own at run time (exports/<day>/<uuid>.csv): access is limited to that prefix.',
    });
  }
}
