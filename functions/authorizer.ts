import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { type AuthorizerDecision, authorizeRequest } from '../src/api/identity.ts';
import { loadKeyring } from '../src/api/keys.ts';
import { AuthorizerEnv, parseEnvironment } from '../src/config.ts';
import { logger } from './commons/observability.ts';

// The hashed keys bundled with the function, read once per container; a bad file fails the cold start.
const keyring = loadKeyring(parseEnvironment(AuthorizerEnv).FUNDGUARD_API_KEYS_FILE);
logger.info('keyring loaded', { keys: keyring.size });

/**
 * The HTTP API's Lambda authorizer (simple responses): the `x-api-key` header against the hashed
 * keys, the same check the local stack makes. Its context names the hospital for the API function.
 */
async function authorize(event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerDecision> {
  const decision = authorizeRequest(keyring, event);
  // The key id, never the key: enough to tell which hospital system is calling or failing.
  if (decision.isAuthorized) logger.debug('authorized', { keyId: decision.context.keyId });
  else logger.info('refused an API key', { routeArn: event.routeArn });
  return decision;
}

export const handler = middy(authorize).use(injectLambdaContext(logger));
