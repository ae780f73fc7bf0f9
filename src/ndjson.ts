import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface NdjsonLine {
  lineNo: number;
  /** The parsed value, or undefined when the line is not JSON (see `error`). */
  value?: unknown;
  error?: string;
}

/** Stream an NDJSON file line by line; blank lines are skipped, bad JSON is reported, not thrown. */
export async function* readNdjson(path: string): AsyncGenerator<NdjsonLine> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNo = 0;
  for await (const text of lines) {
    lineNo += 1;
    if (!text.trim()) continue;
    try {
      yield { lineNo, value: JSON.parse(text) };
    } catch (error) {
      yield { lineNo, error: `not valid JSON (${(error as Error).message})` };
    }
  }
}
