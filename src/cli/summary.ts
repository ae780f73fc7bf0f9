import type { Flag } from '../contracts/flag.ts';
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
