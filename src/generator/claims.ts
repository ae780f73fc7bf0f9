import type { CodeEdit } from '../catalogue/code-edits.ts';
import { genericOf, pharmacologicalSubgroupOf } from '../catalogue/codes.ts';
import type { Catalogue } from '../catalogue/index.ts';
import type { Claim, InsuranceType, Item, ItemCategory, Sex, VisitType } from '../contracts/claim.ts';
import type { Flag } from '../contracts/flag.ts';
import { ageInYears, epochDay, fromEpochDay } from '../dates.ts';
import { type HistoryClaim, toHistoryClaim } from '../history/store.ts';
import type { Screener } from '../rules/screen.ts';
import { Random } from './random.ts';
import { categoryOf, DIAGNOSES, type HospitalProfile, priceOf, round2 } from './world.ts';

/**
 * Writing claims: the patients, the lines of a claim under construction, the fit check that asks
 * the screener whether a line keeps the claim clean, and turning a draft into a Claim v1 in the
 * patient's past.
 */

/** One injected violation: the flag the rules core must raise. */
export interface InjectedViolation {
  claimId: string;
  ruleId: string;
  ruleClass: string;
  lineNos: number[];
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
  /** The patient's claims so far, as the history rules see them. */
  history: HistoryClaim[];
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
}

export interface Priced {
  code: string;
  name: string;
  category: ItemCategory;
  unitPrice: number;
}

/** The lines of one claim under construction, with what the fit check needs to know about them. */
export class ClaimDraft {
  readonly items: Item[] = [];
  readonly #codeDates = new Set<string>();
  readonly codes = new Set<string>();
  readonly generics = new Set<string>();

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
  /** Catalogue drugs with a knowledge point, for background lines that may carry one. */
  readonly restrictedDrugs: Priced[] = [];
  /** Catalogue services with a knowledge point. */
  readonly restrictedServices: Priced[] = [];
  #claimSeq = 0;
  #patientSeq = 0;
  #visitSeq = 0;

