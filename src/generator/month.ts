import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { genericOf, pharmacologicalSubgroupOf } from '../catalogue/codes.ts';
import type { Catalogue } from '../catalogue/index.ts';
import type { Claim, InsuranceType, Item, Sex, VisitType } from '../contracts/claim.ts';
import { addDays, epochDay, fromEpochDay } from '../dates.ts';
import type { Screener } from '../rules/screen.ts';
import { Generator as ClaimGenerator, type Priced } from './claims.ts';
import { Random } from './random.ts';
import { DIAGNOSES, ORDINARY, ORDINARY_CONSUMABLES, ORDINARY_TESTS, type OrdinaryItem } from './world.ts';

/**
 * A city's month of claims for the post-event audit: hospitals of every level with their doctors,
 * patients with acute visits, pharmacy purchases and inpatient stays, chronic patients who come
 * back, planned chemotherapy cycles, clean readmissions — and, on patients of their own, every
 * period pattern the audit must find, with its ground truth. The background is clean for the
 * period rules by construction (distinct service dates per patient, no stays overlapping a visit,
 * readmissions past the split-admission window or for another diagnosis) and for the claim rules
 * (ordinary items and unrestricted drugs only, no supply days).
 */

export interface MonthOptions {
  seed: number;
  /** `YYYY-MM`. */
  period: string;
  /** About how many claims; the injected patterns come on top. */
  claims: number;
  /** Hospitals per level (1, 2, 3); scaled to the claims when absent. */
  hospitalsPerLevel?: number;
  /** Hospitals whose cost per case and drug share are far above their peers' (0–2). */
  outlierHospitals?: number;
  /** Copies of each injected period pattern. */
  injectionsPerPattern?: number;
}

/** One injected pattern: the flag the audit must raise, on a claim or on a hospital or doctor. */
export interface MonthTruth {
  ruleId: string;
  claimId?: string;
  relatedClaimIds?: string[];
  subject?: { kind: 'hospital' | 'doctor'; id: string };
}

export interface MonthHospital {
  hospitalId: string;
  level: 1 | 2 | 3;
  region: string;
  doctors: string[];
  outlier: boolean;
}

/** What the month needs of the rules core: the catalogue's unrestricted drugs. */
export interface MonthCore {
  catalogue: Catalogue;
  screener: Screener;
}

export interface MonthWorld {
  hospitals: MonthHospital[];
  /** Patients on planned chemotherapy cycles, whose readmissions must not be flagged. */
  chemoPatients: string[];
}

/** Imaging items the statistical indicators count (CT, MRI), outside the catalogue like world.ts's. */
const IMAGING: readonly OrdinaryItem[] = [
  { code: '001905000010000', name: 'X线计算机体层(CT)平扫', category: 'service', unitPrice: 160 },
  { code: '001905000020000', name: '磁共振成像(MR)平扫', category: 'service', unitPrice: 420 },
];
export const MONTH_ITEMS: readonly OrdinaryItem[] = IMAGING;

const ROUTINE_DEPARTMENTS = ['internal', 'general', 'orthopedics', 'tcm'] as const;
const round2 = (n: number): number => Math.round(n * 100) / 100;

interface Patient {
  insuredId: string;
  sex: Sex;
  birthDate: string;
  insuranceType: InsuranceType;
  /** Epoch days this patient already has a claim on. */
  busy: Set<number>;
}

/** The month generator; `claims()` yields each patient's claims together. */
export class MonthGenerator {
  readonly rng: Random;
  readonly world: MonthWorld;
  readonly truth: MonthTruth[] = [];
  readonly #drugs: Priced[];
  readonly #first: number;
  readonly #days: number;
  #patientSeq = 0;
  #claimSeq = 0;
  #visitSeq = 0;

