import { type Claim, serviceSpan, type VisitType } from '../contracts/claim.ts';
import { ageInYears, fromEpochDay } from '../dates.ts';
import { ClaimDraft, type Generator, type PatientState, type Setting } from './claims.ts';
import {
  HOSPITALS,
  type HospitalProfile,
  ORDINARY,
  ORDINARY_CONSUMABLES,
  ORDINARY_TCM,
  ORDINARY_TESTS,
  type OrdinaryItem,
  PROCEDURES,
  VISIT_MIX,
} from './world.ts';

/**
 * The clean background of a stream: ordinary visits and stays as hospitals bill them, with
 * catalogue-restricted drugs and services only where the screener finds the claim still clean.
 */

function hospitalFor(g: Generator, internet: boolean): HospitalProfile {
  if (internet) return g.rng.pick(HOSPITALS.filter((h) => h.internet));
  const level = g.rng.weighted<1 | 2 | 3>([
    [3, 40],
    [2, 35],
    [1, 25],
  ]);
  return g.rng.pick(HOSPITALS.filter((h) => h.level === level && !h.internet));
}

function departmentFor(g: Generator, patient: PatientState, day: number, visitType: VisitType): string {
  const age = ageInYears(patient.birthDate, fromEpochDay(day));
  if (age < 14) return 'pediatrics';
  if (patient.insuranceType === 'maternity') return 'gynecology';
  if (patient.insuranceType === 'work-injury') return 'orthopedics';
  if (visitType === 'internet') return 'internal';
  return g.rng.weighted<string>([
    ['internal', 35],
    ['general', 25],
    [patient.sex === 'F' ? 'gynecology' : 'urology', 8],
    ['orthopedics', 10],
    ['oncology', 7],
    ['tcm', 15],
  ]);
}

/** A clean claim starting on `day`. */
export async function background(g: Generator, day: number): Promise<void> {
  const internet = g.rng.chance(0.06);
  const visitType: VisitType = internet ? 'internet' : g.rng.weighted(VISIT_MIX);
  const stay = visitType !== 'inpatient' ? 1 : g.rng.chance(0.7) ? g.rng.int(2, 6) : g.rng.int(7, 12);
  const patient = g.patientFor(day, day + stay - 1);
  const setting: Setting = { patient, hospital: hospitalFor(g, internet), visitType };
  const draft = new ClaimDraft(g.catalogue);
  const department = departmentFor(g, patient, day, visitType);
  if (visitType === 'inpatient') await inpatientLines(g, setting, draft, day, stay, department);
  else await visitLines(g, setting, draft, fromEpochDay(day), department);
  const claim = g.emit(setting, draft, department, day);
  if (visitType === 'inpatient') withProcedure(g, claim, patient, department);
}

/** A stay's settlement-list procedure, one the patient's sex fits, on its first day. */
function withProcedure(g: Generator, claim: Claim, patient: PatientState, department: string): void {
  const [date] = serviceSpan(claim);
  const codes = (PROCEDURES[department] ?? []).filter((code) =>
    g.fitsPatient(g.catalogue.procedureEditsOf(code), patient, date),
  );
  if (codes.length && g.rng.chance(0.7))
    claim.procedures = [{ code: g.rng.pick(codes), primary: true, date }];
}

/** Consultation, a test or two, drugs with their supply, sometimes TCM and consumables. */
async function visitLines(
  g: Generator,
  setting: Setting,
  draft: ClaimDraft,
  date: string,
  department: string,
): Promise<void> {
  const rng = g.rng;
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
      const service = await g.pickFitting(g.restrictedServices, setting, draft, {
        dates: [date],
        quantity: 1,
      });
      if (service) draft.add(service, date, 1);
    }
  }
  if (department === 'tcm' || rng.chance(0.08)) await tcmPrescription(g, setting, draft, date);
  for (let n = rng.int(1, 3); n > 0; n -= 1) {
    const daysSupply = rng.pick([3, 5, 7, 7, 14, 30, 30]);
    const plan = { dates: [date], quantity: rng.int(1, 3), daysSupply };
    const drug =
      (rng.chance(0.35) ? await g.pickFitting(g.restrictedDrugs, setting, draft, plan) : undefined) ??
      (await g.freshDrug(setting, draft, plan));
    draft.add(drug, date, plan.quantity, daysSupply);
  }
  if (visitType === 'emergency' && rng.chance(0.5)) {
    draft.add(ORDINARY.infusion, date, 1);
    draft.add(ORDINARY_CONSUMABLES[0] as OrdinaryItem, date, 1);
  }
}

/** Four to eight common pieces, sometimes with pieces payable only in a compound prescription. */
async function tcmPrescription(
  g: Generator,
  setting: Setting,
  draft: ClaimDraft,
  date: string,
): Promise<void> {
  const rng = g.rng;
  for (let n = rng.int(4, 8); n > 0; n -= 1) {
    const piece = rng.pick(ORDINARY_TCM);
    if (!draft.has(piece.code, date)) draft.add(piece, date, rng.int(6, 30));
  }
  if (rng.chance(0.4)) {
    const pool = g.codesOfClass('中药饮片单方使用不予支付');
    const plan = { dates: [date], quantity: 10 };
    const piece = await g.pickFitting(pool, setting, draft, plan);
    if (piece) draft.add(piece, date, plan.quantity);
  }
}

/** Daily bed, ward round and nursing; drugs over part of the stay; tests on admission. */
async function inpatientLines(
  g: Generator,
  setting: Setting,
  draft: ClaimDraft,
  day: number,
  stay: number,
  department: string,
): Promise<void> {
  const rng = g.rng;
  const dates = Array.from({ length: stay }, (_, i) => fromEpochDay(day + i));
  const admission = dates[0] as string;
  for (const date of dates) {
    draft.add(ORDINARY.bed, date, 1);
    draft.add(ORDINARY.wardRound, date, 1);
    draft.add(ORDINARY.nursing, date, 1);
  }
  for (const test of [rng.pick(ORDINARY_TESTS), rng.pick(ORDINARY_TESTS)])
    if (!draft.has(test.code, admission)) draft.add(test, admission, 1);
  const service = await g.pickFitting(g.restrictedServices, setting, draft, {
    dates: [admission],
    quantity: 1,
  });
  if (service) draft.add(service, admission, 1);
  for (let n = rng.int(1, 3); n > 0; n -= 1) {
    const course = dates.slice(0, rng.int(Math.min(2, stay), stay));
    const plan = { dates: course, quantity: rng.int(1, 3) };
    const drug =
      (rng.chance(0.5) ? await g.pickFitting(g.restrictedDrugs, setting, draft, plan) : undefined) ??
      (await g.freshDrug(setting, draft, plan));
    for (const date of course) draft.add(drug, date, plan.quantity);
  }
  for (const date of dates) if (rng.chance(0.6)) draft.add(ORDINARY.infusion, date, 1);
  draft.add(ORDINARY_CONSUMABLES[3] as OrdinaryItem, admission, 1);
  if (department === 'tcm' && rng.chance(0.5)) await tcmPrescription(g, setting, draft, admission);
}
