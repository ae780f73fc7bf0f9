import type { Catalogue } from '../catalogue/index.ts';
import type { Claim } from '../contracts/claim.ts';
import { epochDay } from '../dates.ts';
import type { Screener } from '../rules/screen.ts';
import { background } from './background.ts';
import { Generator, type InjectedViolation } from './claims.ts';
import { INJECTORS } from './violations.ts';

/**
 * A realistic, seeded claim stream with injected violations and their ground truth.
 *
 * The background is clean as the rules core judges it: before a catalogue-restricted line is
 * billed, the screener itself screens the claim with that line and the patient's past as history,
 * and the line is billed only if nothing is flagged; a patient's claims never share a service
 * date. Each injected claim breaks exactly one rule, checked the same way (flagged, and only for
 * that rule's class), and the truth names the claim, the rule and the lines a flag must cite.
 */

export interface GenerateOptions {
  seed: number;
  claims: number;
  /** Share of claims that carry an injected violation, 0–1. */
  violationRate: number;
  /** First service date of the stream. */
  startDate?: string;
  /** Days the stream's service dates span. */
  days?: number;
  /** Inject only these rules (the loaded rule set's ids); every rule the generator knows when absent. */
  ruleIds?: readonly string[];
}

export interface Generated {
  options: Required<Omit<GenerateOptions, 'ruleIds'>> & { ruleIds: string[] };
  /** In submission order; a patient's claims come in service-date order. */
  claims: Claim[];
  truth: InjectedViolation[];
}

/**
 * Generate a stream of `claims` claims over `days` days from `startDate`, about `violationRate` of
 * them with an injected violation, rotating through every rule the generator can inject.
 */
export async function generateClaims(
  options: GenerateOptions,
  core: { catalogue: Catalogue; screener: Screener },
): Promise<Generated> {
  const startDate = options.startDate ?? '2026-07-01';
  const days = options.days ?? 90;
  const { seed, claims: target, violationRate } = options;
  if (!Number.isInteger(target) || target < 0)
    throw new RangeError(`claims must be a whole number ≥ 0, got ${target}`);
  if (!(violationRate >= 0 && violationRate <= 1))
    throw new RangeError(`violationRate must be within 0–1, got ${violationRate}`);
  const wanted = options.ruleIds ? new Set(options.ruleIds) : undefined;
  const injectors = INJECTORS.filter((i) => !wanted || wanted.has(i.ruleId));
  const g = new Generator(seed, core.catalogue, core.screener);
  const start = epochDay(startDate);
  const poolSize = Math.max(20, Math.ceil(target / 4));
  for (let i = 0; i < poolSize; i += 1) g.newPatient({}, start);
  let injected = g.rng.int(0, Math.max(0, injectors.length - 1));
  while (g.claims.length < target) {
    const before = g.claims.length;
    const day = start + Math.floor((before * days) / Math.max(1, target));
    const injector = injectors.length ? injectors[injected % injectors.length] : undefined;
    // Injected so far keeps up with the rate over the claims written, whatever each scenario's size.
    const owed = Math.floor(violationRate * (before + 1) + 1e-9) - g.truth.length;
    const room = target - before;
    // At the very end a two-claim scenario may not fit: the next injector that fits takes the turn.
    if (owed >= 1 && injector && injector.claims > room && injectors.some((i) => i.claims <= room)) {
      injected += 1;
      continue;
    }
    if (owed >= 1 && injector && injector.claims <= room) {
      injected += 1;
      await injector.inject(g, day);
    } else {
      await background(g, day);
    }
  }
  const order = new Map(g.claims.map((c, i) => [c.claimId, i]));
  const claims = [...g.claims].sort((a, b) =>
    a.submittedAt < b.submittedAt
      ? -1
      : a.submittedAt > b.submittedAt
        ? 1
        : (order.get(a.claimId) ?? 0) - (order.get(b.claimId) ?? 0),
  );
  return {
    options: {
      seed,
      claims: target,
      violationRate,
      startDate,
      days,
      ruleIds: injectors.map((i) => i.ruleId),
    },
    claims,
    truth: g.truth,
  };
}
