import type { DraftClaim } from '../contracts/claim.ts';
import type { Flag, Stage } from '../contracts/flag.ts';
import { InMemoryHistoryStore } from '../history/memory.ts';
import type { Screener } from '../rules/screen.ts';
import { SequentialScreening } from './sequence.ts';

/** How many new and lost hits a rule's diff shows as examples; the counts are always complete. */
export const EXAMPLES_PER_RULE = 5;

/** One hit shown as an example: enough for a rule author to open the claim and its lines. */
export interface HitExample {
  claimId: string;
  lineNos: number[];
  amountAtRisk: number;
  message: string;
  /** Where the hit was exempted, the exemption that covers it. */
  exemptionId?: string;
}

export interface RuleBacktest {
  ruleId: string;
  ruleClass: string;
  /** The working rules' hits, claims and amount at risk (exempted hits counted apart). */
  hits: number;
  claims: number;
  amountAtRisk: number;
  exempted: number;
  baseline: { hits: number; claims: number; amountAtRisk: number; exempted: number };
  /** Hits the working rules raise and the baseline does not (same claim, rule and lines), and the reverse. */
  newHits: { count: number; amountAtRisk: number; examples: HitExample[] };
  lostHits: { count: number; amountAtRisk: number; examples: HitExample[] };
}

export interface BacktestReport {
  stage: Stage;
  claims: number;
  working: { version: string; hits: number; claims: number; amountAtRisk: number };
  baseline: { version: string; hits: number; claims: number; amountAtRisk: number };
  newHits: number;
  lostHits: number;
  /** By rule id, every rule either set knows or that hit; most changed first. */
  rules: RuleBacktest[];
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** A hit's identity across rule sets: rule versions differ between them, claim, rule and lines do not. */
const hitKey = (flag: Flag): string => `${flag.ruleId}|${[...flag.lineNos].sort((a, b) => a - b).join(',')}`;

const example = (flag: Flag): HitExample => ({
  claimId: flag.claimId,
  lineNos: flag.lineNos,
  amountAtRisk: flag.amountAtRisk,
  message: flag.message,
  ...(flag.exemptionId ? { exemptionId: flag.exemptionId } : {}),
});

class Tally {
  hits = 0;
  exempted = 0;
  amount = 0;
  readonly claims = new Set<string>();

  add(flag: Flag): void {
    if (flag.status === 'exempted') {
      this.exempted += 1;
      return;
    }
    this.hits += 1;
    this.amount += flag.amountAtRisk;
    this.claims.add(flag.claimId);
  }

  view() {
    return {
      hits: this.hits,
      claims: this.claims.size,
      amountAtRisk: round(this.amount),
      exempted: this.exempted,
    };
  }
}

class Diff {
  count = 0;
  amount = 0;
  readonly examples: HitExample[] = [];

  add(flag: Flag): void {
    this.count += 1;
    this.amount += flag.amountAtRisk;
    if (this.examples.length < EXAMPLES_PER_RULE) this.examples.push(example(flag));
  }

  view() {
    return { count: this.count, amountAtRisk: round(this.amount), examples: this.examples };
  }
}

interface RuleRow {
  ruleClass: string;
  working: Tally;
  baseline: Tally;
  newHits: Diff;
  lostHits: Diff;
}

/**
 * Runs the working rules and a baseline over the same claims, each claim seeing the claims before
 * it as the patient's history (as `screen` and the in-process stage do), and compares their hits
 * claim by claim. Pure: claims in, a report out; one pass, so a month of claims streams through.
 */
export class Backtest {
  readonly #working: SequentialScreening;
  readonly #baseline: SequentialScreening;
  readonly #rows = new Map<string, RuleRow>();
  readonly #workingClaims = new Set<string>();
  readonly #baselineClaims = new Set<string>();
  #claims = 0;

  constructor(
    working: Screener,
    baseline: Screener,
    readonly stage: Stage,
    now: Date = new Date(),
  ) {
    // Each set keeps its own history log, as it would running alone.
    this.#working = new SequentialScreening(working, stage, new InMemoryHistoryStore(), now);
    this.#baseline = new SequentialScreening(baseline, stage, new InMemoryHistoryStore(), now);
    for (const { file } of [...working.ruleSet.rules, ...baseline.ruleSet.rules])
      if (file.stages.includes(stage)) this.#row(file.id, file.basis.ruleClass);
  }

  #row(ruleId: string, ruleClass: string): RuleRow {
    let row = this.#rows.get(ruleId);
    if (!row) {
      row = {
        ruleClass,
        working: new Tally(),
        baseline: new Tally(),
        newHits: new Diff(),
        lostHits: new Diff(),
      };
      this.#rows.set(ruleId, row);
    }
    return row;
  }

  async add(claim: DraftClaim): Promise<void> {
    this.#claims += 1;
    const [working, baseline] = await Promise.all([
      this.#working.screen(claim),
      this.#baseline.screen(claim),
    ]);
    const before = new Map(baseline.flags.map((f) => [hitKey(f), f]));
    const after = new Map(working.flags.map((f) => [hitKey(f), f]));
    for (const flag of working.flags) {
      const row = this.#row(flag.ruleId, flag.basis.ruleClass);
      row.working.add(flag);
      if (flag.status !== 'exempted') this.#workingClaims.add(flag.claimId);
      const was = before.get(hitKey(flag));
      // An exemption granted or lifted changes what the auditor sees as much as a new condition does.
      if (!was || (was.status === 'exempted') !== (flag.status === 'exempted')) row.newHits.add(flag);
    }
    for (const flag of baseline.flags) {
      const row = this.#row(flag.ruleId, flag.basis.ruleClass);
      row.baseline.add(flag);
      if (flag.status !== 'exempted') this.#baselineClaims.add(flag.claimId);
      const now = after.get(hitKey(flag));
      if (!now || (now.status === 'exempted') !== (flag.status === 'exempted')) row.lostHits.add(flag);
    }
  }

  report(): BacktestReport {
    const rules = [...this.#rows.entries()].map(([ruleId, row]): RuleBacktest => {
      const working = row.working.view();
      return {
        ruleId,
        ruleClass: row.ruleClass,
        hits: working.hits,
        claims: working.claims,
        amountAtRisk: working.amountAtRisk,
        exempted: working.exempted,
        baseline: row.baseline.view(),
        newHits: row.newHits.view(),
        lostHits: row.lostHits.view(),
      };
    });
    rules.sort(
      (a, b) =>
        b.newHits.count + b.lostHits.count - (a.newHits.count + a.lostHits.count) ||
        b.hits - a.hits ||
        a.ruleId.localeCompare(b.ruleId),
    );
    const total = (pick: (r: RuleBacktest) => number) => rules.reduce((s, r) => s + pick(r), 0);
    return {
      stage: this.stage,
      claims: this.#claims,
      working: {
        version: this.#working.screener.ruleSet.version,
        hits: total((r) => r.hits),
        claims: this.#workingClaims.size,
        amountAtRisk: round(total((r) => r.amountAtRisk)),
      },
      baseline: {
        version: this.#baseline.screener.ruleSet.version,
        hits: total((r) => r.baseline.hits),
        claims: this.#baselineClaims.size,
        amountAtRisk: round(total((r) => r.baseline.amountAtRisk)),
      },
      newHits: total((r) => r.newHits.count),
      lostHits: total((r) => r.lostHits.count),
      rules,
    };
  }
}
