import { type Claim, serviceSpan } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { ageInYears, epochDay } from '../dates.ts';
import { InMemoryHistoryStore } from '../history/memory.ts';
import { historyFor, toHistoryClaim } from '../history/store.ts';
import { flagIdFor, partiesOf, type Screener } from '../rules/screen.ts';
import { categoryOf } from '../rules/subjects/period.ts';
import { plannedCycleFor } from '../rules/subjects/planned-cycles.ts';
import { type Aggregates, type ServiceClassifier, subjectAggregate } from './aggregates.ts';
import type { IndicatorClass, PostPolicy } from './policy.ts';
import { type PeriodRuleSet, periodFlagFields } from './rules.ts';

/** What the map needs besides a patient's claims: the rules, the policy and the period. */
export interface AuditContext {
  screener: Screener;
  periodRules: PeriodRuleSet;
  policy: PostPolicy;
  classifier: ServiceClassifier;
  /** `YYYY-MM`: the claims whose first service date falls in it are audited and scored. */
  period: string;
  /** Written on flags; injectable so runs are reproducible. */
  now: Date;
}

/** The order a patient's claims were settled in, total: first service date, time, id. */
function settledOrder(claims: readonly Claim[]): Claim[] {
  const keyed = claims.map((c) => ({ c, key: `${serviceSpan(c)[0]}|${c.submittedAt}|${c.claimId}` }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.c);
}

/**
 * The map: one patient's claims (the period and whatever history came with it) → the patient's
 * post-event flags, added to `aggregates` per hospital and doctor. Pure apart from adding to the
 * aggregates it is given; the CLI, the worker threads and the audit Lambda all call this.
 *
 * Two kinds of flag: every claim rule listing `post` runs again over each claim of the period with
 * the patient's whole history before it (so two claims the live stream decided at the same moment
 * see each other), and the period rules judge the patient's claims together. A flag whose claim
 * lies outside the period belongs to that period's audit and is not raised here.
 */
export async function auditPatient(
  claims: readonly Claim[],
  ctx: AuditContext,
  aggregates: Aggregates,
): Promise<Flag[]> {
  const ordered =
    claims.length === 1
      ? [...claims]
      : settledOrder([...new Map(claims.map((c) => [c.claimId, c])).values()]);
  const flags = new Map<string, Flag>();
  const createdAt = ctx.now.toISOString();
  const periodStart = new Map<Claim, string>();
  const current = new Set<Claim>();
  for (const c of ordered) {
    const first = serviceSpan(c)[0];
    periodStart.set(c, first);
    if (first.slice(0, 7) === ctx.period) current.add(c);
  }
  const store = ordered.length > 1 ? new InMemoryHistoryStore() : undefined;

  for (const claim of ordered) {
    if (current.has(claim)) {
      // A patient's only claim has no history: no store to ask.
      const history = store ? await historyFor(claim, ctx.screener.ruleSet.historyDays('post'), store) : [];
      const found = await ctx.screener.flagsOf(claim, { stage: 'post', history, now: ctx.now });
      for (const f of found) flags.set(f.flagId, f);
    }
    store?.add(toHistoryClaim(claim));
  }

  // The flagged claim's patient and hospital facts, derived once per claim however many subjects it has.
  const claimFacts = new Map<
    Claim,
    { patient: Record<string, unknown>; hospital: Record<string, unknown> }
  >();
  const factsOf = (claim: Claim) => {
    let facts = claimFacts.get(claim);
    if (!facts) {
      facts = {
        patient: {
          sex: claim.patient.sex,
          insuranceType: claim.patient.insuranceType,
          ageYears: ageInYears(claim.patient.birthDate, periodStart.get(claim) as string),
          deathDate: claim.patient.deathDate ?? null,
        },
        hospital: { level: claim.hospital.level, internet: claim.hospital.internet },
      };
      claimFacts.set(claim, facts);
    }
    return facts;
  };

  for (const { kind, rules } of ctx.periodRules.patientKinds) {
    for (const rule of rules) {
      const { file } = rule;
      for (const subject of kind.build(ordered, {
        params: file.params,
        plannedCycles: ctx.policy.plannedCycles,
      })) {
        const { claim } = subject;
        if (!current.has(claim)) continue;
        // A rule applies by service date: the flagged claim's first line must fall in its effective span.
        const served = periodStart.get(claim) as string;
        if (served < file.effective.from || (file.effective.to && served > file.effective.to)) continue;
        const facts = { subject: subject.fact, params: file.params, ...factsOf(claim) };
        const holds = ctx.periodRules.holds(rule, facts);
        if (!(typeof holds === 'boolean' ? holds : await holds)) continue;
        const flagId = flagIdFor(
          { claimId: claim.claimId, hospitalId: claim.hospital.hospitalId },
          file.id,
          file.version,
          subject.lineNos,
        );
        const related = subject.related.map((c) => c.claimId).filter((id) => id !== claim.claimId);
        const known = flags.get(flagId);
        if (known) {
          // The same claim, rule and lines from another pairing (a stay overlapping two others).
          known.relatedClaimIds = [...new Set([...(known.relatedClaimIds ?? []), ...related])].sort();
          continue;
        }
        flags.set(flagId, {
          flagId,
          claimId: claim.claimId,
          lineNos: subject.lineNos,
          ...periodFlagFields(file, facts, ctx.screener.ruleSet.version, createdAt),
          amountAtRisk: subject.amountAtRisk,
          ...partiesOf(claim),
          ...(related.length ? { relatedClaimIds: [...new Set(related)].sort() } : {}),
        });
      }
    }
  }

  const list = [...flags.values()];
  addToAggregates([...current], ordered, list, ctx, aggregates);
  return list;
}

const NO_CLASSES: IndicatorClass[] = [];
const NO_FLAGS: readonly Flag[] = [];
const KINDS = ['hospital', 'doctor'] as const;

function addToAggregates(
  current: readonly Claim[],
  all: readonly Claim[],
  flags: readonly Flag[],
  ctx: AuditContext,
  aggregates: Aggregates,
): void {
  if (!current.length) return;
  const { policy, classifier } = ctx;
  aggregates.patients += 1;
  aggregates.claims += current.length;
  const doctorDays = new Set<string>();
  // Most patients have no flag: no map of them to build.
  const flagsOf = new Map<string, Flag[]>();
  for (const f of flags) {
    const list = flagsOf.get(f.claimId);
    if (list) list.push(f);
    else flagsOf.set(f.claimId, [f]);
  }
  for (const claim of current) {
    const primary = (claim.diagnoses.find((d) => d.primary) ?? claim.diagnoses[0])?.code;
    const group = `${claim.visit.type === 'inpatient' ? 'inpatient' : 'outpatient'}|${categoryOf(primary) ?? '—'}`;
    let violationClaim = false;
    let highAmount = 0;
    for (const f of flagsOf.get(claim.claimId) ?? NO_FLAGS) {
      if (f.result !== 'violation') continue;
      violationClaim = true;
      if (f.severity === 'high') highAmount += f.amountAtRisk;
    }
    // Classes looked up once for both subjects; amounts still added line by line, in line order, so
    // the sums (floating point) come out exactly as they always have.
    const classes = claim.items.map((item) =>
      item.category === 'service' ? classifier.classesOf(item.code, item.name) : NO_CLASSES,
    );
    for (const kind of KINDS) {
      const agg = subjectAggregate(aggregates, kind, claim);
      agg.cases += 1;
      agg.amount += claim.totals.amount;
      for (let i = 0; i < claim.items.length; i++) {
        const item = claim.items[i] as Claim['items'][number];
        if (item.category === 'drug' || item.category === 'tcm-herbal') agg.drugAmount += item.amount;
        else if (item.category === 'consumable') agg.consumableAmount += item.amount;
        else for (const c of classes[i] as IndicatorClass[]) agg.classAmounts[c] += item.amount;
      }
      const g = agg.groups[group];
      if (g) {
        g.cases += 1;
        g.amount += claim.totals.amount;
      } else agg.groups[group] = { cases: 1, amount: claim.totals.amount };
      if (violationClaim) agg.violationClaims += 1;
      agg.highViolationAmount += highAmount;
    }
    if (claim.visit.type === 'outpatient' || claim.visit.type === 'emergency') {
      for (const item of claim.items)
        doctorDays.add(`${claim.doctorId}|${item.serviceDate}|${claim.hospital.hospitalId}`);
    }
  }
  for (const key of doctorDays) {
    const [doctorId, date, hospitalId] = key.split('|') as [string, string, string];
    const day = aggregates.doctorDays[`${doctorId}|${date}`] ?? { hospitalId, patients: 0 };
    day.patients += 1;
    aggregates.doctorDays[`${doctorId}|${date}`] = day;
  }
  addReadmissions(current, all, ctx, aggregates);
  addChronicFollowUp(current, policy, aggregates);
}

/** 31-day unplanned readmission: each stay of the period, readmitted to the same hospital unplanned. */
function addReadmissions(
  current: readonly Claim[],
  all: readonly Claim[],
  ctx: AuditContext,
  aggregates: Aggregates,
): void {
  if (!current.some((c) => c.visit.type === 'inpatient')) return;
  const stays = all.filter((c) => c.visit.type === 'inpatient' && c.visit.admittedAt && c.visit.dischargedAt);
  for (const stay of current) {
    if (stay.visit.type !== 'inpatient' || !stay.visit.dischargedAt) continue;
    const discharged = epochDay(stay.visit.dischargedAt);
    const readmitted = stays.some((next) => {
      if (next === stay || next.hospital.hospitalId !== stay.hospital.hospitalId) return false;
      const gap = epochDay(next.visit.admittedAt ?? '') - discharged;
      const primary = (next.diagnoses.find((d) => d.primary) ?? next.diagnoses[0])?.code;
      return (
        gap >= 0 &&
        gap <= ctx.policy.scores.readmissionDays &&
        !plannedCycleFor(ctx.policy.plannedCycles, primary)
      );
    });
    for (const kind of ['hospital', 'doctor'] as const) {
      const agg = subjectAggregate(aggregates, kind, stay);
      agg.discharges += 1;
      if (readmitted) agg.readmissions += 1;
    }
  }
}

const chronicSets = new WeakMap<PostPolicy, ReadonlySet<string>>();
/** The policy's chronic ICD-10 categories as a set, made once per policy rather than per patient. */
function chronicCategoriesOf(policy: PostPolicy): ReadonlySet<string> {
  let set = chronicSets.get(policy);
  if (!set) {
    set = new Set(policy.scores.chronicCategories);
    chronicSets.set(policy, set);
  }
  return set;
}

/** Chronic patients (diabetes, hypertension) of a hospital, and whether they came back in the period. */
function addChronicFollowUp(current: readonly Claim[], policy: PostPolicy, aggregates: Aggregates): void {
  const chronic = chronicCategoriesOf(policy);
  const byHospital = new Map<string, Claim[]>();
  for (const claim of current) {
    if (!claim.diagnoses.some((d) => chronic.has(d.code.slice(0, 3)))) continue;
    const list = byHospital.get(claim.hospital.hospitalId) ?? [];
    list.push(claim);
    byHospital.set(claim.hospital.hospitalId, list);
  }
  for (const claims of byHospital.values()) {
    const first = claims[0] as Claim;
    const followedUp = new Set(claims.map((c) => c.visit.visitId)).size >= 2;
    for (const kind of ['hospital', 'doctor'] as const) {
      const agg = subjectAggregate(aggregates, kind, first);
      agg.chronicPatients += 1;
      if (followedUp) agg.chronicFollowedUp += 1;
    }
  }
}
