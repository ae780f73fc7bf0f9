import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { ApiIdentity, Keyring } from './keys.ts';
import { PROBLEM_TYPES, ProblemError, problem } from './problem.ts';

/** The header a hospital's system sends its key in. */
export const API_KEY_HEADER = 'x-api-key';

/** What the Lambda authorizer hands the API function in `requestContext.authorizer.lambda`. */
export interface AuthorizerContext {
  hospitalId: string;
  keyId: string;
}

/**
 * Who is calling, or a 401 problem. In AWS the Lambda authorizer has already checked the key and
 * the identity is in the request context; locally and in tests the handler checks the key itself.
 * Either way the key is checked by `Keyring.verify` and access by `authorizeHospital`.
 */
export type Authenticate = (event: APIGatewayProxyEventV2) => ApiIdentity;

const challenge = { 'www-authenticate': `ApiKey header="${API_KEY_HEADER}"` };

function unauthenticated(detail: string): ProblemError {
  return new ProblemError(problem(PROBLEM_TYPES.unauthenticated, 401, 'Unauthorized', detail), challenge);
}

/** Authentication by the `x-api-key` header against a keyring (the local stack, tests). */
export function byApiKey(keyring: Keyring): Authenticate {
  return (event) => {
    const key = event.headers?.[API_KEY_HEADER];
    if (!key) throw unauthenticated(`send your hospital's API key in the ${API_KEY_HEADER} header`);
    const identity = keyring.verify(key);
    if (!identity) throw unauthenticated('the API key is not valid');
    return identity;
  };
}

/** Authentication already done by the Lambda authorizer (AWS): its context names the hospital. */
export function byAuthorizerContext(): Authenticate {
  return (event) => {
    const context = (event.requestContext as { authorizer?: { lambda?: Partial<Record<string, unknown>> } })
      .authorizer?.lambda;
    const hospitalId = context?.hospitalId;
    const keyId = context?.keyId;
    // Every route is behind the authorizer; a request without its context is a misconfigured route.
    if (typeof hospitalId !== 'string' || !hospitalId || typeof keyId !== 'string')
      throw unauthenticated('the request carries no authorizer identity');
    return { hospitalId, keyId };
  };
}

/**
 * The one authorization rule: a hospital reaches only its own claims and alerts. The answer is the
 * same whether or not the other hospital exists, so it reveals nothing about other hospitals.
 */
export function authorizeHospital(identity: ApiIdentity, hospitalId: string): void {
  if (identity.hospitalId === hospitalId) return;
  throw new ProblemError(
    problem(
      PROBLEM_TYPES.forbidden,
      403,
      'Forbidden',
      "this API key may only screen its own hospital's claims and read its own hospital's alerts",
    ),
  );
}

/** An HTTP API simple response; the context reaches the API function as `requestContext.authorizer.lambda`. */
export type AuthorizerDecision =
  | { isAuthorized: true; context: AuthorizerContext }
  | { isAuthorized: false; context: Record<string, never> };

/** The Lambda authorizer's decision, from the same keyring check the local stack makes. */
export function authorizeRequest(
  keyring: Keyring,
  event: Pick<APIGatewayRequestAuthorizerEventV2, 'headers'>,
): AuthorizerDecision {
  const identity = keyring.verify(event.headers?.[API_KEY_HEADER]);
  return identity
    ? { isAuthorized: true, context: { hospitalId: identity.hospitalId, keyId: identity.keyId } }
    : { isAuthorized: false, context: {} };
}
