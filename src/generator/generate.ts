import { writeFileSync } from 'node:fs';
import type { Catalogue } from '../catalogue/index.ts';
import type { KnowledgePoint } from '../catalogue/schema.ts';
import type { Claim, InsuranceType, Item, ItemCategory, Sex, VisitType } from '../contracts/claim.ts';
import { addMonths, ageInYears, calendarWeek, epochDay, fromEpochDay } from '../dates.ts';
import { hash32, Random } from './random.ts';
import { INJECTORS } from './violations.ts';
import {
  DIAGNOSES,
  HOSPITALS,
  type HospitalProfile,
  ORDINARY,
  ORDINARY_CONSUMABLES,
  ORDINARY_TCM,
  ORDINARY_TESTS,
  type OrdinaryItem,
  VISIT_MIX,
} from './world.ts';

/**
 * A realistic, seeded claim stream with injected violations and their ground truth.
 *
 * The background is clean by construction: every catalogue code the generator bills is checked
 * against all of its machine-checkable knowledge points for the claim at hand and the patient's
 * past (supply not yet used up, course days already paid, the last charge of a cycle-limited
 * service), and a patient's claims never share a service date. Each injected claim breaks exactly
 * one rule, and the truth names the claim, the rule and the lines a flag must cite.
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

/** One injected violation: the flag the rules core must raise. */
export interface InjectedViolation {
  claimId: string;
  ruleId: string;
  ruleClass: string;
  lineNos: number[];
}

export interface Generated {
  options: Required<Omit<GenerateOptions, 'ruleIds'>> & { ruleIds: string[] };
  /** In submission order; a patient's claims come in service-date order. */
  claims: Claim[];
  truth: InjectedViolation[];
}

export interface PatientState {
  insuredId: string;
  sex: Sex;
  birthDate: string;
  insuranceType: InsuranceType;
  /** Set for a patient who dies; claims settled after it carry it. */
  deathDate?: string;
  /** First epoch day a new claim of this patient may start. */
  availableFrom: number;
  /** Generic drug (first 10 code characters) → epoch day its last supply runs out. */
  supplyEnd: Map<string, number>;
  /** Course-limited knowledge point → service dates already billed. */
  courseDays: Map<string, Set<string>>;
  /** Cycle-limited knowledge point → epoch day of the last charge. */
  cycleLast: Map<string, number>;
}

export interface PatientTraits {
  sex?: Sex;
  insuranceType?: InsuranceType;
  ageYears?: number;
}

export interface Setting {
  patient: PatientState;
  hospital: HospitalProfile;
  visitType: VisitType;
}

/** How a line is to be billed, for the fit check. */
export interface LinePlan {
  dates: readonly string[];
  quantity: number;
  daysSupply?: number;
  /** A TCM piece in a prescription that also has payable pieces that day. */
  compoundTcm?: boolean;
}

export interface Priced {
  code: string;
  name: string;
  category: ItemCategory;
  unitPrice: number;
}

/** NHSA drug codes: the first 10 characters name the generic drug (as the repeat-prescription rule reads them). */
export const genericOf = (code: string): string => code.slice(0, 10);

const round2 = (n: number): number => Math.round(n * 100) / 100;

export function categoryOf(code: string): ItemCategory {
  if (/^[XZ]/.test(code)) return 'drug';
  if (code.startsWith('T')) return 'tcm-herbal';
  if (code.startsWith('C')) return 'consumable';
  return 'service';
}

const PRICE_RANGE: Record<ItemCategory, [number, number]> = {
  drug: [0.5, 180],
  'tcm-herbal': [0.2, 4],
  service: [8, 360],
  consumable: [1, 60],
};

/** A catalogue code's unit price: stable per code, so every stream bills it the same. */
function priceOf(code: string, category: ItemCategory): number {
  const [min, max] = PRICE_RANGE[category];
  return round2(min + ((hash32(code) % 10_000) / 10_000) * (max - min));
}

/** The lines of one claim under construction, with what the fit check needs to know about them. */
export class ClaimDraft {
  readonly items: Item[] = [];
  readonly #codeDates = new Set<string>();
  readonly codes = new Set<string>();
  readonly generics = new Set<string>();
  /** Course knowledge point → dates billed in this claim. */
  readonly courseDays = new Map<string, Set<string>>();
  readonly cycleKps = new Set<string>();

  constructor(readonly catalogue: Catalogue) {}

