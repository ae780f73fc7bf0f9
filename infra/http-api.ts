import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { physicalName } from '../src/resources.ts';

export interface LambdaHttpApiProps {
  stage: string;
  /** The API's name within the stage (`pre-event-api`), and what it is for. */
  name: string;
  description: string;
  throttle: ThrottleSettings;
  /** The function every route integrates with, under this integration id. */
  fn: IFunction;
  integrationId: string;
  authorizer: IHttpRouteAuthorizer;
  /** The routes, from the handler's own route table, so the API and the handler cannot disagree. */
  routes: Readonly<Record<string, { path: string; method: keyof typeof HttpMethod }>>;
  /** Access log fields after the request id, time, caller and route key: who called, with what answer. */
  logFields: Record<string, string>;
}

/**
 * An HTTP API whose every route goes to one Lambda function behind one authorizer, on an
 * auto-deployed `$default` stage with throttling and a JSON access log kept a year (the trail of a
 * supervision audit). Built in `scope` itself, so both APIs keep their resources' ids.
 */
export function lambdaHttpApi(
  scope: Construct,
  props: LambdaHttpApiProps,
): { httpApi: HttpApi; stage: HttpStage; accessLogs: LogGroup } {
  const accessLogs = new LogGroup(scope, 'AccessLogs', {
    retention: RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const httpApi = new HttpApi(scope, 'HttpApi', {
    apiName: physicalName(props.stage, props.name),
    description: props.description,
    createDefaultStage: false,
  });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi,
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle,
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(
        JSON.stringify({
          requestId: AccessLogField.contextRequestId(),
          time: AccessLogField.contextRequestTime(),
          ip: AccessLogField.contextIdentitySourceIp(),
          routeKey: '$context.routeKey',
          ...props.logFields,
        }),
      ),
    },
  });
  const integration = new HttpLambdaIntegration(props.integrationId, props.fn);
  for (const route of Object.values(props.routes))
    httpApi.addRoutes({
      path: route.path,
      methods: [HttpMethod[route.method]],
      integration,
      authorizer: props.authorizer,
    });
  return { httpApi, stage, accessLogs };
}
