import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Claim } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { ContractError, parseContract } from '../contracts/issues.ts';
import type { Aggregates } from './aggregates.ts';
import { byPatient, mapPatients } from './audit.ts';
import type { AuditContext } from './map.ts';

/** A line the audit could not read: its line number in the input and why. */
export interface BadLine {
  lineNo: number;
  reason: string;
}

export interface PartitionResult {
  flags: Flag[];
  aggregates: Aggregates;
  bad: BadLine[];
}

/** Parse `lineNo\tjson` lines into claims, reporting each bad one by its line in the input. */
export function parseLines(lines: Iterable<string>, bad: BadLine[]): Claim[] {
  const claims: Claim[] = [];
  for (const line of lines) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    const lineNo = Number(line.slice(0, tab));
    let value: unknown;
    try {
      value = JSON.parse(line.slice(tab + 1));
    } catch (error) {
      bad.push({ lineNo, reason: `not valid JSON (${(error as Error).message})` });
      continue;
    }
    try {
      claims.push(parseContract(Claim, 'claim', value));
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      bad.push({ lineNo, reason: error.problems.join('; ') });
    }
  }
  return claims;
}

/** The map over one spill file: every patient of it lies in it whole. */
export async function auditPartitionFile(path: string, ctx: AuditContext): Promise<PartitionResult> {
  const bad: BadLine[] = [];
  // Line by line: the file's text is never held whole next to its parsed claims.
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const claims: Claim[] = [];
  for await (const line of lines) claims.push(...parseLines([line], bad));
  const { flags, aggregates } = await mapPatients(byPatient(claims), ctx);
  return { flags, aggregates, bad };
}
