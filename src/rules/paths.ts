/** `$.a.b` → ['a', 'b']. Rule files only use plain paths (the schema enforces it). */
export function splitPath(path: string | undefined): string[] {
  return path ? path.slice(2).split('.').filter(Boolean) : [];
}

export function readPath(value: unknown, keys: readonly string[]): unknown {
  let cur = value;
  for (const key of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * json-rules-engine's default resolver is JSONPath, which is slow and returns a lone match as a
 * scalar rather than an array (so `contains` silently fails). Plain property paths avoid both.
 */
export const plainPathResolver = (value: object, path: string): unknown => readPath(value, splitPath(path));