  constructor(
    readonly options: MonthOptions,
    core: MonthCore,
  ) {
    this.rng = new Random(options.seed);
    this.#first = epochDay(`${options.period}-01`);
    this.#days = epochDay(addDays(`${options.period}-28`, 4).slice(0, 7) + '-01') - this.#first;
    // Unrestricted drugs, one per generic, from the catalogue (no knowledge point judges them).
    const picker = new ClaimGenerator(options.seed, core.catalogue, core.screener);
    const byGeneric = new Map<string, Priced>();
    for (let i = 0; i < 400 && byGeneric.size < 60; i++) {
      const d = picker.textOnlyDrug();
      if (!byGeneric.has(genericOf(d.code))) byGeneric.set(genericOf(d.code), d);
    }
    this.#drugs = [...byGeneric.values()];
    const perLevel = options.hospitalsPerLevel ?? Math.max(10, Math.round(options.claims / 36_000));
    const hospitals: MonthHospital[] = [];
    const share: Record<1 | 2 | 3, number> = { 3: 0.45, 2: 0.35, 1: 0.2 };
    for (const level of [3, 2, 1] as const) {
      for (let i = 1; i <= perLevel; i++) {
        const hospitalId = `H${level}${String(i).padStart(3, '0')}`;
        const claimsHere = (options.claims * share[level]) / perLevel;
        // About 20 claims a doctor a working day, far below the impossible-day threshold.
        const doctors = Math.max(2, Math.ceil(claimsHere / (this.#days * 20)));
        hospitals.push({
          hospitalId,
          level,
          region: `1201${String(i % 100).padStart(2, '0')}`,
          doctors: Array.from(
            { length: doctors },
            (_, d) => `D${hospitalId.slice(1)}-${String(d + 1).padStart(3, '0')}`,
          ),
          outlier: false,
        });
      }
    }
    const outliers = Math.min(2, options.outlierHospitals ?? 1);
    for (let i = 0; i < outliers; i++) {
      const h = hospitals.find((x) => x.level === 2 && !x.outlier && x.hospitalId.endsWith(String(i + 1)));
      if (h) h.outlier = true;
    }
    this.world = { hospitals, chemoPatients: [] };
  }

  get period(): string {
    return this.options.period;
  }

  #day(offset: number): string {
    return fromEpochDay(this.#first + offset);
  }

  #patient(traits: { minAge?: number; maxAge?: number } = {}): Patient {
    const rng = this.rng;
    this.#patientSeq += 1;
    const age = rng.int(traits.minAge ?? 1, traits.maxAge ?? 88);
    const sex: Sex = rng.chance(0.5) ? 'F' : 'M';
    return {
      insuredId: `P${this.options.seed}-${String(this.#patientSeq).padStart(7, '0')}`,
      sex,
      birthDate: fromEpochDay(this.#first - age * 365 - rng.int(30, 330)),
      insuranceType: age >= 18 && age < 60 ? 'employee' : 'resident',
      busy: new Set(),
    };
  }

  #hospital(level?: 1 | 2 | 3, except?: string): MonthHospital {
    const lvl =
      level ??
      this.rng.weighted<1 | 2 | 3>([
        [3, 45],
        [2, 35],
        [1, 20],
      ]);
    const list = this.world.hospitals.filter((h) => h.level === lvl && h.hospitalId !== except);
    return this.rng.pick(list);
  }

  /** A free day offset for the patient in [from, to], or undefined. */
  #freeDay(p: Patient, from: number, to: number): number | undefined {
    for (let tries = 0; tries < 12; tries++) {
      const d = this.rng.int(from, to);
      if (!p.busy.has(this.#first + d)) return d;
    }
    return undefined;
  }

  #claim(
    p: Patient,
    h: MonthHospital,
    type: VisitType,
    department: string,
    diagnoses: string[],
    items: Omit<Item, 'lineNo' | 'amount'>[],
    stay?: { admittedAt: string; dischargedAt: string },
    extra: { doctorId?: string; deathDate?: string; submittedAt?: string } = {},
  ): Claim {
    this.#claimSeq += 1;
    this.#visitSeq += 1;
    const lines: Item[] = items.map((it, i) => ({
      ...it,
      lineNo: i + 1,
      amount: round2(it.quantity * it.unitPrice),
    }));
    const amount = round2(lines.reduce((s, i) => s + i.amount, 0));
    const fundPaid = round2(amount * (type === 'inpatient' ? 0.8 : 0.6));
    const settledOn =
      stay?.dischargedAt ??
      lines
        .map((l) => l.serviceDate)
        .sort()
        .at(-1) ??
      `${this.period}-01`;
    for (const l of lines) p.busy.add(epochDay(l.serviceDate));
    if (stay) for (let d = epochDay(stay.admittedAt); d <= epochDay(stay.dischargedAt); d++) p.busy.add(d);
    const minute = this.rng.int(8 * 60, 19 * 60);
    return {
      claimId: `C${this.options.seed}-${this.period.replace('-', '')}-${String(this.#claimSeq).padStart(8, '0')}`,
      submittedAt:
        extra.submittedAt ??
        `${settledOn}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:${String(this.rng.int(0, 59)).padStart(2, '0')}Z`,
      patient: {
        insuredId: p.insuredId,
        sex: p.sex,
        birthDate: p.birthDate,
        insuranceType: p.insuranceType,
        deathDate: extra.deathDate ?? null,
      },
      hospital: { hospitalId: h.hospitalId, level: h.level, region: h.region, internet: false },
      doctorId: extra.doctorId ?? this.rng.pick(h.doctors),
      visit: {
        visitId: `V${this.options.seed}-${String(this.#visitSeq).padStart(8, '0')}`,
        type,
        department,
        ...(stay ?? {}),
      },
      diagnoses: diagnoses.map((code, i) => ({ code, primary: i === 0 })),
      items: lines,
      totals: { amount, fundPaid, selfPaid: round2(amount - fundPaid) },
    };
  }

  #line(item: OrdinaryItem | Priced, date: string, quantity = 1): Omit<Item, 'lineNo' | 'amount'> {
    return {
      code: item.code,
      name: item.name,
      category: item.category,
      quantity,
      unitPrice: item.unitPrice,
      serviceDate: date,
    };
  }

  #drugOutside(picked: Priced, used: ReadonlySet<string>): Priced {
    const start = this.#drugs.indexOf(picked);
    for (let k = 0; k < this.#drugs.length; k++) {
      const d = this.#drugs[(start + k) % this.#drugs.length] as Priced;
      if (!used.has(d.code) && !used.has(pharmacologicalSubgroupOf(d.code) ?? d.code)) return d;
    }
    throw new Error('the catalogue has too few unrestricted drugs for one day of one claim');
  }

