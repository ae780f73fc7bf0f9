import type { z } from 'zod';
import { describeIssue, formatPath } from '../contracts/issues.ts';
import { ApiError } from './errors.ts';

/** One invalid path of a request, as the caller reads it (`items[2].quantity`). */
export interface ProblemFieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem body: every 4xx and 5xx answer of the API carries one. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Each invalid path of the request, where the problem is bad input. */
  errors?: ProblemFieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are URNs: stable identifiers a hospital's system can match on, listed in docs/api.md. */
const problemType = (slug: string): string => `urn:fundguard:problem:${slug}`;

export const PROBLEM_TYPES = {
  invalidJson: problemType('invalid-json'),
  invalidClaim: problemType('invalid-claim'),
  invalidQuery: problemType('invalid-query'),
  invalidCursor: problemType('invalid-cursor'),
  unsupportedMediaType: problemType('unsupported-media-type'),
  payloadTooLarge: problemType('payload-too-large'),
  unauthenticated: problemType('unauthenticated'),
  forbidden: problemType('forbidden'),
  notFound: problemType('not-found'),
  methodNotAllowed: problemType('method-not-allowed'),
  timeout: problemType('timeout'),
  screenBudget: problemType('screen-budget'),
  internal: problemType('internal'),
} as const;

/** A problem body never grows past this many field errors, however broken the request. */
export const MAX_FIELD_ERRORS = 50;

/** A 4xx or 5xx answer with its problem body. */
export class ProblemError extends ApiError {
  override readonly name: string = 'ProblemError';
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`, options);
  }
}

/** Build a problem; `errors` is capped at MAX_FIELD_ERRORS and the detail says how many were left out. */
export function problem(
  type: string,
  status: number,
  title: string,
  detail: string,
  errors?: readonly ProblemFieldError[],
): Problem {
  if (!errors) return { type, title, status, detail };
  const shown = errors.slice(0, MAX_FIELD_ERRORS);
  const more = errors.length - shown.length;
  return {
    type,
    title,
    status,
    detail: more > 0 ? `${detail} (the first ${shown.length} of ${errors.length} are listed)` : detail,
    errors: shown,
  };
}

/** Paths and messages echo the caller's input; a field error never grows past this. */
const MAX_TEXT = 200;

const clip = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

/** A short, safe rendering of a value: never the whole of a large or deeply nested input. */
function preview(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * One entry per invalid path of a zod result. An unknown-keys issue names each key on its own, so
 * the caller sees every path it has to fix. Input is echoed only in clipped form: the answer to a
 * 256 KiB string must not be a 256 KiB message.
 */
export function fieldErrors(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        errors.push({ path: clip(formatPath([...path, key])), message: 'unknown field' });
      continue;
    }
    let message: string;
    if (issue.code === 'invalid_value') {
      const expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      // JSON has no undefined: no input means the field is missing.
      message =
        issue.input === undefined
          ? `required, ${expected}, is missing`
          : `expected ${expected}, got ${preview(issue.input)}`;
    } else {
      const where = formatPath(issue.path);
      const line = describeIssue(issue, input);
      // describeIssue speaks for the CLI as `path: reason`; the path has its own member here.
      message = line.startsWith(`${where}: `) ? line.slice(where.length + 2) : line;
    }
    errors.push({ path: clip(formatPath(path)), message: clip(message) });
  }
  return errors;
}
