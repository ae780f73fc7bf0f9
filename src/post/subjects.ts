import { z } from 'zod';
import { genericOf } from '../catalogue/codes.ts';
import { type Claim, serviceSpan } from '../contracts/claim.ts';
import type { RuleFile } from '../contracts/rule.ts';
import { epochDay } from '../dates.ts';
import { type PlannedCycles, plannedCycleFor } from './policy.ts';

/**
 * Period subjects: what a post-event rule's conditions judge. Each kind is one module-shaped entry
 * (its level, the facts it offers with a schema the rule lint checks paths against, and a pure
 * builder), so it can become a module of the rules core's subject registry. Builders only shape
 * data — pair stays, count days in the densest window — every judgment sits in the rule file.
 */

export type Params = Readonly<RuleFile['params']>;

/** One thing a period rule judges, about a patient's claims. */
export interface PatientSubject {
  fact: Record<string, unknown>;
  /** The claim the flag is raised on (the latest involved, or the one whose lines are at risk). */
  claim: Claim;
  /** The other claims involved, for `relatedClaimIds`. */
  related: readonly Claim[];
  lineNos: number[];
  amountAtRisk: number;
}

export interface PatientSubjectContext {
  params: Params;
  plannedCycles: PlannedCycles;
}

export interface PatientSubjectKind {
  level: 'patient';
  /** What the conditions may read as the `subject` fact. */
  facts: z.ZodObject;
  /** The params the builder itself reads (window lengths), which the rule file must set. */
  params: readonly string[];
  build(claims: readonly Claim[], ctx: PatientSubjectContext): PatientSubject[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const primaryOf = (c: Claim): string | undefined =>
  (c.diagnoses.find((d) => d.primary) ?? c.diagnoses[0])?.code;
/** ICD-10 category: the first three characters (`E11.900` → `E11`). */
export const categoryOf = (code: string | undefined): string | undefined => code?.slice(0, 3);
const allLines = (c: Claim): number[] => c.items.map((i) => i.lineNo);
const byClaimId = (a: Claim, b: Claim): number =>
  a.claimId < b.claimId ? -1 : a.claimId > b.claimId ? 1 : 0;

interface Stay {
  claim: Claim;
  admitted: number;
  discharged: number;
}

/** A patient's inpatient stays by admission day (then claim id, so the order is total). */
function staysOf(claims: readonly Claim[]): Stay[] {
  const stays: Stay[] = [];
  for (const claim of claims) {
    const { type, admittedAt, dischargedAt } = claim.visit;
    if (type !== 'inpatient' || !admittedAt || !dischargedAt) continue;
    stays.push({ claim, admitted: epochDay(admittedAt), discharged: epochDay(dischargedAt) });
  }
  return stays.sort((a, b) => a.admitted - b.admitted || byClaimId(a.claim, b.claim));
}

/** The densest run of `days` (sorted ascending) within `windowDays` consecutive days. */
function densestWindow<T>(
  events: readonly { day: number; value: T }[],
  windowDays: number,
): { count: number; from: number; to: number; values: T[] } {
  // The best window's bounds only; its values are copied once, at the end (this runs per patient).
  let count = 0;
  let bestLeft = 0;
  let bestRight = -1;
  let left = 0;
  for (let right = 0; right < events.length; right++) {
    const r = events[right] as { day: number; value: T };
    while ((events[left]?.day ?? r.day) <= r.day - windowDays) left++;
    if (right - left + 1 > count) {
      count = right - left + 1;
      bestLeft = left;
      bestRight = right;
    }
  }
  if (bestRight < 0) return { count: 0, from: 0, to: 0, values: [] };
  const window = events.slice(bestLeft, bestRight + 1);
  return {
    count,
    from: (window[0] as { day: number }).day,
    to: (events[bestRight] as { day: number }).day,
    values: window.map((e) => e.value),
  };
}

/** ISO dates by epoch day: a month's audit formats the same few hundred days millions of times. */
const isoDays = new Map<number, string>();
const isoOf = (day: number): string => {
  let iso = isoDays.get(day);
  if (iso === undefined) {
    iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
    if (isoDays.size < 100_000) isoDays.set(day, iso);
  }
  return iso;
};

function numberParam(params: Params, name: string): number {
  const value = params[name];
  if (typeof value !== 'number') throw new TypeError(`params.${name} must be a number`);
  return value;
}

/** 分解住院: each stay against the patient's previous stay at the same hospital. */
const readmission: PatientSubjectKind = {
  level: 'patient',
  params: [],
  facts: z.object({
    hospitalId: z.string(),
    gapDays: z.number(),
    previousAdmittedAt: z.string(),
    previousDischargedAt: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    diagnosis: z.string(),
    previousDiagnosis: z.string(),
    sameDiagnosisCategory: z.boolean(),
    plannedCycle: z.boolean(),
  }),
  build(claims, { plannedCycles }) {
    const subjects: PatientSubject[] = [];
    const lastAt = new Map<string, Stay>();
    for (const stay of staysOf(claims)) {
      const hospitalId = stay.claim.hospital.hospitalId;
      const previous = lastAt.get(hospitalId);
      lastAt.set(hospitalId, stay);
      if (!previous) continue;
      const diagnosis = primaryOf(stay.claim) ?? '';
      const previousDiagnosis = primaryOf(previous.claim) ?? '';
      subjects.push({
        fact: {
          hospitalId,
          gapDays: stay.admitted - previous.discharged,
          previousAdmittedAt: previous.claim.visit.admittedAt,
          previousDischargedAt: previous.claim.visit.dischargedAt,
          admittedAt: stay.claim.visit.admittedAt,
          dischargedAt: stay.claim.visit.dischargedAt,
          diagnosis,
          previousDiagnosis,
          sameDiagnosisCategory: !!diagnosis && categoryOf(diagnosis) === categoryOf(previousDiagnosis),
          plannedCycle: plannedCycleFor(plannedCycles, diagnosis) !== undefined,
        },
        claim: stay.claim,
        related: [previous.claim],
        lineNos: allLines(stay.claim),
        amountAtRisk: stay.claim.totals.amount,
      });
    }
    return subjects;
  },
};

/** 频繁住院: the patient's admissions outside planned cycles in the densest `params.windowDays` window. */
const admissionWindow: PatientSubjectKind = {
  level: 'patient',
  params: ['windowDays'],
  facts: z.object({ count: z.number(), windowDays: z.number(), from: z.string(), to: z.string() }),
  build(claims, { params, plannedCycles }) {
    // A chemotherapy patient's cycles are planned admissions: they are not what 频繁住院 is about.
    const stays = staysOf(claims).filter((s) => !plannedCycleFor(plannedCycles, primaryOf(s.claim)));
    if (!stays.length) return [];
    const windowDays = numberParam(params, 'windowDays');
    const w = densestWindow(
      stays.map((s) => ({ day: s.admitted, value: s.claim })),
      windowDays,
    );
    return [windowSubject(w, windowDays)];
  },
};

function windowSubject(
  w: { count: number; from: number; to: number; values: Claim[] },
  windowDays: number,
  extra: Record<string, unknown> = {},
): PatientSubject {
  const latest = w.values[w.values.length - 1] as Claim;
  return {
    fact: { count: w.count, windowDays, from: isoOf(w.from), to: isoOf(w.to), ...extra },
    claim: latest,
    related: [...new Set(w.values.slice(0, -1))].filter((c) => c !== latest),
    lineNos: allLines(latest),
    amountAtRisk: latest.totals.amount,
  };
}

/** 频繁门诊: distinct outpatient and emergency visits in the densest `params.windowDays` window. */
const visitWindow: PatientSubjectKind = {
  level: 'patient',
  params: ['windowDays'],
  facts: z.object({ count: z.number(), windowDays: z.number(), from: z.string(), to: z.string() }),
  build(claims, { params }) {
    const visits = new Map<string, { day: number; value: Claim }>();
    for (const claim of claims) {
      if (claim.visit.type !== 'outpatient' && claim.visit.type !== 'emergency') continue;
      const day = epochDay(serviceSpan(claim)[0]);
      const known = visits.get(claim.visit.visitId);
      // A visit billed in several claims counts once, on its first day, under its latest claim.
      if (!known || day < known.day) visits.set(claim.visit.visitId, { day, value: claim });
    }
    if (!visits.size) return [];
    const windowDays = numberParam(params, 'windowDays');
    const events = [...visits.values()].sort((a, b) => a.day - b.day || byClaimId(a.value, b.value));
    return [windowSubject(densestWindow(events, windowDays), windowDays)];
  },
};

/** 频繁购药: per generic drug, the distinct days it was bought in the densest window, at any hospital. */
const drugWindow: PatientSubjectKind = {
  level: 'patient',
  params: ['windowDays'],
  facts: z.object({
    generic: z.string(),
    name: z.string(),
    count: z.number(),
    windowDays: z.number(),
    from: z.string(),
    to: z.string(),
    hospitals: z.number(),
  }),
  build(claims, { params }) {
    const windowDays = numberParam(params, 'windowDays');
    const byGeneric = new Map<string, Map<number, Claim>>();
    const names = new Map<string, string>();
    for (const claim of claims) {
      for (const item of claim.items) {
        if (item.category !== 'drug') continue;
        const generic = genericOf(item.code);
        const days = byGeneric.get(generic) ?? new Map<number, Claim>();
        const day = epochDay(item.serviceDate);
        const known = days.get(day);
        if (!known || byClaimId(known, claim) < 0) days.set(day, claim);
        byGeneric.set(generic, days);
        names.set(generic, item.name);
      }
    }
    const subjects: PatientSubject[] = [];
    for (const [generic, days] of byGeneric) {
      const events = [...days].map(([day, value]) => ({ day, value })).sort((a, b) => a.day - b.day);
      const w = densestWindow(events, windowDays);
      const latest = w.values[w.values.length - 1] as Claim;
      const lines = latest.items.filter((i) => i.category === 'drug' && genericOf(i.code) === generic);
      subjects.push({
        ...windowSubject(w, windowDays, {
          generic,
          name: names.get(generic) ?? generic,
          hospitals: new Set(w.values.map((c) => c.hospital.hospitalId)).size,
        }),
        lineNos: lines.map((i) => i.lineNo),
        amountAtRisk: round2(lines.reduce((s, i) => s + i.amount, 0)),
      });
    }
    return subjects;
  },
};

/** 住院时间重叠: pairs of stays where the later-admitted one begins no later than the other's discharge. */
const overlappingStay: PatientSubjectKind = {
  level: 'patient',
  params: [],
  facts: z.object({
    overlapDays: z.number(),
    hospitalId: z.string(),
    otherHospitalId: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    otherAdmittedAt: z.string(),
    otherDischargedAt: z.string(),
  }),
  build(claims) {
    const stays = staysOf(claims);
    const subjects: PatientSubject[] = [];
    for (let j = 1; j < stays.length; j++) {
      const later = stays[j] as Stay;
      for (let i = 0; i < j; i++) {
        const earlier = stays[i] as Stay;
        if (later.admitted > earlier.discharged) continue;
        subjects.push({
          fact: {
            overlapDays: Math.min(earlier.discharged, later.discharged) - later.admitted,
            hospitalId: later.claim.hospital.hospitalId,
            otherHospitalId: earlier.claim.hospital.hospitalId,
            admittedAt: later.claim.visit.admittedAt,
            dischargedAt: later.claim.visit.dischargedAt,
            otherAdmittedAt: earlier.claim.visit.admittedAt,
            otherDischargedAt: earlier.claim.visit.dischargedAt,
          },
          claim: later.claim,
          related: [earlier.claim],
          lineNos: allLines(later.claim),
          amountAtRisk: later.claim.totals.amount,
        });
      }
    }
    return subjects;
  },
};

const OUTSIDE_STAY_TYPES = new Set(['outpatient', 'pharmacy', 'internet']);

/**
 * 挂床: an outpatient, pharmacy or internet claim dated within one of the patient's stays. The
 * flag sits on that claim (its lines are what the bed-hanging patient billed), the stay related.
 */
const stayOutpatient: PatientSubjectKind = {
  level: 'patient',
  params: [],
  facts: z.object({
    date: z.string(),
    visitType: z.string(),
    hospitalId: z.string(),
    stayHospitalId: z.string(),
    admittedAt: z.string(),
    dischargedAt: z.string(),
    daysAfterAdmission: z.number(),
    daysBeforeDischarge: z.number(),
  }),
  build(claims) {
    const stays = staysOf(claims);
    if (!stays.length) return [];
    const subjects: PatientSubject[] = [];
    for (const claim of claims) {
      if (!OUTSIDE_STAY_TYPES.has(claim.visit.type)) continue;
      const [date] = serviceSpan(claim);
      const day = epochDay(date);
      for (const stay of stays) {
        if (day < stay.admitted || day > stay.discharged) continue;
        subjects.push({
          fact: {
            date,
            visitType: claim.visit.type,
            hospitalId: claim.hospital.hospitalId,
            stayHospitalId: stay.claim.hospital.hospitalId,
            admittedAt: stay.claim.visit.admittedAt,
            dischargedAt: stay.claim.visit.dischargedAt,
            daysAfterAdmission: day - stay.admitted,
            daysBeforeDischarge: stay.discharged - day,
          },
          claim,
          related: [stay.claim],
          lineNos: allLines(claim),
          amountAtRisk: claim.totals.amount,
        });
      }
    }
    return subjects;
  },
};

/**
 * Services after a death another claim records: each claim that does not carry the death date
 * itself (those are the claim-scope rule's) measured against the earliest one any claim carries.
 */
const afterDeathAcross: PatientSubjectKind = {
  level: 'patient',
  params: [],
  facts: z.object({
    deathDate: z.string(),
    deathClaimId: z.string(),
    daysAfterDeath: z.number(),
    firstDateAfterDeath: z.string().nullable(),
    names: z.string(),
  }),
  build(claims) {
    let death: { date: string; claim: Claim } | undefined;
    for (const claim of claims) {
      const date = claim.patient.deathDate;
      if (date && (!death || date < death.date)) death = { date, claim };
    }
    if (!death) return [];
    const subjects: PatientSubject[] = [];
    for (const claim of claims) {
      if (claim.patient.deathDate) continue;
      const after = claim.items.filter((i) => i.serviceDate > (death?.date ?? ''));
      const [, last] = serviceSpan(claim);
      subjects.push({
        fact: {
          deathDate: death.date,
          deathClaimId: death.claim.claimId,
          daysAfterDeath: epochDay(last) - epochDay(death.date),
          firstDateAfterDeath: after.map((i) => i.serviceDate).sort()[0] ?? null,
          names: [...new Set(after.map((i) => i.name))].join('、'),
        },
        claim,
        related: [death.claim],
        lineNos: after.map((i) => i.lineNo),
        amountAtRisk: round2(after.reduce((s, i) => s + i.amount, 0)),
      });
    }
    return subjects;
  },
};

export const PATIENT_SUBJECTS = {
  readmission,
  admissionWindow,
  visitWindow,
  drugWindow,
  overlappingStay,
  stayOutpatient,
  afterDeathAcross,
} as const satisfies Record<string, PatientSubjectKind>;

/** Subjects of a hospital or a doctor over the period, built in the reduce from merged aggregates. */
export const PEER_SUBJECTS = {
  /** A doctor's distinct outpatient patients on one day. */
  doctorDay: z.object({
    doctorId: z.string(),
    hospitalId: z.string(),
    date: z.string(),
    patients: z.number(),
  }),
  /** One statistical indicator of a hospital or doctor against peers of the same level. */
  peerIndicator: z.object({
    kind: z.string(),
    kindName: z.string(),
    id: z.string(),
    level: z.number(),
    indicator: z.string(),
    label: z.string(),
    value: z.number(),
    valueText: z.string(),
    peerMedian: z.number(),
    peerMedianText: z.string(),
    peerMad: z.number(),
    madsAboveMedian: z.number().nullable(),
    ratioToMedian: z.number().nullable(),
    /** Yuan above what the peer median would have cost (0 for the readmission rate). */
    excessAmount: z.number(),
    cases: z.number(),
    peers: z.number(),
  }),
} as const;

export type PatientSubjectName = keyof typeof PATIENT_SUBJECTS;
export type PeerSubjectName = keyof typeof PEER_SUBJECTS;
export const PERIOD_SUBJECT_NAMES = [
  ...(Object.keys(PATIENT_SUBJECTS) as PatientSubjectName[]),
  ...(Object.keys(PEER_SUBJECTS) as PeerSubjectName[]),
] as [PatientSubjectName | PeerSubjectName, ...(PatientSubjectName | PeerSubjectName)[]];

/** The facts schema a period subject offers, for the lint. */
export function subjectFacts(name: PatientSubjectName | PeerSubjectName): z.ZodObject {
  return name in PATIENT_SUBJECTS
    ? PATIENT_SUBJECTS[name as PatientSubjectName].facts
    : PEER_SUBJECTS[name as PeerSubjectName];
}
