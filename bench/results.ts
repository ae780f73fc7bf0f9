import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseJsonContract } from '../src/contracts/issues.ts';

/** latest.json: one section per benchmark, each its own shape. */
const Results = z.record(z.string(), z.unknown());

export const RESULTS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

/** Each benchmark owns one section of latest.json; the others are kept as they were. */
export function writeSection(section: string, value: unknown): void {
  const current = existsSync(RESULTS_PATH)
    ? parseJsonContract(Results, RESULTS_PATH, readFileSync(RESULTS_PATH, 'utf8'))
    : {};
  current[section] = value;
  mkdirSync(dirname(RESULTS_PATH), { recursive: true });
  writeFileSync(RESULTS_PATH, `${JSON.stringify(current, null, 2)}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));
