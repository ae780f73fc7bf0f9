import type { z } from 'zod';
import { ContractError, parseContract } from '../contracts/issues.ts';
import { readNdjson } from '../ndjson.ts';
import { UsageError } from './usage.ts';

/**
 * The valid claims of an NDJSON file, in file order. Each malformed line is handed to `malformed`
 * as `FILE:LINE: path: reason` and skipped, so the rest of the file is still read.
 */
export async function* readClaims<S extends z.ZodType>(
  input: string,
  schema: S,
  malformed: (problem: string) => void,
): AsyncGenerator<z.infer<S>> {
  try {
    for await (const line of readNdjson(input)) {
      if (line.error !== undefined) {
        malformed(`${input}:${line.lineNo}: ${line.error}`);
        continue;
      }
      try {
        yield parseContract(schema, 'claim', line.value);
      } catch (error) {
        if (!(error instanceof ContractError)) throw error;
        malformed(`${input}:${line.lineNo}: ${error.problems.join('; ')}`);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`cannot read ${input}: no such file`);
    throw error;
  }
}
