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

/** What went wrong reading a JSON file: it could not be read, was not JSON, or failed its schema (first problems). */
export type JsonFileProblem =
  | { step: 'read'; cause: unknown }
  | { step: 'json'; cause: SyntaxError }
  | { step: 'schema'; problems: string[]; cause: z.ZodError };

/**
 * `file` read and parsed by `schema`, for the catalogue's reader and the importer alike; on failure
 * the error `fail` makes of the problem is thrown, so each names the file in its own words.
 */
export function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  fail: (problem: JsonFileProblem) => Error,
): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw fail({ step: 'read', cause });
  }
  return parseJsonText(text, schema, fail);
}

/** The text of a JSON file (read from disk, or from a published rule set) parsed by `schema`, failing as {@link readJsonFile}. */
export function parseJsonText<S extends z.ZodType>(
  text: string,
  schema: S,
  fail: (problem: JsonFileProblem) => Error,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw fail({ step: 'json', cause: cause as SyntaxError });
  }
  const result = schema.safeParse(json, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, json));
    throw fail({ step: 'schema', problems, cause: result.error });
  }
  return result.data;
}

/** Which kind of file a catalogue JSON file should be, as errors name it. */
export type CatalogueFileKind = 'catalogue' | 'reference';

/** The CatalogueLoadError naming `file` for a problem reading it as a `what` file. */
const catalogueLoadError = (file: string, what: CatalogueFileKind) => (problem: JsonFileProblem) =>
  problem.step === 'schema'
    ? new CatalogueLoadError(file, `is not a valid ${what} file: ${problem.problems.join('; ')}`, {
        cause: problem.cause,
      })
    : new CatalogueLoadError(file, `cannot be read as JSON (${(problem.cause as Error).message})`, {
        cause: problem.cause,
      });

/**
 * A JSON file of `rules/catalogue` or `rules/reference` parsed by `schema`; a CatalogueLoadError
 * naming the file and its first problems otherwise. `what` says which kind of file it should be.
 */
export function readCatalogueJson<S extends z.ZodType>(
  file: string,
  schema: S,
  what: CatalogueFileKind,
): z.infer<S> {
  return readJsonFile(file, schema, catalogueLoadError(file, what));
}

/** The text of a catalogue or reference file (from disk, or from a published rule set) parsed as {@link readCatalogueJson} does. */
export function parseCatalogueJson<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  what: CatalogueFileKind,
): z.infer<S> {
  return parseJsonText(text, schema, catalogueLoadError(file, what));
}