  #drugLines(h: MonthHospital, date: string, count: number): Omit<Item, 'lineNo' | 'amount'>[] {
    const lines: Omit<Item, 'lineNo' | 'amount'>[] = [];
    const used = new Set<string>();
    // An outlier hospital prescribes more and more of it: its drug share and cost per case stand out.
    const n = h.outlier ? count + 2 : count;
    for (let i = 0; i < n; i++) {
      const picked = this.rng.pick(this.#drugs);
      if (used.has(picked.code)) continue;
      // Two drugs of one pharmacological subgroup on a day are 重复开药 (NHSA-DRUG-SAME-SUBGROUP): take
      // the next drug of another subgroup instead, without a draw, so the rest of the month is unchanged.
      const d = this.#drugOutside(picked, used);
      used.add(d.code);
      used.add(pharmacologicalSubgroupOf(d.code) ?? d.code);
      lines.push(this.#line(d, date, this.rng.int(1, 3) * (h.outlier ? 4 : 1)));
    }
    return lines;
  }

  #outpatient(
    p: Patient,
    day: number,
    h: MonthHospital,
    dx: string,
    department: string,
    type: 'outpatient' | 'emergency' = 'outpatient',
    doctorId?: string,
    withDrugs = true,
  ): Claim {
    const date = this.#day(day);
    const rng = this.rng;
    const items = [
      this.#line(
        type === 'emergency' ? ORDINARY.emergencyConsultation : ORDINARY.outpatientConsultation,
        date,
      ),
    ];
    const tests = new Set<OrdinaryItem>();
    for (let i = rng.int(0, 2); i > 0; i--) tests.add(rng.pick(ORDINARY_TESTS));
    // Primary hospitals have no CT or MRI; the others image about one visit in ten.
    if (h.level > 1 && rng.chance(0.1)) tests.add(rng.pick(IMAGING));
    for (const t of tests) items.push(this.#line(t, date));
    if (withDrugs) items.push(...this.#drugLines(h, date, rng.int(1, 2)));
    if (type === 'emergency' || rng.chance(0.1)) {
      items.push(
        this.#line(ORDINARY.infusion, date),
        this.#line(ORDINARY_CONSUMABLES[0] as OrdinaryItem, date),
      );
    }
    return this.#claim(p, h, type, department, [dx], items, undefined, doctorId ? { doctorId } : {});
  }

  #pharmacy(p: Patient, day: number, h: MonthHospital, drug?: Priced): Claim {
    const date = this.#day(day);
    const items = drug ? [this.#line(drug, date, 2)] : this.#drugLines(h, date, this.rng.int(1, 3));
    return this.#claim(p, h, 'pharmacy', 'pharmacy', ['Z76.000'], items);
  }

  /** A stay of `days` days from `day`; every line within it. */
  #stay(
    p: Patient,
    day: number,
    days: number,
    h: MonthHospital,
    dx: string[],
    department = 'internal',
    extra: { deathDate?: string } = {},
  ): Claim {
    const rng = this.rng;
    const admittedAt = this.#day(day);
    const dischargedAt = this.#day(day + days);
    const items: Omit<Item, 'lineNo' | 'amount'>[] = [];
    for (let d = 0; d < Math.max(1, days); d++) {
      const date = this.#day(day + d);
      items.push(
        this.#line(ORDINARY.bed, date),
        this.#line(ORDINARY.wardRound, date),
        this.#line(ORDINARY.nursing, date),
      );
      if (d < 2) items.push(this.#line(ORDINARY_TESTS[d] as OrdinaryItem, date));
      if (d === 0 && h.level > 1 && rng.chance(0.4)) items.push(this.#line(rng.pick(IMAGING), date));
      if (d % 2 === 0) items.push(...this.#drugLines(h, date, 1));
      if (d < 3)
        items.push(
          this.#line(ORDINARY.infusion, date),
          this.#line(ORDINARY_CONSUMABLES[3] as OrdinaryItem, date),
        );
    }
    return this.#claim(p, h, 'inpatient', department, dx, items, { admittedAt, dischargedAt }, extra);
  }

  #routineDx(p: Patient): { dx: string; department: string } {
    const age = epochDay(`${this.period}-15`) - epochDay(p.birthDate);
    const department = age < 14 * 365 ? 'pediatrics' : this.rng.pick(ROUTINE_DEPARTMENTS);
    return { dx: this.rng.pick(DIAGNOSES[department] ?? DIAGNOSES.general ?? ['J06.900']), department };
  }

  /** A background patient's month: a visit or two, maybe a purchase, now and then a stay. */
  #background(): Claim[] {
    const rng = this.rng;
    const p = this.#patient();
    const claims: Claim[] = [];
    const home = this.#hospital();
    const kind = rng.weighted<'acute' | 'chronic' | 'stay' | 'pharmacy'>([
      ['acute', 52],
      ['chronic', 16],
      ['stay', 14],
      ['pharmacy', 18],
    ]);
    const last = this.#days - 1;
    if (kind === 'acute') {
      const { dx, department } = this.#routineDx(p);
      const day = rng.int(0, last);
      claims.push(
        this.#outpatient(p, day, home, dx, department, rng.chance(0.12) ? 'emergency' : 'outpatient'),
      );
      const again = this.#freeDay(p, Math.min(last, day + 2), Math.min(last, day + 10));
      if (rng.chance(0.3) && again !== undefined && again > day)
        claims.push(this.#outpatient(p, again, home, dx, department));
    } else if (kind === 'chronic') {
      const dx = rng.pick(['E11.900', 'I10.x00']);
      const day = rng.int(0, 12);
      claims.push(this.#outpatient(p, day, home, dx, 'internal'));
      if (rng.chance(0.75)) claims.push(this.#outpatient(p, day + rng.int(14, 17), home, dx, 'internal'));
      if (rng.chance(0.3)) {
        const d = this.#freeDay(p, 0, last);
        if (d !== undefined) claims.push(this.#pharmacy(p, d, this.#hospital(1)));
      }
    } else if (kind === 'stay') {
      const { dx, department } = this.#routineDx(p);
      const days = rng.int(3, 9);
      const day = rng.int(0, Math.max(0, last - days));
      claims.push(this.#stay(p, day, days, home, [dx], department));
      // A clean readmission: past the split-admission window, or for another diagnosis category.
      if (rng.chance(0.12)) {
        const later = day + days + rng.int(17, 25);
        if (later + 2 <= last) claims.push(this.#stay(p, later, 2, home, [dx], department));
      } else if (rng.chance(0.06)) {
        const later = day + days + rng.int(3, 10);
        const other = dx.startsWith('K') ? 'J18.900' : 'K29.700';
        if (later + 2 <= last) claims.push(this.#stay(p, later, 2, home, [other], department));
      }
    } else {
      const day = rng.int(0, last);
      claims.push(this.#pharmacy(p, day, this.#hospital(1)));
      const again = this.#freeDay(p, 0, last);
      if (rng.chance(0.3) && again !== undefined) claims.push(this.#pharmacy(p, again, this.#hospital(1)));
    }
    return claims;
  }

  /** Planned chemotherapy: two-day stays every 14 days at a tertiary hospital. Never flagged. */
  #chemo(): Claim[] {
    const p = this.#patient({ minAge: 35, maxAge: 75 });
    this.world.chemoPatients.push(p.insuredId);
    const h = this.#hospital(3);
    const cancer = this.rng.pick(DIAGNOSES.oncology ?? ['C50.900']);
    const start = this.rng.int(0, 6);
    const claims: Claim[] = [];
    for (let day = start; day + 2 < this.#days; day += 14)
      claims.push(this.#stay(p, day, 2, h, ['Z51.100', cancer], 'oncology'));
    return claims;
  }

  #record(truth: MonthTruth, claims: Claim[]): Claim[] {
    this.truth.push(truth);
    return claims;
  }

  /** One patient (or a doctor's crowd) per pattern, each with the flag the audit must raise. */
  #injections(): Claim[][] {
    const rng = this.rng;
    const out: Claim[][] = [];
    const copies = this.options.injectionsPerPattern ?? Math.max(2, Math.round(this.options.claims / 5_000));
    for (let n = 0; n < copies; n++) {
      {
        // 分解住院: readmitted to the same hospital 3–12 days after discharge, same diagnosis category.
        const p = this.#patient({ minAge: 30 });
        const h = this.#hospital();
        const admitted = rng.int(0, 5);
        const a = this.#stay(p, admitted, 5, h, ['J18.900']);
        const b = this.#stay(p, admitted + 5 + rng.int(3, 12), 4, h, ['J18.000']);
        out.push(
          this.#record(
            { ruleId: 'FG-POST-SPLIT-ADMISSION', claimId: b.claimId, relatedClaimIds: [a.claimId] },
            [a, b],
          ),
        );
      }
      {
        // 频繁住院: four stays at different hospitals within the month, each for something else.
        const p = this.#patient({ minAge: 40 });
        const dxs = ['I25.103', 'K29.700', 'J18.900', 'M17.900'];
        const stays = dxs.map((dx, i) => this.#stay(p, i * 7, 3, this.#hospital(), [dx]));
        const last = stays.at(-1) as Claim;
        out.push(
          this.#record(
            {
              ruleId: 'FG-POST-FREQUENT-ADMISSION',
              claimId: last.claimId,
              relatedClaimIds: stays.slice(0, -1).map((c) => c.claimId),
            },
            stays,
          ),
        );
      }
      {
        // 频繁门诊: eleven visits on distinct days within 28 days, no drugs.
        const p = this.#patient({ minAge: 20 });
        const visits = Array.from({ length: 11 }, (_, i) =>
          this.#outpatient(
            p,
            i * 2 + 1,
            this.#hospital(),
            'M54.500',
            'general',
            'outpatient',
            undefined,
            false,
          ),
        );
        const last = visits.at(-1) as Claim;
        out.push(this.#record({ ruleId: 'FG-POST-FREQUENT-OUTPATIENT', claimId: last.claimId }, visits));
      }
      {
        // 频繁购药: one generic bought on six days within 25 days at several pharmacies.
        const p = this.#patient({ minAge: 30 });
        const drug = rng.pick(this.#drugs);
        const buys = Array.from({ length: 6 }, (_, i) => this.#pharmacy(p, i * 5, this.#hospital(1), drug));
        const last = buys.at(-1) as Claim;
        out.push(this.#record({ ruleId: 'FG-POST-FREQUENT-DRUG', claimId: last.claimId }, buys));
      }
      {
        // 住院时间重叠: admitted to a second hospital three days before leaving the first.
        const p = this.#patient({ minAge: 30 });
        const h1 = this.#hospital();
        const a = this.#stay(p, 2, 8, h1, ['I10.x00']);
        const b = this.#stay(p, 7, 5, this.#hospital(undefined, h1.hospitalId), ['K29.700']);
        out.push(
          this.#record(
            { ruleId: 'FG-POST-OVERLAPPING-STAYS', claimId: b.claimId, relatedClaimIds: [a.claimId] },
            [a, b],
          ),
        );
      }
      {
        // 挂床: an outpatient visit elsewhere on the fourth day of a stay.
        const p = this.#patient({ minAge: 30 });
        const h1 = this.#hospital();
        const s = this.#stay(p, 4, 9, h1, ['E11.900']);
        const o = this.#outpatient(
          p,
          7,
          this.#hospital(undefined, h1.hospitalId),
          'M54.500',
          'general',
          'outpatient',
          undefined,
          false,
        );
        out.push(
          this.#record(
            { ruleId: 'FG-POST-OUTPATIENT-DURING-STAY', claimId: o.claimId, relatedClaimIds: [s.claimId] },
            [s, o],
          ),
        );
      }
      {
        // Death across claims: a stay ends in death; a pharmacy claim a week later does not carry it.
        const p = this.#patient({ minAge: 60 });
        const s = this.#stay(p, 3, 6, this.#hospital(3), ['I25.103'], 'internal', {
          deathDate: this.#day(9),
        });
        const later = this.#pharmacy(p, 9 + rng.int(3, 8), this.#hospital(1));
        out.push(
          this.#record(
            { ruleId: 'FG-POST-AFTER-DEATH', claimId: later.claimId, relatedClaimIds: [s.claimId] },
            [s, later],
          ),
        );
      }
      {
        // Two claims of one patient settled at the same moment, the same test on the same day:
        // the live stream decided each without the other; the audit reruns FG-HISTORY-SAME-DAY.
        const p = this.#patient({ minAge: 20 });
        const h = this.#hospital();
        const day = rng.int(2, 25);
        const date = this.#day(day);
        const at = `${date}T10:00:00Z`;
        const test = ORDINARY_TESTS[2] as OrdinaryItem;
        const mk = (): Claim =>
          this.#claim(
            p,
            h,
            'outpatient',
            'internal',
            ['K29.700'],
            [this.#line(ORDINARY.outpatientConsultation, date), this.#line(test, date)],
            undefined,
            {
              submittedAt: at,
            },
          );
        const a = mk();
        const b = mk();
        out.push(this.#record({ ruleId: 'FG-HISTORY-SAME-DAY', claimId: b.claimId }, [a, b]));
      }
    }
    if (copies > 0) {
      // The impossible day: one doctor with 75 distinct outpatient patients on one day.
      const h = this.#hospital(2);
      const doctorId = h.doctors[0] as string;
      const day = rng.int(3, 24);
      for (let i = 0; i < 75; i++) {
        const p = this.#patient({ minAge: 18 });
        out.push([this.#outpatient(p, day, h, 'J06.900', 'general', 'outpatient', doctorId)]);
      }
      this.truth.push({ ruleId: 'FG-POST-IMPOSSIBLE-DAY', subject: { kind: 'doctor', id: doctorId } });
    }
    for (const h of this.world.hospitals.filter((x) => x.outlier)) {
      this.truth.push({ ruleId: 'ZB-POST-DRUG-SHARE', subject: { kind: 'hospital', id: h.hospitalId } });
      this.truth.push({ ruleId: 'FG-POST-COST-PER-CASE', subject: { kind: 'hospital', id: h.hospitalId } });
    }
    return out;
  }

  /** Every patient's claims, a patient at a time: background, chemotherapy cycles, injected patterns. */
  *patients(): Generator<Claim[]> {
    let made = 0;
    const injected = this.#injections();
    const chemo = Math.max(3, Math.round(this.options.claims / 4_000));
    for (let i = 0; i < chemo; i++) {
      const c = this.#chemo();
      made += c.length;
      yield c;
    }
    while (made < this.options.claims) {
      const c = this.#background();
      made += c.length;
      yield c;
    }
    yield* injected;
  }
}

const DAY_BUCKETS = 32;

/**
 * Write a month as NDJSON in settlement order (not by patient, as a bureau's extract comes), with
 * the ground truth beside it. Claims pass through one spill file per settlement day, so memory
 * holds a day at a time, never the month.
 */
export async function writeMonth(
  path: string,
  options: MonthOptions,
  core: MonthCore,
): Promise<{ claims: number; truth: MonthTruth[]; world: MonthWorld }> {
  const gen = new MonthGenerator(options, core);
  const dir = mkdtempSync(join(tmpdir(), 'fundguard-month-'));
  try {
    const buckets = Array.from({ length: DAY_BUCKETS }, (_, i) =>
      createWriteStream(join(dir, `${i}.ndjson`)),
    );
    const first = epochDay(`${options.period}-01`);
    let claims = 0;
    for (const patient of gen.patients()) {
      for (const claim of patient) {
        const day = Math.min(DAY_BUCKETS - 1, Math.max(0, epochDay(claim.submittedAt.slice(0, 10)) - first));
        const bucket = buckets[day] as NodeJS.WritableStream;
        if (!bucket.write(`${claim.submittedAt}\t${JSON.stringify(claim)}\n`))
          await new Promise((r) => bucket.once('drain', r));
        claims += 1;
      }
    }
    await Promise.all(buckets.map((b) => new Promise<void>((r) => b.end(() => r()))));
    const out = createWriteStream(path);
    for (let i = 0; i < DAY_BUCKETS; i++) {
      const lines: string[] = [];
      for await (const line of createInterface({
        input: createReadStream(join(dir, `${i}.ndjson`), 'utf8'),
        crlfDelay: Number.POSITIVE_INFINITY,
      }))
        lines.push(line);
      lines.sort();
      for (const line of lines) {
        if (!out.write(`${line.slice(line.indexOf('\t') + 1)}\n`))
          await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    await new Promise<void>((r) => out.end(() => r()));
    writeFileSync(
      `${path}.truth.json`,
      `${JSON.stringify({ options, world: gen.world, truth: gen.truth }, null, 2)}\n`,
    );
    return { claims, truth: gen.truth, world: gen.world };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A month in memory, in settlement order, for tests. */
export function generateMonth(
  options: MonthOptions,
  core: MonthCore,
): { claims: Claim[]; truth: MonthTruth[]; world: MonthWorld } {
  const gen = new MonthGenerator(options, core);
  const claims = [...gen.patients()].flat();
  claims.sort((a, b) =>
    a.submittedAt < b.submittedAt ? -1 : a.submittedAt > b.submittedAt ? 1 : a.claimId < b.claimId ? -1 : 1,
  );
  return { claims, truth: gen.truth, world: gen.world };
}
