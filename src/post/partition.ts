import { Claim, ClaimOfBoundedJson, claimJsonWithinLimit } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { ContractError, parseContract } from '../contracts/issues.ts';
import type { Aggregates } from './aggregates.ts';
import { byPatient, mapPatients } from './audit.ts';
import { forEachLine } from './lines.ts';
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

/** Parse one line's JSON bytes into a claim, or report the line by its number in the input. */
export function parseClaimLine(
  buf: Buffer,
  start: number,
  end: number,
  lineNo: number,
  claims: Claim[],
  bad: BadLine[],
): void {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', start, end));
  } catch (error) {
    bad.push({ lineNo, reason: `not valid JSON (${(error as Error).message})` });
    return;
  }
  try {
    // A short line cannot hold a claim over the size limit: the limit's check would serialise it again.
    claims.push(
      parseContract(claimJsonWithinLimit(end - start) ? ClaimOfBoundedJson : Claim, 'claim', value),
    );
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    bad.push({ lineNo, reason: error.problems.join('; ') });
  }
}

const TAB = 0x09;

/** Claims of a spill file, whose lines are `lineNo\tjson` (the line number in the input). */
export function readSpillFile(path: string, bad: BadLine[]): Claim[] {
  const claims: Claim[] = [];
  forEachLine(path, (buf, start, end) => {
    let lineNo = 0;
    let i = start;
    for (; i < end && buf[i] !== TAB; i++) lineNo = lineNo * 10 + ((buf[i] as number) - 0x30);
    parseClaimLine(buf, i + 1, end, lineNo, claims, bad);
  });
  return claims;
}

/** The map over one spill file: every patient of it lies in it whole. */
export async function auditPartitionFile(path: string, ctx: AuditContext): Promise<PartitionResult> {
  const bad: BadLine[] = [];
  const { flags, aggregates } = await mapPatients(byPatient(readSpillFile(path, bad)), ctx);
  return { flags, aggregates, bad };
}
