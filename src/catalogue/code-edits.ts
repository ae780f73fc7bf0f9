import { join } from 'node:path';
import { z } from 'zod';
import { SEXES } from '../contracts/claim.ts';
import { readCatalogueJson } from './read.ts';

export const DIAGNOSIS_EDITS_FILE = 'diagnosis-edits.json';
export const PROCEDURE_EDITS_FILE = 'procedure-edits.json';

/**
 * One published statement that codes fit only one sex or one age band: a code range (from..to,
 * compared on as many leading characters as `from` has) or a prefix, with the grade the source
 * supports and, for a suspicious one, the source's words that leave doubt.
 */
const Entry = z
  .strictObject({
    from: z.string().min(2).optional(),
    to: z.string().min(2).optional(),
    prefix: z.string().min(2).optional(),
    edit: z.enum(['sex', 'age']),
    sex: z.enum(SEXES).optional(),
    minAgeYears: z.number().int().min(0).optional(),
    maxAgeYears: z.number().int().min(0).optional(),
    result: z.enum(['violation', 'suspicious']),
    doubt: z.string().min(1).optional(),
    name: z.string().min(1),
    source: z.string().min(1),
  })
  .refine((e) => (e.prefix === undefined) === (e.from !== undefined && e.to !== undefined), {
    message: 'give either prefix, or from and to',
  })
  .refine((e) => e.from === undefined || e.from.length === e.to?.length, {
    message: 'from and to must have the same length',
  })
  .refine((e) => (e.edit === 'sex') === (e.sex !== undefined), { message: 'a sex edit names its sex' })
  .refine((e) => e.edit === 'sex' || (e.minAgeYears !== undefined && e.maxAgeYears !== undefined), {
    message: 'an age edit gives minAgeYears and maxAgeYears',
  })
  .refine((e) => (e.result === 'suspicious') === (e.doubt !== undefined), {
    message: 'a suspicious entry says why (doubt), a violation entry has no doubt',
  });
export type CodeEdit = z.infer<typeof Entry>;

export const CodeEditFile = z.strictObject({ $comment: z.string(), entries: z.array(Entry).min(1) });

/** Which sex and age edits a code (ICD-10 diagnosis or ICD-9-CM-3 procedure) falls under. */
export class CodeEdits {
  readonly #cache = new Map<string, readonly CodeEdit[]>();

  constructor(readonly entries: readonly CodeEdit[]) {}

  /**
   * At most one edit of each kind (sex, age) for `code`: the longest matching key wins, so a
   * prefix entry (64.5, sex transformation) refines the range around it (60–64).
   */
  of(raw: string): readonly CodeEdit[] {
    const code = raw.trim().toUpperCase();
    let found = this.#cache.get(code);
    if (found) return found;
    const best = new Map<string, { entry: CodeEdit; length: number }>();
    for (const entry of this.entries) {
      const length = matchLength(entry, code);
      if (length === 0) continue;
      const current = best.get(entry.edit);
      if (!current || length > current.length) best.set(entry.edit, { entry, length });
    }
    found = [...best.values()].map((b) => b.entry);
    // Codes repeat across claims; the map stays as small as the codes actually billed.
    if (this.#cache.size < 100_000) this.#cache.set(code, found);
    return found;
  }
}

function matchLength(entry: CodeEdit, code: string): number {
  if (entry.prefix !== undefined) return code.startsWith(entry.prefix) ? entry.prefix.length : 0;
  const from = entry.from ?? '';
  const head = code.slice(0, from.length);
  return head.length === from.length && head >= from && head <= (entry.to ?? '') ? from.length : 0;
}

/**
 * Read a code-edit file (`diagnosis-edits.json`, `procedure-edits.json`) from `dir`.
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadCodeEdits(dir: string, name: string): CodeEdits {
  return new CodeEdits(readCatalogueJson(join(dir, name), CodeEditFile, 'reference').entries);
}
