import type { ServiceClasses, ServiceClassId } from '../catalogue/reference.ts';
import type { Claim } from '../contracts/claim.ts';
import type { IndicatorClass } from './policy.ts';

/**
 * Partial aggregates: what the map returns besides patient-level flags, per hospital and per
 * doctor, and what the reduce merges. Only sums and counts, so partials from any split of the
 * patients (a scan segment, a spill file, a worker) merge by adding — patients never straddle two
 * partials, which is what makes the distinct-patient counts of a doctor's day additive too.
 * Plain JSON, so a Lambda can return it and Step Functions can carry it.
 */
export interface SubjectAggregate {
  kind: 'hospital' | 'doctor';
  id: string;
  /** The hospital itself, or the doctor's hospital. */
  hospitalId: string;
  level: 1 | 2 | 3;
  cases: number;
  amount: number;
  drugAmount: number;
  consumableAmount: number;
  classAmounts: Record<IndicatorClass, number>;
  /** `visitKind|ICD-10 category` → cases and amount, for the case-mix adjusted cost index. */
  groups: Record<string, { cases: number; amount: number }>;
  discharges: number;
  readmissions: number;
  /** Claims with at least one violation flag. */
  violationClaims: number;
  /** Amount at risk of high-severity violation flags. */
  highViolationAmount: number;
  chronicPatients: number;
  chronicFollowedUp: number;
}

export interface Aggregates {
  /** `hospital#H…` or `doctor#D…` → its aggregate. */
  subjects: Record<string, SubjectAggregate>;
  /** `doctorId|date` → distinct outpatient patients that day. */
  doctorDays: Record<string, { hospitalId: string; patients: number }>;
  claims: number;
  patients: number;
}

export const emptyAggregates = (): Aggregates => ({ subjects: {}, doctorDays: {}, claims: 0, patients: 0 });

const emptyClasses = (): Record<IndicatorClass, number> => ({ labExam: 0, treatment: 0, ct: 0, mri: 0 });

export function subjectAggregate(
  aggregates: Aggregates,
  kind: 'hospital' | 'doctor',
  claim: Claim,
): SubjectAggregate {
  const id = kind === 'hospital' ? claim.hospital.hospitalId : claim.doctorId;
  const key = `${kind}#${id}`;
  let agg = aggregates.subjects[key];
  if (!agg) {
    agg = {
      kind,
      id,
      hospitalId: claim.hospital.hospitalId,
      level: claim.hospital.level,
      cases: 0,
      amount: 0,
      drugAmount: 0,
      consumableAmount: 0,
      classAmounts: emptyClasses(),
      groups: {},
      discharges: 0,
      readmissions: 0,
      violationClaims: 0,
      highViolationAmount: 0,
      chronicPatients: 0,
      chronicFollowedUp: 0,
    };
    aggregates.subjects[key] = agg;
  }
  return agg;
}

/** The indicators a service class counts towards: CT and MRI are 检验检查 too; surgery is none of them. */
const INDICATORS_OF: Record<ServiceClassId, IndicatorClass[]> = {
  exam: ['labExam'],
  lab: ['labExam'],
  ct: ['labExam', 'ct'],
  mri: ['labExam', 'mri'],
  treatment: ['treatment'],
  surgery: [],
};

const NO_CLASSES: IndicatorClass[] = [];

/** Sorts service items into the indicator classes by `rules/reference/service-classes.json`. */
export class ServiceClassifier {
  constructor(readonly classes: ServiceClasses) {}

  classesOf(code: string, name: string): IndicatorClass[] {
    const c = this.classes.of(code, name);
    return c ? INDICATORS_OF[c] : NO_CLASSES;
  }
}

/** Adds `b` into `a` (and returns `a`). */
export function mergeAggregates(a: Aggregates, b: Aggregates): Aggregates {
  a.claims += b.claims;
  a.patients += b.patients;
  for (const [key, s] of Object.entries(b.subjects)) {
    const t = a.subjects[key];
    if (!t) {
      a.subjects[key] = structuredClone(s);
      continue;
    }
    t.cases += s.cases;
    t.amount += s.amount;
    t.drugAmount += s.drugAmount;
    t.consumableAmount += s.consumableAmount;
    for (const c of Object.keys(s.classAmounts) as IndicatorClass[]) t.classAmounts[c] += s.classAmounts[c];
    for (const [g, v] of Object.entries(s.groups)) {
      const tg = t.groups[g];
      if (tg) {
        tg.cases += v.cases;
        tg.amount += v.amount;
      } else t.groups[g] = { ...v };
    }
    t.discharges += s.discharges;
    t.readmissions += s.readmissions;
    t.violationClaims += s.violationClaims;
    t.highViolationAmount += s.highViolationAmount;
    t.chronicPatients += s.chronicPatients;
    t.chronicFollowedUp += s.chronicFollowedUp;
  }
  for (const [key, d] of Object.entries(b.doctorDays)) {
    const t = a.doctorDays[key];
    if (t) t.patients += d.patients;
    else a.doctorDays[key] = { ...d };
  }
  return a;
}
