import { writeFileSync } from 'node:fs';
import type { Generated } from './generate.ts';

/** The claims as NDJSON at `path`, the options and ground truth beside them at `path.truth.json`. */
export function writeGenerated(path: string, generated: Generated): void {
  writeFileSync(
    path,
    generated.claims.map((c) => JSON.stringify(c)).join('\n') + (generated.claims.length ? '\n' : ''),
  );
  writeFileSync(
    `${path}.truth.json`,
    `${JSON.stringify({ options: generated.options, injected: generated.truth }, null, 2)}\n`,
  );
}
