import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { describeIssue } from '../contracts/issues.ts';

const ApiEnv = z.object({
  CLAIMS_TABLE: z.string().min(1),
  FLAGS_TABLE: z.string().min(1),
});
export type ApiConfig = z.infer<typeof ApiEnv>;

const AuthorizerEnv = z.object({
  /** The hashed keys file bundled with the authorizer (`{ "keys": [{ keyId, hospitalId, sha256 }] }`). */
  FUNDGUARD_API_KEYS_FILE: z.string().min(1),
});
export type AuthorizerConfig = z.infer<typeof AuthorizerEnv>;

function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      `configuration: ${parsed.error.issues.map((i) => describeIssue(i, env)).join('; ')}`,
    );
  }
  return parsed.data;
}

/** The API function's environment, parsed once at cold start; a missing variable fails with its name. */
export const loadApiConfig = (env: NodeJS.ProcessEnv = process.env): ApiConfig => parseEnv(ApiEnv, env);

/** The authorizer's environment, parsed once at cold start. */
export const loadAuthorizerConfig = (env: NodeJS.ProcessEnv = process.env): AuthorizerConfig =>
  parseEnv(AuthorizerEnv, env);
