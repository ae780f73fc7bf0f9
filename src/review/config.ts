import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { describeIssue } from '../contracts/issues.ts';

const ReviewEnv = z.object({
  CLAIMS_TABLE: z.string().min(1),
  FLAGS_TABLE: z.string().min(1),
  SCORES_TABLE: z.string().min(1),
});
export type ReviewConfig = z.infer<typeof ReviewEnv>;

/** The review function's environment, parsed once at cold start; a missing variable fails with its name. */
export function loadReviewConfig(env: NodeJS.ProcessEnv = process.env): ReviewConfig {
  const parsed = ReviewEnv.safeParse(env, { reportInput: true });
  if (!parsed.success)
    throw new ConfigError(
      `configuration: ${parsed.error.issues.map((i) => describeIssue(i, env)).join('; ')}`,
    );
  return parsed.data;
}