  constructor(
    readonly seed: number,
    readonly catalogue: Catalogue,
    /** The rules core: what it flags is not clean background. */
    readonly screener: Screener,
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
        if (category === 'drug') this.restrictedDrugs.push(priced);
        if (category === 'service') this.restrictedServices.push(priced);
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

  /** Drugs without a knowledge point in the pharmacological subgroup `subgroup`, for the 重复开药 injector. */
  textOnlyDrugsOf(subgroup: string): Priced[] {
    return this.#textOnlyDrugs.filter((d) => pharmacologicalSubgroupOf(d.code) === subgroup);
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
      history: [],
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
   * Whether billing `code` as planned keeps the claim clean — as the screener itself judges it,
   * with the patient's past as history — but for flags of `except`, the class an injector means
   * to break. The generator's own rule: a code is billed once a day and a generic once a claim.
   */
  async fits(
    code: string,
    setting: Setting,
    draft: ClaimDraft,
    plan: LinePlan,
    except?: string,
  ): Promise<boolean> {
    const flags = await this.flagsFor(code, setting, draft, plan);
    return flags?.every((f) => f.basis.ruleClass === except) ?? false;
  }

  /** The screener's flags on the draft with `code` billed as planned; undefined when the draft cannot take it. */
  async flagsFor(
    code: string,
    setting: Setting,
    draft: ClaimDraft,
    plan: LinePlan,
  ): Promise<Flag[] | undefined> {
    if (plan.dates.some((d) => draft.has(code, d))) return undefined;
    const item = this.priced(code);
    if (item.category === 'drug' && plan.daysSupply !== undefined && draft.generics.has(genericOf(code)))
      return undefined;
    const planned = plan.dates.map((date, k) => ({
      lineNo: draft.items.length + k + 1,
      code,
      name: item.name,
      category: item.category,
      quantity: plan.quantity,
      unitPrice: item.unitPrice,
      amount: round2(plan.quantity * item.unitPrice),
      serviceDate: date,
      ...(plan.daysSupply === undefined ? {} : { daysSupply: plan.daysSupply }),
    }));
    const trial = trialClaim(setting, [...draft.items, ...planned]);
    const { flags } = await this.screener.screen(trial, {
      stage: 'in',
      now: TRIAL_TIME,
      history: setting.patient.history,
    });
    return flags;
  }

  /** A catalogue code from `pool` that fits, or undefined after a few tries. */
  async pickFitting(
    pool: readonly Priced[],
    setting: Setting,
    draft: ClaimDraft,
    plan: LinePlan,
  ): Promise<Priced | undefined> {
    for (let tries = 0; tries < 6 && pool.length; tries += 1) {
      const candidate = this.rng.pick(pool);
      if (await this.fits(candidate.code, setting, draft, plan)) return candidate;
    }
    return undefined;
  }

  /** An unrestricted drug the claim can take as planned (flags of `except` allowed, for an injector). */
  async freshDrug(setting: Setting, draft: ClaimDraft, plan: LinePlan, except?: string): Promise<Priced> {
    for (let tries = 0; tries < 1_000; tries += 1) {
      const drug = this.textOnlyDrug();
      if (await this.fits(drug.code, setting, draft, plan, except)) return drug;
    }
    throw new Error(
      `no unrestricted drug keeps claim lines ${draft.items.length} clean: the draft itself is flagged`,
    );
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
    // A department's diagnoses that fit the patient's sex and age by rules/reference (a gynecology
    // patient of 70 has no delivery diagnosis), so the background stays clean.
    const serviceDate = dates[0] ?? fromEpochDay(day);
    const fitting = (DIAGNOSES[department] ?? []).filter((code) =>
      this.fitsPatient(this.catalogue.diagnosisEditsOf(code), patient, serviceDate),
    );
    const diagnoses = fitting.length ? fitting : (DIAGNOSES.general ?? []);
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
    patient.history.push(toHistoryClaim(claim));
    patient.availableFrom = Math.max(patient.availableFrom, lastDay + 1 + rng.int(0, 20));
    this.claims.push(claim);
    return claim;
  }

  /** Whether a patient fits every sex and age edit of a code (rules/reference) on `date`. */
  fitsPatient(edits: readonly CodeEdit[], patient: PatientState, date: string): boolean {
    const age = ageInYears(patient.birthDate, date);
    return edits.every((e) =>
      e.edit === 'sex' ? e.sex === patient.sex : age >= (e.minAgeYears ?? 0) && age <= (e.maxAgeYears ?? 150),
    );
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

const TRIAL_TIME = new Date('2026-01-01T00:00:00Z');

/** The claim a draft would become, for the screener to judge before a line is added for real. */
function trialClaim(setting: Setting, items: Item[]): Claim {
  const { patient, hospital, visitType } = setting;
  const dates = items.map((i) => i.serviceDate).sort();
  const first = dates[0] ?? '2026-01-01';
  const last = dates[dates.length - 1] ?? first;
  const amount = round2(items.reduce((s, i) => s + i.amount, 0));
  return {
    claimId: 'C-GENERATOR-TRIAL',
    submittedAt: `${last}T00:00:00Z`,
    patient: {
      insuredId: patient.insuredId,
      sex: patient.sex,
      birthDate: patient.birthDate,
      insuranceType: patient.insuranceType,
      deathDate: null,
    },
    hospital: {
      hospitalId: hospital.hospitalId,
      level: hospital.level,
      region: hospital.region,
      internet: hospital.internet,
    },
    doctorId: 'D-GENERATOR-TRIAL',
    visit: {
      visitId: 'V-GENERATOR-TRIAL',
      type: visitType,
      department: 'general',
      ...(visitType === 'inpatient' ? { admittedAt: first, dischargedAt: last } : {}),
    },
    diagnoses: [{ code: 'Z00.000', primary: true }],
    items,
    totals: { amount, fundPaid: amount, selfPaid: 0 },
  };
}
