import { z } from 'zod';
import { MIN_CURSOR_SECRET_CHARS } from './api/cursor.ts';
import { describeIssue } from './contracts/issues.ts';

/**
 * Every environment variable a FundGuard function reads, one schema per function. The CDK stack
 * sets exactly these names (its `environment` objects are typed by them), the local stack sets the
 * same ones, and {@link parseEnvironment} is the one parser.
 */

/** Configuration error at cold start: names each missing or invalid variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const name = z.string().min(1);

/** Where the rule files and catalogues are (Lambda bundles copy them beside the code); unset, the project's `rules/`. */
export const RulesEnv = z.object({ FUNDGUARD_RULES_DIR: name.optional() });

/**
 * Published rule sets: the versions table, and how many seconds a check of its active pointer is
 * trusted (a published version decides claims within this time, no redeploy).
 */
export const PublishedRulesEnv = z.object({
  RULE_SETS_TABLE: name,
  RULE_SET_CHECK_SECONDS: z.coerce.number().positive().default(30),
});

/** The in-process function: its tables, the hospital alerts queue and the rules. */
export const InProcessEnv = z.object({
  CLAIMS_TABLE: name,
  DECISIONS_TABLE: name,
  FLAGS_TABLE: name,
  SCORES_TABLE: name,
  IDEMPOTENCY_TABLE: name,
  ALERTS_QUEUE_URL: z.url(),
  ...RulesEnv.shape,
  ...PublishedRulesEnv.shape,
});

/**
 * The HMAC key of the listings' cursors (src/api/cursor.ts): on AWS a generated Secrets Manager
 * secret the stack resolves at deploy time, locally `.fundguard/cursor-secret`.
 */
const cursorSecret = z
  .string()
  .min(MIN_CURSOR_SECRET_CHARS, `expected a secret of at least ${MIN_CURSOR_SECRET_CHARS} characters`);

/**
 * The pre-event API function: patients' history (claims), hospitals' alerts (flags, each shown only
 * once its claim's decision lists it), the rules, the cursor key.
 */
export const ApiEnv = z.object({
  CLAIMS_TABLE: name,
  DECISIONS_TABLE: name,
  FLAGS_TABLE: name,
  CURSOR_SECRET: cursorSecret,
  ...RulesEnv.shape,
  ...PublishedRulesEnv.shape,
});

/** The authorizer: the hashed keys file bundled with it (`{ "keys": [{ keyId, hospitalId, sha256 }] }`). */
export const AuthorizerEnv = z.object({ FUNDGUARD_API_KEYS_FILE: name });

/** The post-event audit function: claims to scan, flags and scores to write, the bucket of partials, the rules. */
export const AuditEnv = z.object({
  CLAIMS_TABLE: name,
  DECISIONS_TABLE: name,
  FLAGS_TABLE: name,
  SCORES_TABLE: name,
  AUDIT_BUCKET: name,
  ...RulesEnv.shape,
});

/** The review API function: flags (read and review), claims (a flag's claim), scores, and the rules. */
export const ReviewEnv = z.object({
  FLAGS_TABLE: name,
  CLAIMS_TABLE: name,
  SCORES_TABLE: name,
  /** Where CSV exports are written and downloaded from (presigned), emptied after a day. */
  EXPORT_BUCKET: name,
  CURSOR_SECRET: cursorSecret,
  ...RulesEnv.shape,
});

export type InProcessConfig = z.infer<typeof InProcessEnv>;
export type ApiConfig = z.infer<typeof ApiEnv>;
export type AuthorizerConfig = z.infer<typeof AuthorizerEnv>;

/**
 * The variables a deployment sets for a function's schema: every one of its names, optional ones
 * included, and no other (an object literal with a misspelt name fails the type check).
 */
export type EnvironmentOf<S extends z.ZodObject> = { [K in keyof z.input<S>]-?: string };

/** Parse `env` with a function's schema, once, at cold start; a missing variable fails with its name. */
export function parseEnvironment<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      `configuration: ${parsed.error.issues.map((i) => describeIssue(i, env)).join('; ')}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** The rules directory the environment names, or undefined for the project's own `rules/`. */
export const rulesDirFromEnvironment = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  parseEnvironment(RulesEnv, env).FUNDGUARD_RULES_DIR;
