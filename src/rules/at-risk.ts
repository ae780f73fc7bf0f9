import type { AtRisk } from '../contracts/rule.ts';
import { readPath, splitPath } from './paths.ts';
import { type LineFact, round2, type Subject } from './subjects/kind.ts';

/** The lines a flag names and the amount it puts at risk. */
export interface Exposure {
  lineNos: number[];
  amountAtRisk: number;
}

type FactRef = { fact: string; path?: string | undefined };

/** A number given in the rule or read from a fact the conditions saw; undefined when the fact is no number. */
function numberOf(given: number | FactRef, facts: Record<string, unknown>): number | undefined {
  if (typeof given === 'number') return given;
  const value = readPath(facts[given.fact], splitPath(given.path));
  return typeof value === 'number' ? value : undefined;
}

/**
 * What a hit puts at risk, as the rule file's `atRisk` declares it over the subject's lines (see
 * `AtRisk`); the facts are those the conditions saw, so a limit read there is the limit judged.
 */
export function exposureOf(
  subject: Subject,
  atRisk: AtRisk | undefined,
  facts: Record<string, unknown>,
): Exposure {
  const all = subject.lines;
  if (!atRisk) return { lineNos: all.map((l) => l.lineNo), amountAtRisk: sum(all.map((l) => l.amount)) };
  let lines: readonly LineFact[] = all;
  if (atRisk.only) {
    const { path, equal } = atRisk.only;
    const keys = splitPath(path);
    lines = lines.filter((l) => readPath(l, keys) === equal);
  }
  if (atRisk.beyond) {
    const limit = numberOf(atRisk.beyond.limit, facts);
    const keys = splitPath(atRisk.beyond.path);
    lines = limit === undefined ? [] : lines.filter((l) => Number(readPath(l, keys) ?? Number.NaN) > limit);
  }
  let amounts = lines.map((l) => l.amount);
  if (atRisk.unitsBeyond) {
    const limit = numberOf(atRisk.unitsBeyond.limit, facts);
    const beyond: { line: LineFact; units: number }[] = [];
    let counted = 0;
    for (const line of lines) {
      const units =
        limit === undefined ? 0 : Math.min(line.quantity, Math.max(0, counted + line.quantity - limit));
      counted += line.quantity;
      if (units > 0) beyond.push({ line, units });
    }
    lines = beyond.map((b) => b.line);
    amounts = beyond.map((b) => b.units * b.line.unitPrice);
  }
  const named = atRisk.name === 'all' || !lines.length ? all : lines;
  // A fact that is no number (a draft's null totals) puts nothing at risk.
  const amount =
    atRisk.amount === undefined ? sum(amounts) : round2(Math.max(0, numberOf(atRisk.amount, facts) ?? 0));
  return { lineNos: named.map((l) => l.lineNo), amountAtRisk: amount };
}

const sum = (amounts: readonly number[]): number => round2(amounts.reduce((s, a) => s + a, 0));
