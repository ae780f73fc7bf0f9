import { z } from 'zod';
import { describeIssue } from './contracts/issues.ts';

/** Configuration error at cold start: names each missing or invalid variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const Env = z.object({
  CLAIMS_TABLE: z.string().min(1),
  DECISIONS_TABLE: z.string().min(1),
  FLAGS_TABLE: z.string().min(1),
  SCORES_TABLE: z.string().min(1),
  IDEMPOTENCY_TABLE: z.string().min(1),
  ALERTS_QUEUE_URL: z.string().url(),
});
export type Config = z.infer<typeof Env>;

/** Parse `process.env` once, at cold start; a missing variable fails with its name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      `configuration: ${parsed.error.issues.map((i) => describeIssue(i, env)).join('; ')}`,
    );
  }
  return parsed.data;
}
