import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonProblems } from '../rules/load.ts';
import { PlannedCycles } from '../rules/subjects/planned-cycles.ts';

/**
 * The post-event stage's policy, each a JSON file in `rules/policy/` checked by a schema here —
 * planned-cycle exemptions and the score policy. (The service classes the statistical indicators
 * read are the catalogue's, from `rules/reference/service-classes.json`, the table the in-process
 * rules read.) A file that fails its schema stops the audit with the file and path.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(readonly problems: string[]) {
    super(`post-event policy is invalid:\n  ${problems.join('\n  ')}`);
  }
}

export const INDICATOR_CLASSES = ['labExam', 'treatment', 'ct', 'mri'] as const;
export type IndicatorClass = (typeof INDICATOR_CLASSES)[number];

export const SCORE_COMPONENTS = [
  'costIndex',
  'drugShare',
  'labExamShare',
  'consumableShare',
  'readmission31d',
  'violationRate',
  'highSeverityAmountShare',
  'chronicFollowUp',
] as const;
export type ScoreComponent = (typeof SCORE_COMPONENTS)[number];

const componentPolicy = z.strictObject({
  label: z.string().min(1),
  weight: z.number().min(0),
  /** What is scored: the value itself, or its ratio to the peer median. */
  measure: z.enum(['value', 'ratioToPeerMedian']),
  /** The measure scoring 100 and the one scoring 0; linear between, clamped outside. */
  best: z.number(),
  worst: z.number(),
});

export const ScorePolicy = z
  .strictObject({
    $comment: z.string().optional(),
    version: z.number().int().positive(),
    /** Peers below this many cases do not enter peer medians. */
    peerMinCases: z.number().int().positive(),
    /** A diagnosis group enters the case-mix expectation only where a peer median rests on this many cases. */
    groupMinCases: z.number().int().positive(),
    /** Days after discharge within which an unplanned admission counts as a readmission. */
    readmissionDays: z.number().int().positive(),
    /** ICD-10 categories of the chronic conditions whose follow-up is scored. */
    chronicCategories: z.array(z.string().regex(/^[A-Z]\d{2}$/)).min(1),
    chronicSource: z.string().min(1),
    components: z.strictObject(
      Object.fromEntries(SCORE_COMPONENTS.map((c) => [c, componentPolicy])) as Record<
        ScoreComponent,
        typeof componentPolicy
      >,
    ),
  })
  .superRefine((p, ctx) => {
    for (const [name, c] of Object.entries(p.components)) {
      if (c.best === c.worst)
        ctx.addIssue({ code: 'custom', path: ['components', name], message: 'best and worst must differ' });
    }
    if (!Object.values(p.components).some((c) => c.weight > 0))
      ctx.addIssue({ code: 'custom', path: ['components'], message: 'at least one weight must be positive' });
  });
export type ScorePolicy = z.infer<typeof ScorePolicy>;

export interface PostPolicy {
  plannedCycles: PlannedCycles;
  scores: ScorePolicy;
}

export const POLICY_FILES = {
  plannedCycles: 'planned-cycles.json',
  scores: 'score-policy.json',
} as const;

/**
 * Check the policy files of `rules/policy/` from their text by file name; `where` (the
 * directory, or a published version) prefixes file names in errors. All problems are reported at once.
 */
export function parsePostPolicy(texts: Readonly<Record<string, string>>, where: string): PostPolicy {
  const problems: string[] = [];
  const file = <T>(schema: z.ZodType<T>, name: string): T | undefined => {
    const text = texts[name];
    if (text !== undefined) return parseJsonProblems(join(where, name), text, schema, problems);
    problems.push(`${join(where, name)}: is missing`);
    return undefined;
  };
  const plannedCycles = file(PlannedCycles, POLICY_FILES.plannedCycles);
  const scores = file(ScorePolicy, POLICY_FILES.scores);
  if (!plannedCycles || !scores) throw new PolicyError(problems);
  return { plannedCycles, scores };
}
