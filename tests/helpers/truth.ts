import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseJsonContract } from '../../src/contracts/issues.ts';

/** What `fundguard generate` writes beside a stream (FILE.ndjson.truth.json): the injected violations. */
const TruthFile = z.looseObject({
  injected: z.array(z.looseObject({ claimId: z.string(), ruleId: z.string(), lineNos: z.array(z.number()) })),
});

export const readTruth = (path: string) =>
  parseJsonContract(TruthFile, 'ground truth', readFileSync(path, 'utf8')).injected;
