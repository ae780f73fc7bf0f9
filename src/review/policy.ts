import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssue } from '../contracts/issues.ts';
import { defaultRulesDir } from '../rules/load.ts';
import { ACTIVE_STATUSES, type ActiveStatus } from './states.ts';

const Step = z.strictObject({
  label: z.string().min(1),
  /** Calendar days the step may take, counted from the moment the flag entered it. */
  limitDays: z.number().int().positive().max(365),
  /** Who has to act before the limit: auditors, or the hospital (its appeal window). */
  owner: z.enum(['auditor', 'hospital']),
});

export const ReviewPolicy = z.strictObject({
  $comment: z.string().optional(),
  version: z.number().int().positive(),
  source: z.string().min(1),
  steps: z.strictObject(
    Object.fromEntries(ACTIVE_STATUSES.map((s) => [s, Step])) as Record<ActiveStatus, typeof Step>,
  ),
});
export type ReviewPolicy = z.infer<typeof ReviewPolicy>;

/** Base of the review module's configuration errors. */
export class ReviewPolicyError extends Error {
  override readonly name = 'ReviewPolicyError';
}

/** The review policy of a rules directory (`rules/policy/review.json`); an invalid file throws with its paths. */
export function loadReviewPolicy(rulesDir: string = defaultRulesDir()): ReviewPolicy {
  const file = join(rulesDir, 'policy', 'review.json');
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const parsed = ReviewPolicy.safeParse(raw);
  if (!parsed.success)
    throw new ReviewPolicyError(
      `${file}: ${parsed.error.issues.map((i) => describeIssue(i, raw)).join('; ')}`,
    );
  return parsed.data;
}

const DAY_MS = 86_400_000;

/** When the step a flag entered at `since` runs out. */
export const dueAt = (policy: ReviewPolicy, status: ActiveStatus, since: string): string =>
  new Date(Date.parse(since) + policy.steps[status].limitDays * DAY_MS).toISOString();

/** The instant before which a flag that entered `status` is past its limit now. */
export const overdueBefore = (policy: ReviewPolicy, status: ActiveStatus, now: Date): string =>
  new Date(now.getTime() - policy.steps[status].limitDays * DAY_MS).toISOString();
