import { parseArgs } from 'node:util';
import { recountFlags } from '../review/recount.ts';
import { documentClient } from '../stores/dynamo.ts';
import { commandTable } from './local-table.ts';
import { UsageError } from './usage.ts';

export const REVIEW_USAGE = `  review recount [--segments N]              rebuild the review counters from the flags table (flags written
                                              before the counters, or counters gone wrong); run while nothing
                                              writes flags; a second run changes nothing
      (the flags table: .fundguard/local.json from npm start, or FLAGS_TABLE and the SDK's AWS settings)`;

interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** `fundguard review recount`: the flags table from FLAGS_TABLE, else the local stack's `.fundguard/local.json`. */
export async function review(
  sub: string | undefined,
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  stateDir = '.fundguard',
): Promise<number> {
  if (sub !== 'recount') throw new UsageError(`review needs recount, got "${sub ?? ''}"`);
  const { values } = parseArgs({
    args,
    options: { segments: { type: 'string', default: '4' } },
    strict: true,
  });
  const segments = Number(values.segments);
  if (!Number.isInteger(segments) || segments < 1 || segments > 64)
    throw new UsageError(`--segments must be a whole number from 1 to 64, got "${values.segments}"`);
  const { client, table } = commandTable('flags', 'FLAGS_TABLE', 'flags table', env, stateDir);
  try {
    const started = performance.now();
    const result = await recountFlags(documentClient(client), table, segments);
    for (const scope of result.corrected) io.out(`corrected ${scope}`);
    io.err(
      `recounted ${result.flags} flags (${result.superseded} superseded, not counted) of ${table} in ${result.scopes} scopes: ${result.corrected.length} corrected, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return 0;
  } finally {
    client.destroy();
  }
}
