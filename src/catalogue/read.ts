import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { describeIssue } from '../contracts/issues.ts';

/** A catalogue or reference file is missing, not JSON, or not valid. Names the file. */
export class CatalogueLoadError extends Error {
  override readonly name = 'CatalogueLoadError';
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** Which kind of file a catalogue JSON file should be, as errors name it. */
export type CatalogueFileKind = 'catalogue' | 'reference';

/**
 * A JSON file of `rules/catalogue` or `rules/reference` parsed by `schema`; a CatalogueLoadError
 * naming the file and its first problems otherwise. `what` says which kind of file it should be.
 */
export function readCatalogueJson<S extends z.ZodType>(
  file: string,
  schema: S,
  what: CatalogueFileKind,
): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogueLoadError(file, `cannot be read as JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseCatalogueJson(file, text, schema, what);
}

/**
 * The text of a catalogue or reference file (read from disk, or from a published rule set)
 * parsed by `schema`; a CatalogueLoadError naming `file` and its first problems otherwise.
 */
export function parseCatalogueJson<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  what: CatalogueFileKind,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CatalogueLoadError(file, `cannot be read as JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const result = schema.safeParse(json, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, json));
    throw new CatalogueLoadError(file, `is not a valid ${what} file: ${problems.join('; ')}`, {
      cause: result.error,
    });
  }
  return result.data;
}
