import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssue } from '../contracts/issues.ts';
import { CatalogueLoadError } from './index.ts';

export const DIAGNOSIS_GROUPS_FILE = 'diagnosis-groups.json';

/** Groups a rule may ask about; each is a fact the core derives from the claim's diagnoses. */
export const DIAGNOSIS_GROUP_IDS = ['indeterminateSex', 'maternity'] as const;
export type DiagnosisGroupId = (typeof DIAGNOSIS_GROUP_IDS)[number];

const category = z.string().regex(/^[A-Z]\d{2}$/, 'expected an ICD-10 category like Q56');
/** A category range (from..to) or a code prefix, with what it is and where it is published. */
const Entry = z
  .strictObject({
    from: category.optional(),
    to: category.optional(),
    prefix: z
      .string()
      .regex(/^[A-Z]\d{2}(\.\d+)?$/, 'expected an ICD-10 code like E34.5')
      .optional(),
    name: z.string().min(1),
    source: z.string().min(1),
  })
  .refine((e) => (e.prefix === undefined) === (e.from !== undefined && e.to !== undefined), {
    message: 'give either prefix, or from and to',
  });

/** `rules/reference/diagnosis-groups.json`: ICD-10 groups with the published source of every entry. */
export const DiagnosisGroupFile = z.strictObject({
  $comment: z.string(),
  groups: z.array(
    z.strictObject({
      id: z.enum(DIAGNOSIS_GROUP_IDS),
      title: z.string().min(1),
      why: z.string().min(1),
      entries: z.array(Entry).min(1),
    }),
  ),
});
export type DiagnosisGroupFile = z.infer<typeof DiagnosisGroupFile>;

/** Which reference groups a claim's diagnosis codes fall in. */
export class DiagnosisGroups {
  readonly #groups: { id: DiagnosisGroupId; matches: (code: string) => boolean }[];

  constructor(readonly file: DiagnosisGroupFile) {
    this.#groups = file.groups.map((group) => ({
      id: group.id,
      matches: (code: string) =>
        group.entries.some((e) =>
          e.prefix !== undefined
            ? code.startsWith(e.prefix)
            : code.slice(0, 3) >= (e.from ?? '') && code.slice(0, 3) <= (e.to ?? ''),
        ),
    }));
  }

  /** The groups any of `codes` falls in; codes are compared upper-case, as ICD-10 writes them. */
  of(codes: readonly string[]): Set<DiagnosisGroupId> {
    const found = new Set<DiagnosisGroupId>();
    for (const raw of codes) {
      const code = raw.trim().toUpperCase();
      for (const group of this.#groups) if (group.matches(code)) found.add(group.id);
    }
    return found;
  }
}

/**
 * Read `diagnosis-groups.json` from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadDiagnosisGroups(dir: string): DiagnosisGroups {
  const file = join(dir, DIAGNOSIS_GROUPS_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CatalogueLoadError(file, `cannot be read as JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const result = DiagnosisGroupFile.safeParse(json, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, json));
    throw new CatalogueLoadError(file, `is not a valid reference file: ${problems.join('; ')}`, {
      cause: result.error,
    });
  }
  return new DiagnosisGroups(result.data);
}
