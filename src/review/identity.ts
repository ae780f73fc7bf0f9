/**
 * Who calls the review API. In AWS an HTTP API JWT authorizer has verified the token; the handler
 * reads the role from its claims (`cognito:groups`, or a `role` claim of another OIDC issuer) and a
 * hospital's id from `custom:hospitalId`. Locally, bearer tokens from a config file stand in for it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { type Reviewer, ROLES } from './states.ts';

/** The caller could not be identified: 401. */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

export type AuthenticateReviewer = (event: APIGatewayProxyEventV2) => Reviewer;

const TokenEntry = z.strictObject({
  token: z.string().min(20),
  role: z.enum(ROLES),
  actorId: z.string().min(1),
  hospitalId: z.string().min(1).optional(),
  name: z.string(),
});
export const TokensFile = z.strictObject({ note: z.string(), tokens: z.array(TokenEntry).min(1) });
export type TokensFile = z.infer<typeof TokensFile>;
export type TokenEntry = z.infer<typeof TokenEntry>;

function reviewerOf(entry: Pick<TokenEntry, 'role' | 'actorId' | 'hospitalId'>): Reviewer {
  if (entry.role === 'hospital') {
    if (!entry.hospitalId) throw new UnauthenticatedError('a hospital identity must name its hospital');
    return { role: 'hospital', actorId: entry.actorId, hospitalId: entry.hospitalId };
  }
  return { role: entry.role, actorId: entry.actorId };
}

const bearer = (event: APIGatewayProxyEventV2): string | undefined => {
  const header = event.headers?.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
};

/** Local authentication: `Authorization: Bearer <token>` against the tokens file. */
export function byLocalTokens(file: TokensFile): AuthenticateReviewer {
  const byToken = new Map(file.tokens.map((t) => [t.token, reviewerOf(t)]));
  return (event) => {
    const token = bearer(event);
    if (!token) throw new UnauthenticatedError('send your token as Authorization: Bearer <token>');
    const reviewer = byToken.get(token);
    if (!reviewer) throw new UnauthenticatedError('the token is not valid');
    return reviewer;
  };
}

/** The groups a JWT authorizer passes as `cognito:groups` (a string `[a b]` or an array). */
function groupsOf(claims: Record<string, unknown>): string[] {
  const raw = claims['cognito:groups'] ?? claims.role;
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === 'string')
    return raw
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .filter(Boolean);
  return [];
}

/** AWS: the claims the HTTP API's JWT authorizer verified. A token naming no known role is refused. */
export function byJwtClaims(): AuthenticateReviewer {
  return (event) => {
    const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
      .authorizer?.jwt?.claims;
    if (!claims || typeof claims.sub !== 'string')
      throw new UnauthenticatedError('the request carries no verified token');
    const groups = groupsOf(claims);
    // One role per person: the most limited group wins, so a misassigned extra group never widens access.
    const role = (['hospital', 'rule-author', 'auditor'] as const).find((r) => groups.includes(r));
    if (!role)
      throw new UnauthenticatedError('the token names no FundGuard role (auditor, hospital, rule-author)');
    const hospitalId = claims['custom:hospitalId'];
    return reviewerOf({
      role,
      actorId: String(claims['cognito:username'] ?? claims.sub),
      ...(typeof hospitalId === 'string' ? { hospitalId } : {}),
    });
  };
}

/**
 * The local tokens (`.fundguard/review-tokens.local.json`): two auditors (a second review needs a
 * second person), a rule author and one account per hospital, made on first use of a state
 * directory and reused after. Never deployed: AWS uses the JWT authorizer.
 */
export function ensureLocalTokens(
  stateDir: string,
  hospitalIds: readonly string[],
): TokensFile & { file: string } {
  const file = join(stateDir, 'review-tokens.local.json');
  if (existsSync(file)) {
    const parsed = TokensFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && hospitalIds.every((h) => parsed.data.tokens.some((t) => t.hospitalId === h)))
      return { ...parsed.data, file };
  }
  const token = (prefix: string) => `fgr_${prefix}_${randomBytes(18).toString('base64url')}`;
  const tokens: TokenEntry[] = [
    { token: token('a'), role: 'auditor', actorId: 'auditor-1', name: '审核员一 (auditor 1)' },
    { token: token('a'), role: 'auditor', actorId: 'auditor-2', name: '审核员二 (auditor 2)' },
    { token: token('r'), role: 'rule-author', actorId: 'rule-author-1', name: '规则维护员 (rule author)' },
    ...hospitalIds.map((hospitalId) => ({
      token: token('h'),
      role: 'hospital' as const,
      actorId: `${hospitalId}-staff`,
      hospitalId,
      name: `${hospitalId} 医保办 (hospital)`,
    })),
  ];
  const contents: TokensFile = {
    note: 'Local tokens of the FundGuard review API and console. Never deploy these: AWS uses a JWT authorizer.',
    tokens,
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
  return { ...contents, file };
}