  has(code: string, date: string): boolean {
    return this.#codeDates.has(`${code}|${date}`);
  }

  add(item: Priced, date: string, quantity: number, daysSupply?: number): number {
    const lineNo = this.items.length + 1;
    this.items.push({
      lineNo,
      code: item.code,
      name: item.name,
      category: item.category,
      quantity,
      unitPrice: item.unitPrice,
      amount: round2(quantity * item.unitPrice),
      serviceDate: date,
      ...(daysSupply === undefined ? {} : { daysSupply }),
    });
    this.codes.add(item.code);
    this.#codeDates.add(`${item.code}|${date}`);
    if (item.category === 'drug') this.generics.add(genericOf(item.code));
    for (const kp of this.catalogue.pointsFor(item.code)?.values() ?? []) {
      if (kp.restriction?.kind === 'course') {
        const days = this.courseDays.get(kp.kpId) ?? new Set<string>();
        days.add(date);
        this.courseDays.set(kp.kpId, days);
      }
      if (kp.restriction?.kind === 'cycle') this.cycleKps.add(kp.kpId);
    }
    return lineNo;
  }

  get dates(): string[] {
    return [...new Set(this.items.map((i) => i.serviceDate))].sort();
  }
}

export class Generator {
  readonly rng: Random;
  readonly claims: Claim[] = [];
  readonly truth: InjectedViolation[] = [];
  readonly patients: PatientState[] = [];
  readonly #byKind = new Map<string, Priced[]>();
  readonly #textOnlyDrugs: Priced[] = [];
  readonly #restrictedDrugs: Priced[] = [];
  readonly #restrictedServices: Priced[] = [];
  #claimSeq = 0;
  #patientSeq = 0;
  #visitSeq = 0;

