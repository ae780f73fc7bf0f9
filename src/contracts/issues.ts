import type { z } from 'zod';

/** `['items', 2, 'quantity']` → `items[2].quantity`, the way a claim's author reads it. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

const nonFinite = (value: unknown): boolean => typeof value === 'number' && !Number.isFinite(value);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  // JSON has no Infinity: 1e309 parses to it. Saying "got number" to "expected number" helps no one.
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN, not a number';
  if (typeof value === 'number' && !Number.isFinite(value))
    return `${value > 0 ? '' : '-'}Infinity, a number out of range (beyond ±1.8e308, such as 1e309)`;
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** One readable line per zod issue, naming the path and the reason. */
export function describeIssue(issue: z.core.$ZodIssue, input?: unknown): string {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const got =
        issue.input === undefined && !hasPath(input, issue.path)
          ? 'nothing (missing)'
          : typeName(issue.input);
      return got === 'nothing (missing)'
        ? `${path}: required ${issue.expected} is missing`
        : `${path}: expected ${nonFinite(issue.input) ? 'a finite number' : issue.expected}, got ${got}`;
    }
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown field`).join('; ');
    case 'invalid_value':
      return `${path}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(issue.input)}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

function hasPath(input: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return false;
    if (!Object.hasOwn(cur as object, key)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return true;
}

/** Thrown when input does not match a contract; `problems` lists one line per invalid path. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(
    readonly contract: string,
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`invalid ${contract}: ${problems.join('; ')}`, options);
  }
}

/** Parse `input` with `schema` or throw a ContractError whose problems name each path. */
export function parseContract<S extends z.ZodType>(schema: S, contract: string, input: unknown): z.infer<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new ContractError(
    contract,
    result.error.issues.map((i) => describeIssue(i, input)),
    { cause: result.error },
  );
}

/** Parse JSON text (a stored attribute, a queue message) as a contract; malformed JSON is a ContractError too. */
export function parseJsonContract<S extends z.ZodType>(
  schema: S,
  contract: string,
  text: string,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ContractError(contract, [`(root): not JSON (${(error as Error).message})`], { cause: error });
  }
  return parseContract(schema, contract, json);
}
