import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_REGION } from './emulators.ts';
import { LocalServiceError } from './errors.ts';

/** The Lambda context a local invocation gets: a name, a request id and a deadline. */
export function lambdaContext(functionName: string, timeoutMs: number, account = '000000000000'): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new LocalServiceError('the callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${account}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