  constructor(
    readonly seed: number,
    readonly catalogue: Catalogue,
  ) {
    this.rng = new Random(seed);
    const seen = new Set<string>();
    for (const kp of catalogue.knowledgePoints) {
      const codes = kp.restriction?.kind === 'exclusivePair' ? kp.restriction.codes : kp.codes;
      for (const code of codes) {
        if (seen.has(code)) continue;
        seen.add(code);
        const category = categoryOf(code);
        const priced = {
          code,
          name: catalogue.entry(code)?.name ?? kp.itemName,
          category,
          unitPrice: priceOf(code, category),
        };
        const points = catalogue.pointsFor(code);
        if (!points) {
          if (category === 'drug') this.#textOnlyDrugs.push(priced);
          continue;
        }
        if (category === 'drug') this.#restrictedDrugs.push(priced);
        if (category === 'service') this.#restrictedServices.push(priced);
      }
    }
    if (this.#textOnlyDrugs.length === 0)
      throw new Error('the catalogue has no unrestricted drug codes to bill');
  }

  /** Catalogue codes with a knowledge point of `ruleClass`, priced; for injectors. */
  codesOfClass(ruleClass: string): Priced[] {
    const cached = this.#byKind.get(ruleClass);
    if (cached) return cached;
    const codes = new Set<string>();
    for (const kp of this.catalogue.knowledgePoints) {
      if (kp.ruleClass !== ruleClass || !kp.restriction) continue;
      const list = kp.restriction.kind === 'exclusivePair' ? kp.restriction.codes : kp.codes;
      for (const code of list) codes.add(code);
    }
    const priced = [...codes].map((code) => this.priced(code));
    this.#byKind.set(ruleClass, priced);
    return priced;
  }

  priced(code: string): Priced {
    const category = categoryOf(code);
    return {
      code,
      name: this.catalogue.entry(code)?.name ?? code,
      category,
      unitPrice: priceOf(code, category),
    };
  }

  textOnlyDrug(): Priced {
    return this.rng.pick(this.#textOnlyDrugs);
  }

  // ---- patients ------------------------------------------------------------------------------

  /** A new patient, in the pool for later claims unless `register` is false (an injector's candidate). */
  newPatient(traits: PatientTraits, day: number, register = true): PatientState {
    const rng = this.rng;
    const sex = traits.sex ?? (rng.chance(0.5) ? 'F' : 'M');
    const [youngest, oldest] = rng.weighted<[number, number]>([
      [[0, 17], 15],
      [[18, 64], 60],
      [[65, 92], 25],
    ]);
    const ageYears = traits.ageYears ?? rng.int(youngest, oldest);
    let insuranceType = traits.insuranceType;
    if (!insuranceType) {
      insuranceType = ageYears >= 18 && ageYears < 60 ? 'employee' : 'resident';
      if (ageYears >= 18 && ageYears < 60 && rng.chance(0.04)) insuranceType = 'work-injury';
      if (sex === 'F' && ageYears >= 22 && ageYears <= 40 && rng.chance(0.08)) insuranceType = 'maternity';
    }
    // Exactly `ageYears` completed years on `day`: the anniversary, then up to a year further back.
    const date = fromEpochDay(day);
    const anniversary = epochDay(
      `${Number(date.slice(0, 4)) - ageYears}-${date.slice(5, 7)}-${date.slice(8, 10)}`,
    );
    this.#patientSeq += 1;
    const patient: PatientState = {
      insuredId: `P${this.seed}-${String(this.#patientSeq).padStart(6, '0')}`,
      sex,
      birthDate: fromEpochDay(anniversary - rng.int(1, 360)),
      insuranceType,
      availableFrom: day,
      supplyEnd: new Map(),
      courseDays: new Map(),
      cycleLast: new Map(),
    };
    if (register) this.patients.push(patient);
    return patient;
  }

  register(patient: PatientState): void {
    if (!this.patients.includes(patient)) this.patients.push(patient);
  }

  /** A patient free to start a claim on `day`, alive through `lastDay`; a new one when none is found quickly. */
  patientFor(day: number, lastDay: number): PatientState {
    for (let tries = 0; tries < 8 && this.patients.length; tries += 1) {
      const p = this.rng.pick(this.patients);
      if (p.availableFrom <= day && (!p.deathDate || epochDay(p.deathDate) > lastDay)) return p;
    }
    return this.newPatient({}, day);
  }

  // ---- the fit check -------------------------------------------------------------------------

  /**
   * Whether billing `code` as planned breaks none of its knowledge points (but `except`, the one an
   * injector means to break) for this setting, this claim and the patient's past.
   */
  fits(code: string, setting: Setting, draft: ClaimDraft, plan: LinePlan, except?: string): boolean {
    const { patient, hospital, visitType } = setting;
    if (plan.dates.some((d) => draft.has(code, d))) return false;
    if (categoryOf(code) === 'drug' && plan.daysSupply !== undefined) {
      const generic = genericOf(code);
      if (draft.generics.has(generic)) return false;
      const end = patient.supplyEnd.get(generic);
      if (end !== undefined && plan.dates.some((d) => end > epochDay(d))) return false;
    }
    for (const kp of this.catalogue.pointsFor(code)?.values() ?? []) {
      if (kp.ruleClass === except) continue;
      if (!this.#satisfies(kp, code, draft, plan, patient, hospital, visitType)) return false;
    }
    return true;
  }

  #satisfies(
    kp: KnowledgePoint,
    code: string,
    draft: ClaimDraft,
    plan: LinePlan,
    patient: PatientState,
    hospital: HospitalProfile,
    visitType: VisitType,
  ): boolean {
    const r = kp.restriction;
    if (!r) return true;
    switch (r.kind) {
      case 'sex':
        return patient.sex === r.sex;
      case 'age':
        return plan.dates.every((d) => {
          const years = ageInYears(patient.birthDate, d);
          const days = epochDay(d) - epochDay(patient.birthDate);
          return (
            (r.minAgeYears === undefined || years >= r.minAgeYears) &&
            (r.maxAgeYears === undefined || years <= r.maxAgeYears) &&
            (r.maxAgeDays === undefined || days <= r.maxAgeDays)
          );
        });
      case 'insuranceType':
        return r.insuranceTypes.includes(patient.insuranceType);
      case 'visitType':
        return r.visitTypes.includes(visitType);
      case 'hospitalLevel':
        return hospital.level >= r.minLevel;
      case 'course': {
        const days = new Set([
          ...(patient.courseDays.get(kp.kpId) ?? []),
          ...(draft.courseDays.get(kp.kpId) ?? []),
          ...plan.dates,
        ]);
        if (r.scope !== 'span') return days.size <= r.maxDays;
        const sorted = [...days].sort();
        const [first] = sorted;
        const last = sorted[sorted.length - 1];
        return !first || !last || last < addMonths(first, r.maxMonths);
      }
      case 'frequency':
        return plan.quantity <= r.maxPerDay;
      case 'cycle': {
        const [date] = plan.dates;
        if (plan.dates.length !== 1 || !date || draft.cycleKps.has(kp.kpId)) return false;
        const last = patient.cycleLast.get(kp.kpId);
        if (last === undefined) return true;
        return r.unit === 'days'
          ? epochDay(date) - last >= r.minIntervalDays
          : calendarWeek(date) > calendarWeek(fromEpochDay(last));
      }
      case 'tcmNotPayable':
        return false;
      case 'tcmNotPayableAlone':
        return plan.compoundTcm === true;
      case 'notInternet':
        return visitType !== 'internet' && !hospital.internet;
      case 'exclusivePair': {
        const other = r.codes[0] === code ? r.codes[1] : r.codes[0];
        return !draft.codes.has(other);
      }
    }
  }

  /** A catalogue code from `pool` that fits, or undefined after a few tries. */
  pickFitting(
    pool: readonly Priced[],
    setting: Setting,
    draft: ClaimDraft,
    plan: LinePlan,
  ): Priced | undefined {
    for (let tries = 0; tries < 6 && pool.length; tries += 1) {
      const candidate = this.rng.pick(pool);
      if (this.fits(candidate.code, setting, draft, plan)) return candidate;
    }
    return undefined;
  }

  /** An unrestricted drug whose generic the patient has no supply of. */
  freshDrug(setting: Setting, draft: ClaimDraft, plan: LinePlan): Priced {
    for (;;) {
      const drug = this.textOnlyDrug();
      if (this.fits(drug.code, setting, draft, plan)) return drug;
    }
  }

  // ---- background claims ---------------------------------------------------------------------

  hospital(internet: boolean): HospitalProfile {
    if (internet) return this.rng.pick(HOSPITALS.filter((h) => h.internet));
    const level = this.rng.weighted<1 | 2 | 3>([
      [3, 40],
      [2, 35],
      [1, 25],
    ]);
    return this.rng.pick(HOSPITALS.filter((h) => h.level === level && !h.internet));
  }

  departmentFor(patient: PatientState, day: number, visitType: VisitType): string {
    const age = ageInYears(patient.birthDate, fromEpochDay(day));
    if (age < 14) return 'pediatrics';
    if (patient.insuranceType === 'maternity') return 'gynecology';
    if (patient.insuranceType === 'work-injury') return 'orthopedics';
    if (visitType === 'internet') return 'internal';
    return this.rng.weighted<string>([
      ['internal', 35],
      ['general', 25],
      [patient.sex === 'F' ? 'gynecology' : 'urology', 8],
      ['orthopedics', 10],
      ['oncology', 7],
      ['tcm', 15],
    ]);
  }

  /** A clean claim starting on `day`. */
  background(day: number): void {
    const internet = this.rng.chance(0.06);
    const visitType: VisitType = internet ? 'internet' : this.rng.weighted(VISIT_MIX);
    const stay =
      visitType !== 'inpatient' ? 1 : this.rng.chance(0.7) ? this.rng.int(2, 6) : this.rng.int(7, 12);
    const patient = this.patientFor(day, day + stay - 1);
    const setting: Setting = { patient, hospital: this.hospital(internet), visitType };
    const draft = new ClaimDraft(this.catalogue);
    const department = this.departmentFor(patient, day, visitType);
    if (visitType === 'inpatient') this.inpatientLines(setting, draft, day, stay, department);
    else this.visitLines(setting, draft, fromEpochDay(day), department);
    this.emit(setting, draft, department, day);
  }

  /** Consultation, a test or two, drugs with their supply, sometimes TCM and consumables. */
  visitLines(setting: Setting, draft: ClaimDraft, date: string, department: string): void {
    const rng = this.rng;
    const { visitType } = setting;
    if (visitType !== 'pharmacy') {
      const consultation =
        visitType === 'emergency'
          ? ORDINARY.emergencyConsultation
          : visitType === 'internet'
            ? ORDINARY.internetConsultation
            : ORDINARY.outpatientConsultation;
      draft.add(consultation, date, 1);
    }
    if (visitType === 'outpatient' || visitType === 'emergency') {
      for (let n = rng.int(0, 2); n > 0; n -= 1) {
        const test = rng.pick(ORDINARY_TESTS);
        if (!draft.has(test.code, date)) draft.add(test, date, 1);
      }
      if (rng.chance(0.3)) {
        const service = this.pickFitting(this.#restrictedServices, setting, draft, {
          dates: [date],
          quantity: 1,
        });
        if (service) draft.add(service, date, 1);
      }
    }
    if (department === 'tcm' || rng.chance(0.08)) this.tcmPrescription(setting, draft, date);
    for (let n = rng.int(1, 3); n > 0; n -= 1) {
      const daysSupply = rng.pick([3, 5, 7, 7, 14, 30, 30]);
      const plan = { dates: [date], quantity: rng.int(1, 3), daysSupply };
      const drug =
        (rng.chance(0.35) ? this.pickFitting(this.#restrictedDrugs, setting, draft, plan) : undefined) ??
        this.freshDrug(setting, draft, plan);
      draft.add(drug, date, plan.quantity, daysSupply);
    }
    if (visitType === 'emergency' && rng.chance(0.5)) {
      draft.add(ORDINARY.infusion, date, 1);
      draft.add(ORDINARY_CONSUMABLES[0] as OrdinaryItem, date, 1);
    }
  }

  /** Four to eight common pieces, sometimes with pieces payable only in a compound prescription. */
  tcmPrescription(setting: Setting, draft: ClaimDraft, date: string): void {
    const rng = this.rng;
    for (let n = rng.int(4, 8); n > 0; n -= 1) {
      const piece = rng.pick(ORDINARY_TCM);
      if (!draft.has(piece.code, date)) draft.add(piece, date, rng.int(6, 30));
    }
    if (rng.chance(0.4)) {
      const pool = this.codesOfClass('中药饮片单方使用不予支付');
      const plan = { dates: [date], quantity: 10, compoundTcm: true };
      const piece = this.pickFitting(pool, setting, draft, plan);
      if (piece) draft.add(piece, date, plan.quantity);
    }
  }

  /** Daily bed, ward round and nursing; drugs over part of the stay; tests on admission. */
  inpatientLines(setting: Setting, draft: ClaimDraft, day: number, stay: number, department: string): void {
    const rng = this.rng;
    const dates = Array.from({ length: stay }, (_, i) => fromEpochDay(day + i));
    const admission = dates[0] as string;
    for (const date of dates) {
      draft.add(ORDINARY.bed, date, 1);
      draft.add(ORDINARY.wardRound, date, 1);
      draft.add(ORDINARY.nursing, date, 1);
    }
    for (const test of [rng.pick(ORDINARY_TESTS), rng.pick(ORDINARY_TESTS)])
      if (!draft.has(test.code, admission)) draft.add(test, admission, 1);
    const service = this.pickFitting(this.#restrictedServices, setting, draft, {
      dates: [admission],
      quantity: 1,
    });
    if (service) draft.add(service, admission, 1);
    for (let n = rng.int(1, 3); n > 0; n -= 1) {
      const course = dates.slice(0, rng.int(Math.min(2, stay), stay));
      const plan = { dates: course, quantity: rng.int(1, 3) };
      const drug =
        (rng.chance(0.5) ? this.pickFitting(this.#restrictedDrugs, setting, draft, plan) : undefined) ??
        this.freshDrug(setting, draft, plan);
      for (const date of course) draft.add(drug, date, plan.quantity);
    }
    for (const date of dates) if (rng.chance(0.6)) draft.add(ORDINARY.infusion, date, 1);
    draft.add(ORDINARY_CONSUMABLES[3] as OrdinaryItem, admission, 1);
    if (department === 'tcm' && rng.chance(0.5)) this.tcmPrescription(setting, draft, admission);
  }

  // ---- emitting ------------------------------------------------------------------------------

  /**
   * Turn a draft into a Claim, record it in the patient's past and return it. `submittedDay` is
   * the day it is settled (after the last service date); `injected` lists the truth it carries.
   */
  emit(
    setting: Setting,
    draft: ClaimDraft,
    department: string,
    day: number,
    options: { submittedDay?: number; dischargeDay?: number; deathVisible?: boolean } = {},
  ): Claim {
    const rng = this.rng;
    const { patient, hospital, visitType } = setting;
    const dates = draft.dates;
    const lastDay = epochDay(dates[dates.length - 1] as string);
    this.#claimSeq += 1;
    this.#visitSeq += 1;
    const amount = round2(draft.items.reduce((s, i) => s + i.amount, 0));
    const ratio = { employee: 0.8, resident: 0.6, 'work-injury': 1, maternity: 0.9 }[patient.insuranceType];
    const fundPaid = round2(amount * ratio);
    const submittedDay = options.submittedDay ?? lastDay;
    const time = `${String(rng.int(8, 21)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}`;
    const diagnoses = DIAGNOSES[department] ?? DIAGNOSES.general ?? [];
    const claim: Claim = {
      claimId: `C${this.seed}-${String(this.#claimSeq).padStart(7, '0')}`,
      submittedAt: `${fromEpochDay(submittedDay)}T${time}Z`,
      patient: {
        insuredId: patient.insuredId,
        sex: patient.sex,
        birthDate: patient.birthDate,
        insuranceType: patient.insuranceType,
        deathDate: options.deathVisible && patient.deathDate ? patient.deathDate : null,
      },
      hospital: {
        hospitalId: hospital.hospitalId,
        level: hospital.level,
        region: hospital.region,
        internet: hospital.internet,
      },
      doctorId: `D-${hospital.hospitalId}-${String(rng.int(1, hospital.doctors)).padStart(2, '0')}`,
      visit: {
        visitId: `V${this.seed}-${String(this.#visitSeq).padStart(7, '0')}`,
        type: visitType,
        department,
        ...(visitType === 'inpatient'
          ? { admittedAt: fromEpochDay(day), dischargedAt: fromEpochDay(options.dischargeDay ?? lastDay) }
          : {}),
      },
      diagnoses: [
        { code: rng.pick(diagnoses), primary: true },
        ...(rng.chance(0.3) ? [{ code: rng.pick(DIAGNOSES.internal ?? []), primary: false }] : []),
      ],
      items: draft.items,
      totals: { amount, fundPaid, selfPaid: round2(amount - fundPaid) },
    };
    this.#remember(patient, draft);
    patient.availableFrom = Math.max(patient.availableFrom, lastDay + 1 + rng.int(0, 20));
    this.claims.push(claim);
    return claim;
  }

  #remember(patient: PatientState, draft: ClaimDraft): void {
    for (const item of draft.items) {
      if (item.category === 'drug' && item.daysSupply) {
        const end = epochDay(item.serviceDate) + item.daysSupply;
        const generic = genericOf(item.code);
        patient.supplyEnd.set(generic, Math.max(end, patient.supplyEnd.get(generic) ?? end));
      }
    }
    for (const [kpId, days] of draft.courseDays) {
      const past = patient.courseDays.get(kpId) ?? new Set<string>();
      for (const d of days) past.add(d);
      patient.courseDays.set(kpId, past);
    }
    for (const item of draft.items) {
      for (const kp of this.catalogue.pointsFor(item.code)?.values() ?? []) {
        if (kp.restriction?.kind !== 'cycle') continue;
        const day = epochDay(item.serviceDate);
        patient.cycleLast.set(kp.kpId, Math.max(day, patient.cycleLast.get(kp.kpId) ?? day));
      }
    }
  }

  inject(claim: Claim, ruleId: string, ruleClass: string, lineNos: number[]): void {
    this.truth.push({
      claimId: claim.claimId,
      ruleId,
      ruleClass,
      lineNos: [...lineNos].sort((a, b) => a - b),
    });
  }
}

/**
 * Generate a stream of `claims` claims over `days` days from `startDate`, about `violationRate` of
 * them with an injected violation, rotating through every rule the generator can inject.
 */
export function generateClaims(options: GenerateOptions, catalogue: Catalogue): Generated {
  const startDate = options.startDate ?? '2026-07-01';
  const days = options.days ?? 90;
  const { seed, claims: target, violationRate } = options;
  if (!Number.isInteger(target) || target < 0)
    throw new RangeError(`claims must be a whole number ≥ 0, got ${target}`);
  if (!(violationRate >= 0 && violationRate <= 1))
    throw new RangeError(`violationRate must be within 0–1, got ${violationRate}`);
  const wanted = options.ruleIds ? new Set(options.ruleIds) : undefined;
  const injectors = INJECTORS.filter((i) => !wanted || wanted.has(i.ruleId));
  const g = new Generator(seed, catalogue);
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
      injector.inject(g, day);
    } else {
      g.background(day);
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

/** The claims as NDJSON at `path`, the options and ground truth beside them at `path.truth.json`. */
export function writeGenerated(path: string, generated: Generated): void {
  writeFileSync(
    path,
    generated.claims.map((c) => JSON.stringify(c)).join('\n') + (generated.claims.length ? '\n' : ''),
  );
  writeFileSync(
    `${path}.truth.json`,
    `${JSON.stringify({ options: generated.options, injected: generated.truth }, null, 2)}\n`,
  );
}
