import type { Flag } from '../contracts/flag.ts';
import type { InjectedViolation } from '../generator/claims.ts';
import type { LineAction } from '../rules/screen.ts';

/** Running totals of a screening run, printed as a table for the operator. */
export class ScreeningSummary {
  claims = 0;
  malformed = 0;
  readonly decisions: Record<LineAction, number> = { pass: 0, hold: 0, reject: 0 };
  /** By rule id: two rules may share an NHSA class (a claim's course and the cumulative one). */
  readonly #byRule = new Map<
    string,
    { ruleClass: string; flags: number; amount: number; violation: number }
  >();
  #started = performance.now();

  addClaim(
    outcome: LineAction,
    flags: readonly Pick<Flag, 'ruleId' | 'basis' | 'amountAtRisk' | 'result'>[],
  ): void {
    this.claims += 1;
    this.decisions[outcome] += 1;
    for (const flag of flags) {
      const row = this.#byRule.get(flag.ruleId) ?? {
        ruleClass: flag.basis.ruleClass,
        flags: 0,
        amount: 0,
        violation: 0,
      };
      row.flags += 1;
      row.amount += flag.amountAtRisk;
      if (flag.result === 'violation') row.violation += 1;
      this.#byRule.set(flag.ruleId, row);
    }
  }

  get flagCount(): number {
    let n = 0;
    for (const row of this.#byRule.values()) n += row.flags;
    return n;
  }

  get amountAtRisk(): number {
    let n = 0;
    for (const row of this.#byRule.values()) n += row.amount;
    return n;
  }

  byRule(): { ruleClass: string; ruleId: string; flags: number; amount: number }[] {
    return [...this.#byRule.entries()]
      .map(([ruleId, r]) => ({
        ruleClass: r.ruleClass,
        ruleId,
        flags: r.flags,
        amount: Math.round(r.amount * 100) / 100,
      }))
      .sort((a, b) => b.flags - a.flags || a.ruleId.localeCompare(b.ruleId));
  }

  format(): string {
    const seconds = (performance.now() - this.#started) / 1000;
    return [
      `claims screened ${this.claims}, malformed ${this.malformed}; decisions: pass ${this.decisions.pass}, hold ${this.decisions.hold}, reject ${this.decisions.reject}`,
      `flags ${this.flagCount}, amount at risk ${this.amountAtRisk.toFixed(2)} 元; ${seconds.toFixed(2)} s (${Math.round(this.claims / Math.max(seconds, 1e-9))} claims/s)`,
      '',
      this.ruleTable(),
    ].join('\n');
  }

  /** Flags and amount at risk by rule, most flags first. */
  ruleTable(): string {
    const rows = this.byRule();
    const width = Math.max(12, ...rows.map((r) => displayWidth(r.ruleClass)));
    return [
      `${pad('rule class', width)}  ${pad('rule', 26)}  ${'flags'.padStart(7)}  ${'amount at risk'.padStart(14)}`,
      ...rows.map(
        (r) =>
          `${pad(r.ruleClass, width)}  ${pad(r.ruleId, 26)}  ${String(r.flags).padStart(7)}  ${r.amount.toFixed(2).padStart(14)}`,
      ),
    ].join('\n');
  }
}

/** CJK characters take two terminal columns. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u2E80-\uFFEF]/.test(ch) ? 2 : 1;
  return w;
}

export function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

/** One rule's row of the comparison with the generator's ground truth. */
export interface TruthRow {
  ruleId: string;
  ruleClass: string;
  /** Violations the generator injected for the rule. */
  injected: number;
  /** Injected violations a flag of the rule cites: same claim, every injected line among its lines. */
  found: number;
  missed: number;
  /** Flags of the rule that no injected violation explains: on the clean background, or elsewhere on an injected claim. */
  unexpected: number;
}

export interface TruthComparison {
  rows: TruthRow[];
  injected: number;
  found: number;
  /** Claims the generator made clean (no injected violation), and the flags raised on them. */
  cleanClaims: number;
  flagsOnClean: number;
}

type FlagCitation = Pick<Flag, 'claimId' | 'ruleId' | 'lineNos'> & { ruleClass: string };

/**
 * What a run found against the generator's own ground truth: per rule, the injected violations
 * found and missed, and flags no injection explains; the flags on the claims generated clean.
 * `flags` are each distinct flag once (by flagId upstream); `claims` is how many claims the
 * generator made, injected ones included.
 */
export function compareWithTruth(
  truth: readonly InjectedViolation[],
  flags: readonly FlagCitation[],
  claims: number,
): TruthComparison {
  const rows = new Map<string, TruthRow>();
  const row = (ruleId: string, ruleClass: string): TruthRow => {
    let r = rows.get(ruleId);
    if (!r) {
      r = { ruleId, ruleClass, injected: 0, found: 0, missed: 0, unexpected: 0 };
      rows.set(ruleId, r);
    }
    return r;
  };
  const byClaimRule = new Map<string, FlagCitation[]>();
  for (const flag of flags) {
    const key = `${flag.claimId}\u0000${flag.ruleId}`;
    byClaimRule.set(key, [...(byClaimRule.get(key) ?? []), flag]);
  }
  const explained = new Set<FlagCitation>();
  for (const injection of truth) {
    const r = row(injection.ruleId, injection.ruleClass);
    r.injected++;
    const citing = (byClaimRule.get(`${injection.claimId}\u0000${injection.ruleId}`) ?? []).find((f) =>
      injection.lineNos.every((n) => f.lineNos.includes(n)),
    );
    if (citing) {
      r.found++;
      explained.add(citing);
    } else r.missed++;
  }
  const injectedClaims = new Set(truth.map((t) => t.claimId));
  let flagsOnClean = 0;
  for (const flag of flags) {
    if (explained.has(flag)) continue;
    row(flag.ruleId, flag.ruleClass).unexpected++;
    if (!injectedClaims.has(flag.claimId)) flagsOnClean++;
  }
  const sorted = [...rows.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
  return {
    rows: sorted,
    injected: truth.length,
    found: sorted.reduce((n, r) => n + r.found, 0),
    cleanClaims: claims - injectedClaims.size,
    flagsOnClean,
  };
}

/** The comparison as the demo prints it: a line of totals, then a row per rule. */
export function formatTruthComparison(c: TruthComparison): string {
  const width = Math.max(12, ...c.rows.map((r) => displayWidth(r.ruleClass)));
  const exact = c.found === c.injected && c.rows.every((r) => r.unexpected === 0);
  return [
    `against the generator's ground truth: found ${c.found} of ${c.injected} injected violations, missed ${c.injected - c.found}; ` +
      `${c.flagsOnClean} flags on the ${c.cleanClaims} claims generated clean${exact ? ' ✓ exactly what the rules say' : ''}`,
    `${pad('rule class', width)}  ${pad('rule', 26)}  ${'injected'.padStart(8)}  ${'found'.padStart(6)}  ${'missed'.padStart(6)}  ${'unexpected flags'.padStart(16)}`,
    ...c.rows.map(
      (r) =>
        `${pad(r.ruleClass, width)}  ${pad(r.ruleId, 26)}  ${String(r.injected).padStart(8)}  ${String(r.found).padStart(6)}  ${String(r.missed).padStart(6)}  ${String(r.unexpected).padStart(16)}`,
    ),
  ].join('\n');
}
