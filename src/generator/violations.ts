import { genericOf, pharmacologicalSubgroupOf } from '../catalogue/codes.ts';
import type { KnowledgePoint } from '../catalogue/schema.ts';
import type { Claim, InsuranceType, ItemCategory, Sex, VisitType } from '../contracts/claim.ts';
import { addMonths, epochDay, fromEpochDay } from '../dates.ts';
import {
  ClaimDraft,
  type Generator,
  type LinePlan,
  type PatientState,
  type PatientTraits,
  type Priced,
  type Setting,
} from './claims.ts';
import {
  HOSPITALS,
  type HospitalProfile,
  INCOMPATIBLE_TCM,
  ORDINARY,
  ORDINARY_TCM,
  ORDINARY_TESTS,
} from './world.ts';

/**
 * One injector per rule of the pack: it writes the claim (or the pair of claims, for history rules)
 * that breaks that rule and nothing else, and records the lines the flag must cite. Each uses a
 * fresh patient built for it, so the patient's past cannot add a second flag.
 */
export interface Injector {
  ruleId: string;
  ruleClass: string;
  /** Claims it writes (history rules need an earlier one). */
  claims: 1 | 2;
  inject(g: Generator, day: number): Promise<void>;
}

const hospitalOf = (level: 1 | 2 | 3, internet = false): HospitalProfile => {
  const hospital = HOSPITALS.find((h) => h.level === level && h.internet === internet);
  if (!hospital) throw new Error(`no level-${level} hospital in the world`);
  return hospital;
};
const INTERNET_HOSPITAL = HOSPITALS.find((h) => h.internet) ?? hospitalOf(2);

/**
 * Every element of `list` once, starting at a random offset: injectors try candidate codes in
 * this order, so a stream exercises many of a class's codes, not always the first that fits.
 */
function* rotated<T>(g: Generator, list: readonly T[]): Iterable<T> {
  const offset = g.rng.int(0, Math.max(0, list.length - 1));
  for (let i = 0; i < list.length; i += 1) yield list[(offset + i) % list.length] as T;
}

/** Who the patient is and where they are seen, for a candidate violation. */
interface Variant {
  traits: Required<Pick<PatientTraits, 'ageYears'>> & PatientTraits;
  visitType: VisitType;
  hospital: HospitalProfile;
}

/** The body every candidate claim starts from: a consultation, or a stay's first day. */
function openVisit(g: Generator, setting: Setting, date: string): ClaimDraft {
  const draft = new ClaimDraft(g.catalogue);
  if (setting.visitType === 'inpatient') {
    draft.add(ORDINARY.bed, date, 1);
    draft.add(ORDINARY.wardRound, date, 1);
    draft.add(ORDINARY.nursing, date, 1);
  } else if (setting.visitType === 'internet') draft.add(ORDINARY.internetConsultation, date, 1);
  else if (setting.visitType !== 'pharmacy') draft.add(ORDINARY.outpatientConsultation, date, 1);
  return draft;
}

function planFor(item: Priced, setting: Setting, date: string, quantity = 1): LinePlan {
  const withSupply = item.category === 'drug' && setting.visitType !== 'inpatient';
  return { dates: [date], quantity, ...(withSupply ? { daysSupply: 7 } : {}) };
}

/**
 * A code of `ruleClass` and a variant under which billing it breaks that class's point and no
 * other. Codes are tried from a random offset so streams exercise many of them.
 */
async function findViolation(
  g: Generator,
  ruleClass: string,
  categories: readonly ItemCategory[],
  variantsFor: (kp: KnowledgePoint) => Variant[],
  day: number,
): Promise<{ item: Priced; setting: Setting; draft: ClaimDraft; plan: LinePlan }> {
  const pool = g.codesOfClass(ruleClass).filter((c) => categories.includes(c.category));
  const date = fromEpochDay(day);
  for (const item of rotated(g, pool)) {
    const kp = g.catalogue.pointsFor(item.code)?.get(ruleClass);
    if (!kp) continue;
    for (const variant of variantsFor(kp)) {
      const patient = g.newPatient(variant.traits, day, false);
      const setting: Setting = { patient, hospital: variant.hospital, visitType: variant.visitType };
      const draft = openVisit(g, setting, date);
      const plan = planFor(item, setting, date);
      // Flagged, and only for the class meant: the claim breaks that rule and nothing else.
      const flags = await g.flagsFor(item.code, setting, draft, plan);
      if (flags?.length && flags.every((f) => f.basis.ruleClass === ruleClass)) {
        g.register(patient);
        return { item, setting, draft, plan };
      }
    }
  }
  throw new Error(`the catalogue has no ${ruleClass} code the generator can bill as a lone violation`);
}

/** The same patient and place, seen as an outpatient and as an inpatient, at each age given. */
function variants(
  ages: number[],
  base: Omit<Variant, 'traits' | 'visitType'> & { traits?: PatientTraits },
): Variant[] {
  const out: Variant[] = [];
  for (const ageYears of ages)
    for (const visitType of ['outpatient', 'inpatient'] as const)
      for (const sex of ['F', 'M'] as const)
        out.push({ traits: { sex, ...base.traits, ageYears }, visitType, hospital: base.hospital });
  return out;
}

/** A single-line violation of an item-level rule: the claim is a visit with that one bad line. */
function itemInjector(
  ruleId: string,
  ruleClass: string,
  categories: readonly ItemCategory[],
  variantsFor: (kp: KnowledgePoint) => Variant[],
): Injector {
  return {
    ruleId,
    ruleClass,
    claims: 1,
    async inject(g, day) {
      const { item, setting, draft, plan } = await findViolation(g, ruleClass, categories, variantsFor, day);
      const lineNo = draft.add(item, fromEpochDay(day), plan.quantity, plan.daysSupply);
      const claim = g.emit(setting, draft, departmentOf(item), day);
      g.inject(claim, ruleId, ruleClass, [lineNo]);
    },
  };
}

const departmentOf = (item: Priced): string => (item.category === 'tcm-herbal' ? 'tcm' : 'general');
const opposite = (sex: Sex): Sex => (sex === 'F' ? 'M' : 'F');
const LEVEL3 = hospitalOf(3);

function sexInjector(ruleId: string, ruleClass: string, categories: readonly ItemCategory[]): Injector {
  return itemInjector(ruleId, ruleClass, categories, (kp) =>
    kp.restriction?.kind === 'sex'
      ? variants([35, 62], {
          hospital: LEVEL3,
          traits: { sex: opposite(kp.restriction.sex), insuranceType: 'employee' },
        })
      : [],
  );
}

/** Ages just outside the band, and an adult, for an age-restricted point. */
function ageInjector(ruleId: string, ruleClass: string, categories: readonly ItemCategory[]): Injector {
  return itemInjector(ruleId, ruleClass, categories, (kp) => {
    const r = kp.restriction;
    if (r?.kind !== 'age') return [];
    const ages = [40];
    if (r.maxAgeYears !== undefined) ages.unshift(r.maxAgeYears + 1);
    if (r.minAgeYears) ages.push(r.minAgeYears - 1);
    if (r.maxAgeDays !== undefined) ages.push(1);
    return variants(ages, { hospital: LEVEL3, traits: { insuranceType: 'resident' } });
  });
}

function insuranceInjector(ruleId: string, ruleClass: string): Injector {
  return itemInjector(ruleId, ruleClass, ['drug'], (kp) => {
    if (kp.restriction?.kind !== 'insuranceType') return [];
    const allowed = kp.restriction.insuranceTypes;
    // Resident first: employee insurance pays childbirth where maternity insurance is merged into it
    // (GZ-DRUG-MATERNITY's maternityCoveredBy), so an employee on a childbirth claim is no violation.
    const other =
      (['resident', 'employee'] as InsuranceType[]).find((t) => !allowed.includes(t)) ?? 'resident';
    return variants([30, 45], { hospital: LEVEL3, traits: { insuranceType: other } });
  });
}

/** Claims that pair an earlier clean claim with a later violating one need dates inside the history window. */
function laterDay(g: Generator, day: number, min: number, max: number): number {
  return day + g.rng.int(min, Math.max(min, max));
}

function adult(g: Generator, day: number, traits: PatientTraits = {}): PatientState {
  return g.newPatient({ ageYears: g.rng.int(25, 70), insuranceType: 'employee', ...traits }, day);
}

const outpatient = (patient: PatientState, hospital: HospitalProfile = LEVEL3): Setting => ({
  patient,
  hospital,
  visitType: 'outpatient',
});

/**
 * A drug course limit short enough to exceed within one stay, counted in one of `scopes`: a limit
 * across stays needs `total`, since an `episode` limit (单次最多支付) starts again with each stay.
 */
async function shortCourse(
  g: Generator,
  day: number,
  scopes: readonly ('episode' | 'total')[],
): Promise<{ item: Priced; maxDays: number; setting: Setting }> {
  const ruleClass = '药品限支付疗程';
  const pool = g.codesOfClass(ruleClass).filter((c) => {
    const r = g.catalogue.pointsFor(c.code)?.get(ruleClass)?.restriction;
    return (
      c.category === 'drug' &&
      r?.kind === 'course' &&
      r.scope !== 'span' &&
      scopes.includes(r.scope) &&
      r.maxDays <= 21
    );
  });
  for (const item of rotated(g, pool)) {
    const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
    if (r?.kind !== 'course' || r.scope === 'span') continue;
    const patient = g.newPatient({ ageYears: 50, insuranceType: 'employee' }, day, false);
    const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
    const dates = Array.from({ length: r.maxDays }, (_, k) => fromEpochDay(day + k));
    // Within the limit it must be clean; the injectors then go past it on purpose.
    if (await g.fits(item.code, setting, new ClaimDraft(g.catalogue), { dates, quantity: 1 })) {
      g.register(patient);
      return { item, maxDays: r.maxDays, setting };
    }
  }
  throw new Error(`the catalogue has no short ${ruleClass} drug the generator can bill`);
}

/** A stay of `days` days from `day` with daily charges and `drug` billed every day; returns the drug's lines by date. */
function stayWithDrug(draft: ClaimDraft, drug: Priced, day: number, days: number): Map<string, number> {
  const lines = new Map<string, number>();
  for (let k = 0; k < days; k += 1) {
    const date = fromEpochDay(day + k);
    draft.add(ORDINARY.bed, date, 1);
    draft.add(ORDINARY.nursing, date, 1);
    lines.set(date, draft.add(drug, date, 1));
  }
  return lines;
}

/** Totals from the claim's lines, split in the ratio the claim already has (after a line is altered). */
function retotal(claim: Claim): void {
  const amount = Math.round(claim.items.reduce((s, i) => s + i.amount, 0) * 100) / 100;
  const ratio = claim.totals.amount > 0 ? claim.totals.fundPaid / claim.totals.amount : 0.8;
  const fundPaid = Math.round(amount * ratio * 100) / 100;
  claim.totals = { amount, fundPaid, selfPaid: Math.round((amount - fundPaid) * 100) / 100 };
}

/** An outpatient visit of a new, unshared patient: consultation and one ordinary drug. */
async function plainVisit(
  g: Generator,
  day: number,
): Promise<{ setting: Setting; draft: ClaimDraft; drugLine: number }> {
  const setting = outpatient(
    g.newPatient({ ageYears: g.rng.int(25, 70), insuranceType: 'employee' }, day, false),
  );
  const date = fromEpochDay(day);
  const draft = openVisit(g, setting, date);
  const plan = { dates: [date], quantity: 3, daysSupply: 7 };
  const drugLine = draft.add(await g.freshDrug(setting, draft, plan), date, plan.quantity, plan.daysSupply);
  return { setting, draft, drugLine };
}

export const INJECTORS: readonly Injector[] = [
  sexInjector('GZ-DRUG-SEX', '药品区分性别使用', ['drug', 'tcm-herbal']),
  sexInjector('GZ-SERVICE-SEX', '医疗服务项目区分性别使用', ['service']),
  ageInjector('GZ-DRUG-CHILD-ONLY', '药品儿童专用', ['drug', 'tcm-herbal']),
  ageInjector('GZ-SERVICE-CHILD-ONLY', '医疗服务项目儿童专用', ['service']),
  ageInjector('GZ-DRUG-CHILD-LIMIT', '药品限儿童使用', ['drug']),
  insuranceInjector('GZ-DRUG-WORK-INJURY', '药品限工伤保险'),
  insuranceInjector('GZ-DRUG-MATERNITY', '药品限生育保险'),
  itemInjector('NHSA-DRUG-VISIT-TYPE', '药品限就医方式', ['drug'], () =>
    variants([40], { hospital: LEVEL3, traits: { insuranceType: 'employee' } }).filter(
      (v) => v.visitType === 'outpatient',
    ),
  ),
  itemInjector('GZ-DRUG-HOSPITAL-LEVEL', '药品限医疗机构级别', ['drug'], (kp) =>
    kp.restriction?.kind === 'hospitalLevel' && kp.restriction.minLevel > 1
      ? variants([45], {
          hospital: hospitalOf((kp.restriction.minLevel - 1) as 1 | 2),
          traits: { insuranceType: 'employee' },
        })
      : [],
  ),
  itemInjector('NHSA-INTERNET-DRUG', '超互联网医院药品支付范围', ['drug'], () =>
    [35, 60].flatMap((ageYears) =>
      (['F', 'M'] as const).map((sex) => ({
        traits: { ageYears, sex, insuranceType: 'employee' as const },
        visitType: 'internet' as const,
        hospital: INTERNET_HOSPITAL,
      })),
    ),
  ),
  {
    ruleId: 'GZ-TCM-NOT-PAYABLE',
    ruleClass: '中药饮片单复方均不予支付',
    claims: 1,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      const setting = outpatient(adult(g, day));
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      for (const piece of ORDINARY_TCM.slice(0, g.rng.int(3, 6))) draft.add(piece, date, g.rng.int(6, 20));
      const plan = { dates: [date], quantity: 10 };
      const pool = g.codesOfClass(ruleClass);
      let piece: Priced | undefined;
      for (const p of rotated(g, pool)) {
        if (await g.fits(p.code, setting, draft, plan, ruleClass)) {
          piece = p;
          break;
        }
      }
      if (!piece) throw new Error(`the catalogue has no ${ruleClass} piece the generator can bill`);
      const lineNo = draft.add(piece, date, plan.quantity);
      g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, ruleClass, [lineNo]);
    },
  },
  {
    ruleId: 'GZ-TCM-NOT-PAYABLE-ALONE',
    ruleClass: '中药饮片单方使用不予支付',
    claims: 1,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      const setting = outpatient(adult(g, day));
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const plan = { dates: [date], quantity: 10 };
      const lineNos: number[] = [];
      const pool = g.codesOfClass(ruleClass);
      for (let tries = 0; tries < 50 && lineNos.length < g.rng.int(1, 3); tries += 1) {
        const piece = g.rng.pick(pool);
        if (await g.fits(piece.code, setting, draft, plan, ruleClass))
          lineNos.push(draft.add(piece, date, plan.quantity));
      }
      if (!lineNos.length) throw new Error(`the catalogue has no ${ruleClass} piece the generator can bill`);
      g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, ruleClass, lineNos);
    },
  },
  {
    ruleId: 'GZ-SERVICE-DUPLICATE',
    ruleClass: '医疗服务项目重复收费',
    claims: 1,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      const pairs = g.catalogue.knowledgePoints.filter((kp) => kp.ruleClass === ruleClass && kp.restriction);
      const date = fromEpochDay(day);
      for (const pair of rotated(g, pairs)) {
        const r = pair.restriction;
        if (r?.kind !== 'exclusivePair') continue;
        const [a, b] = r.codes;
        // Exactly one pair point for A→B and none for B→A, so exactly one flag cites the two lines.
        const points = (code: string, other: string): number =>
          g.catalogue
            .pairsFor(code, ruleClass)
            .filter(
              (kp) =>
                kp.restriction?.kind === 'exclusivePair' &&
                kp.restriction.codes[0] === code &&
                kp.restriction.codes[1] === other,
            ).length;
        if (points(a, b) !== 1 || points(b, a) !== 0) continue;
        const patient = g.newPatient({ ageYears: 45, insuranceType: 'employee' }, day, false);
        const setting = outpatient(patient);
        const draft = openVisit(g, setting, date);
        const [itemA, itemB] = [g.priced(a), g.priced(b)];
        const plan = { dates: [date], quantity: 1 };
        if (!(await g.fits(a, setting, draft, plan, ruleClass))) continue;
        const lineA = draft.add(itemA, date, 1);
        if (!(await g.fits(b, setting, draft, plan, ruleClass))) continue;
        const lineB = draft.add(itemB, date, 1);
        g.register(patient);
        g.inject(g.emit(setting, draft, 'general', day), this.ruleId, ruleClass, [lineA, lineB]);
        return;
      }
      throw new Error(`the catalogue has no ${ruleClass} pair the generator can bill`);
    },
  },
  {
    ruleId: 'GZ-SERVICE-FREQUENCY',
    ruleClass: '医疗服务项目限定频次',
    claims: 1,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      const date = fromEpochDay(day);
      const pool = g.codesOfClass(ruleClass);
      for (const item of rotated(g, pool)) {
        const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
        if (r?.kind !== 'frequency') continue;
        const patient = g.newPatient({ ageYears: 55, insuranceType: 'employee' }, day, false);
        const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
        const draft = openVisit(g, setting, date);
        const plan = { dates: [date], quantity: r.maxPerDay + 1 };
        if (!(await g.fits(item.code, setting, draft, plan, ruleClass))) continue;
        g.register(patient);
        const lineNo = draft.add(item, date, plan.quantity);
        g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, ruleClass, [lineNo]);
        return;
      }
      throw new Error(`the catalogue has no ${ruleClass} code the generator can bill`);
    },
  },
  {
    ruleId: 'GZ-DRUG-COURSE',
    ruleClass: '药品限支付疗程',
    claims: 1,
    async inject(g, day) {
      const { item, maxDays, setting } = await shortCourse(g, day, ['episode', 'total']);
      const draft = new ClaimDraft(g.catalogue);
      const lines = stayWithDrug(draft, item, day, maxDays + g.rng.int(1, 3));
      const beyond = [...lines.entries()]
        .filter(([date]) => epochDay(date) >= day + maxDays)
        .map(([, l]) => l);
      g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, beyond);
    },
  },
  {
    ruleId: 'GZ-DRUG-COURSE-HISTORY',
    ruleClass: '药品限支付疗程',
    claims: 2,
    async inject(g, day) {
      const { item, maxDays, setting } = await shortCourse(g, day, ['total']);
      const first = Math.max(1, Math.floor(maxDays / 2));
      g.emit(
        setting,
        (() => {
          const draft = new ClaimDraft(g.catalogue);
          stayWithDrug(draft, item, day, first);
          return draft;
        })(),
        'internal',
        day,
      );
      // The second stay alone stays within the limit; with the first it goes past it.
      const second = maxDays - first + 1 + (first >= 2 ? g.rng.int(0, 1) : 0);
      const start = laterDay(g, day + first, 3, 20);
      const draft = new ClaimDraft(g.catalogue);
      const lines = stayWithDrug(draft, item, start, second);
      const payableLeft = maxDays - first;
      const beyond = [...lines.entries()]
        .filter(([date]) => epochDay(date) >= start + payableLeft)
        .map(([, l]) => l);
      g.inject(g.emit(setting, draft, 'internal', start), this.ruleId, this.ruleClass, beyond);
    },
  },
  {
    ruleId: 'NHSA-SERVICE-CYCLE',
    ruleClass: '医疗服务项目周期超频次',
    claims: 2,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      const pool = g.codesOfClass(ruleClass);
      for (const item of rotated(g, pool)) {
        const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
        if (r?.kind !== 'cycle' || r.unit !== 'days') continue;
        const setting = outpatient(g.newPatient({ ageYears: 58, insuranceType: 'employee' }, day, false));
        const date = fromEpochDay(day);
        const firstDraft = openVisit(g, setting, date);
        if (!(await g.fits(item.code, setting, firstDraft, { dates: [date], quantity: 1 }))) continue;
        g.register(setting.patient);
        firstDraft.add(item, date, 1);
        g.emit(setting, firstDraft, 'internal', day);
        const again = laterDay(g, day, 1, r.minIntervalDays - 1);
        const draft = openVisit(g, setting, fromEpochDay(again));
        const lineNo = draft.add(item, fromEpochDay(again), 1);
        g.inject(g.emit(setting, draft, 'internal', again), this.ruleId, ruleClass, [lineNo]);
        return;
      }
      throw new Error(`the catalogue has no ${ruleClass} service the generator can bill`);
    },
  },
  {
    ruleId: 'GZ-DRUG-COURSE-SPAN',
    ruleClass: '药品限支付疗程',
    claims: 2,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      for (const item of rotated(g, g.codesOfClass(ruleClass))) {
        const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
        if (r?.kind !== 'course' || r.scope !== 'span') continue;
        // The first dose a month past the span before `day`, inside the rule's 400-day history.
        const firstDay = epochDay(addMonths(fromEpochDay(day), -(r.maxMonths + 1)));
        for (const visitType of ['outpatient', 'inpatient'] as const) {
          const patient = g.newPatient({ ageYears: 50, insuranceType: 'employee' }, firstDay, false);
          const setting: Setting = { patient, hospital: LEVEL3, visitType };
          const date = fromEpochDay(firstDay);
          const first = openVisit(g, setting, date);
          if (!(await g.fits(item.code, setting, first, planFor(item, setting, date)))) continue;
          g.register(patient);
          first.add(item, date, 1, planFor(item, setting, date).daysSupply);
          g.emit(setting, first, 'internal', firstDay);
          const again = fromEpochDay(day);
          const draft = openVisit(g, setting, again);
          const lineNo = draft.add(item, again, 1, planFor(item, setting, again).daysSupply);
          g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, ruleClass, [lineNo]);
          return;
        }
      }
      throw new Error(`the catalogue has no ${ruleClass} span-limited drug the generator can bill`);
    },
  },
  {
    ruleId: 'NHSA-SERVICE-CYCLE-WEEK',
    ruleClass: '医疗服务项目周期超频次',
    claims: 2,
    async inject(g, day) {
      const ruleClass = this.ruleClass;
      // Monday to Saturday, so a later day of the same calendar week is left (epoch day 0 was a Thursday).
      const weekday = (d: number) => (d + 3) % 7;
      const start = weekday(day) === 6 ? day + 1 : day;
      const lastOfWeek = start + 6 - weekday(start);
      for (const item of rotated(g, g.codesOfClass(ruleClass))) {
        const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
        if (r?.kind !== 'cycle' || r.unit !== 'calendarWeek') continue;
        const setting = outpatient(g.newPatient({ ageYears: 6, insuranceType: 'employee' }, start, false));
        const date = fromEpochDay(start);
        const firstDraft = openVisit(g, setting, date);
        if (!(await g.fits(item.code, setting, firstDraft, { dates: [date], quantity: 1 }))) continue;
        g.register(setting.patient);
        firstDraft.add(item, date, 1);
        g.emit(setting, firstDraft, 'internal', start);
        const again = laterDay(g, start, 1, lastOfWeek - start);
        const draft = openVisit(g, setting, fromEpochDay(again));
        const lineNo = draft.add(item, fromEpochDay(again), 1);
        g.inject(g.emit(setting, draft, 'internal', again), this.ruleId, ruleClass, [lineNo]);
        return;
      }
      throw new Error(`the catalogue has no weekly ${ruleClass} service the generator can bill`);
    },
  },
  {
    ruleId: 'NHSA-SETTLEMENT-LINE',
    ruleClass: '结算明细信息异常',
    claims: 1,
    async inject(g, day) {
      const { setting, draft, drugLine } = await plainVisit(g, day);
      const claim = g.emit(setting, draft, 'internal', day);
      const line = claim.items.find((i) => i.lineNo === drugLine);
      if (!line) throw new Error('the drug line just added is missing');
      // Charged more than quantity × unit price, as a mis-keyed amount would be; totals follow the lines.
      line.amount = Math.round((line.amount + g.rng.int(1, 20)) * 100) / 100;
      retotal(claim);
      g.inject(claim, this.ruleId, this.ruleClass, [drugLine]);
    },
  },
  {
    ruleId: 'NHSA-SETTLEMENT-TOTALS',
    ruleClass: '结算明细信息异常',
    claims: 1,
    async inject(g, day) {
      const { setting, draft } = await plainVisit(g, day);
      const claim = g.emit(setting, draft, 'internal', day);
      const extra = g.rng.int(5, 50);
      const amount = Math.round((claim.totals.amount + extra) * 100) / 100;
      const fundPaid = Math.round((claim.totals.fundPaid + extra) * 100) / 100;
      claim.totals = { amount, fundPaid, selfPaid: claim.totals.selfPaid };
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-UPLOAD-DELAY',
    ruleClass: '就诊数据非实时上传监管',
    claims: 1,
    async inject(g, day) {
      const { setting, draft } = await plainVisit(g, day);
      // Settled more than the 30 days the rule allows after the visit (the patient is not shared,
      // so no later visit of theirs is settled before this one).
      const claim = g.emit(setting, draft, 'internal', day, { submittedDay: day + g.rng.int(31, 60) });
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-DIAGNOSIS-CODE',
    ruleClass: '疾病诊断编码异常',
    claims: 1,
    async inject(g, day) {
      const { setting, draft } = await plainVisit(g, day);
      const claim = g.emit(setting, draft, 'internal', day);
      const [primary] = claim.diagnoses;
      if (!primary) throw new Error('an emitted claim has no diagnosis');
      // Mis-keyed forms seen in settlement lists: a hyphen for the dot, lower case, the name for the code.
      primary.code = g.rng.pick([primary.code.replace('.', '-'), primary.code.toLowerCase(), '2型糖尿病']);
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-DRUG-KINDS',
    ruleClass: '药品种类超标',
    claims: 1,
    async inject(g, day) {
      const setting = outpatient(
        g.newPatient({ ageYears: g.rng.int(45, 80), insuranceType: 'employee' }, day, false),
      );
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const lines: number[] = [];
      // Six or seven distinct generics (fits never takes a generic the draft already has).
      for (let n = g.rng.int(6, 7); n > 0; n -= 1) {
        const plan = { dates: [date], quantity: 1, daysSupply: 7 };
        const drug = await g.freshDrug(setting, draft, plan, this.ruleClass);
        lines.push(draft.add(drug, date, plan.quantity, plan.daysSupply));
      }
      g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, lines);
    },
  },
  {
    ruleId: 'NHSA-TCM-LARGE-PRESCRIPTION',
    ruleClass: '中药饮片超大处方',
    claims: 1,
    async inject(g, day) {
      const setting = outpatient(
        g.newPatient({ ageYears: g.rng.int(30, 80), insuranceType: 'employee' }, day, false),
      );
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const pieces = [...ORDINARY_TCM].slice(0, g.rng.int(5, 8));
      // Enough grams that the prescription passes the rule's 1,000 yuan.
      const grams = Math.ceil(1200 / pieces.reduce((s, p) => s + p.unitPrice, 0));
      const lines = pieces.map((p) => draft.add(p, date, grams));
      g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, this.ruleClass, lines);
    },
  },
  {
    ruleId: 'GZ-REPEAT-PRESCRIPTION',
    ruleClass: '重复开药',
    claims: 2,
    async inject(g, day) {
      const setting = outpatient(adult(g, day, { ageYears: g.rng.int(50, 80) }));
      const date = fromEpochDay(day);
      const first = openVisit(g, setting, date);
      const drug = await g.freshDrug(setting, first, { dates: [date], quantity: 2, daysSupply: 30 });
      first.add(drug, date, 2, 30);
      g.emit(setting, first, 'internal', day);
      // Back while more than the rule's grace period (7 days) of the 30-day supply is left.
      const again = laterDay(g, day, 5, 20);
      const draft = openVisit(g, setting, fromEpochDay(again));
      const lineNo = draft.add(drug, fromEpochDay(again), 2, 30);
      g.inject(g.emit(setting, draft, 'internal', again), this.ruleId, this.ruleClass, [lineNo]);
    },
  },
  {
    ruleId: 'FG-HISTORY-SAME-DAY',
    ruleClass: '同一项目同日重复结算',
    claims: 2,
    async inject(g, day) {
      const patient = adult(g, day);
      const date = fromEpochDay(day);
      const test = g.rng.pick(ORDINARY_TESTS);
      const first = openVisit(g, outpatient(patient), date);
      first.add(test, date, 1);
      g.emit(outpatient(patient), first, 'general', day);
      // The same test billed again the same day by another hospital, settled a day later.
      const other: Setting = { patient, hospital: hospitalOf(2), visitType: 'emergency' };
      const draft = new ClaimDraft(g.catalogue);
      draft.add(ORDINARY.emergencyConsultation, date, 1);
      const lineNo = draft.add(test, date, 1);
      g.inject(g.emit(other, draft, 'general', day, { submittedDay: day + 1 }), this.ruleId, this.ruleClass, [
        lineNo,
      ]);
    },
  },
  {
    ruleId: 'NHSA-DRUG-MAX-SUPPLY',
    ruleClass: '药品限最大开药天数/开药量',
    claims: 1,
    async inject(g, day) {
      const setting = outpatient(adult(g, day, { ageYears: g.rng.int(45, 80) }));
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const daysSupply = g.rng.int(31, 90);
      const drug = await g.freshDrug(
        setting,
        draft,
        { dates: [date], quantity: 3, daysSupply },
        this.ruleClass,
      );
      const lineNo = draft.add(drug, date, 3, daysSupply);
      g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, [lineNo]);
    },
  },
  {
    ruleId: 'FG-AFTER-DEATH',
    ruleClass: '参保人死亡后发生医疗费用',
    claims: 1,
    async inject(g, day) {
      const patient = adult(g, day, { ageYears: g.rng.int(70, 92), insuranceType: 'resident' });
      patient.deathDate = fromEpochDay(day);
      const billed = laterDay(g, day, 2, 20);
      const date = fromEpochDay(billed);
      const setting: Setting = { patient, hospital: hospitalOf(1), visitType: 'pharmacy' };
      const draft = new ClaimDraft(g.catalogue);
      const lineNos: number[] = [];
      for (let n = g.rng.int(1, 2); n > 0; n -= 1) {
        const plan = { dates: [date], quantity: 2, daysSupply: 30 };
        lineNos.push(draft.add(await g.freshDrug(setting, draft, plan), date, 2, 30));
      }
      const claim: Claim = g.emit(setting, draft, 'internal', billed, { deathVisible: true });
      g.inject(claim, this.ruleId, this.ruleClass, lineNos);
    },
  },
  {
    ruleId: 'GZ-BILLING-OUTSIDE-STAY',
    ruleClass: '计费日期与住院时间不符',
    claims: 1,
    async inject(g, day) {
      const patient = adult(g, day);
      const setting: Setting = { patient, hospital: hospitalOf(2), visitType: 'inpatient' };
      const stay = g.rng.int(3, 6);
      const draft = new ClaimDraft(g.catalogue);
      for (let k = 0; k < stay; k += 1) {
        const date = fromEpochDay(day + k);
        draft.add(ORDINARY.bed, date, 1);
        draft.add(ORDINARY.wardRound, date, 1);
        draft.add(ORDINARY.nursing, date, 1);
      }
      const discharge = day + stay - 1;
      const outside = g.rng.chance(0.5) ? discharge + g.rng.int(1, 3) : day - g.rng.int(1, 3);
      const lineNo = draft.add(g.rng.pick(ORDINARY_TESTS), fromEpochDay(outside), 1);
      const claim = g.emit(setting, draft, 'internal', day, {
        dischargeDay: discharge,
        submittedDay: Math.max(discharge, outside) + 1,
      });
      g.inject(claim, this.ruleId, this.ruleClass, [lineNo]);
    },
  },
  {
    ruleId: 'NHSA-DIAGNOSIS-SEX',
    ruleClass: '诊断与患者性别不符',
    claims: 1,
    async inject(g, day) {
      const { setting, draft } = await plainVisit(g, day);
      const claim = g.emit(setting, draft, 'internal', day);
      const [primary] = claim.diagnoses;
      if (!primary) throw new Error('an emitted claim has no diagnosis');
      // A category the reference gives to the other sex outright (no maternity code: its age band
      // would add a second flag for the older patients).
      primary.code = g.rng.pick(
        setting.patient.sex === 'F'
          ? ['C61.x00', 'N40.x00', 'N43.300', 'E29.100']
          : ['N92.000', 'C53.900', 'N80.000', 'D25.900'],
      );
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-DIAGNOSIS-AGE',
    ruleClass: '诊断与患者年龄不符',
    claims: 1,
    async inject(g, day) {
      const delivery = g.rng.chance(0.5);
      // A delivery for a woman past the maternity band (9–64), or a liveborn-infant code for an adult.
      const patient = delivery
        ? g.newPatient({ sex: 'F', ageYears: g.rng.int(66, 85), insuranceType: 'resident' }, day, false)
        : g.newPatient({ ageYears: g.rng.int(20, 70), insuranceType: 'employee' }, day, false);
      const setting = outpatient(patient);
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const plan = { dates: [date], quantity: 2, daysSupply: 7 };
      draft.add(await g.freshDrug(setting, draft, plan), date, plan.quantity, plan.daysSupply);
      const claim = g.emit(setting, draft, 'internal', day);
      claim.diagnoses = [{ code: delivery ? 'O80.000' : 'Z38.000', primary: true }];
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-TCM-INCOMPATIBILITY',
    ruleClass: '中药饮片配伍禁忌',
    claims: 1,
    async inject(g, day) {
      const setting = outpatient(adult(g, day));
      const date = fromEpochDay(day);
      const draft = openVisit(g, setting, date);
      const counterpart = g.rng.pick(INCOMPATIBLE_TCM);
      const partner = ORDINARY_TCM.find((p) => p.name === counterpart.with);
      if (!partner) throw new Error(`${counterpart.with} is not an ordinary piece`);
      const table = g.catalogue.tcmIncompatibility;
      const against = table?.pieceOf(counterpart.name) ?? counterpart.name;
      // Other pieces only where they make no second pair with it (藜芦 conflicts with 党参 too).
      const clashes = (name: string) => table?.conflict(table.pieceOf(name) ?? name, against) !== undefined;
      const lines = [draft.add(partner, date, g.rng.int(6, 15))];
      for (const piece of ORDINARY_TCM)
        if (piece !== partner && !clashes(piece.name) && g.rng.chance(0.4))
          draft.add(piece, date, g.rng.int(6, 20));
      lines.push(draft.add(counterpart, date, g.rng.int(3, 10)));
      g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, this.ruleClass, lines);
    },
  },
  {
    ruleId: 'NHSA-PROCEDURE-SEX',
    ruleClass: '手术操作编码与性别不符',
    claims: 1,
    async inject(g, day) {
      const { setting, draft } = await plainVisit(g, day);
      const claim = g.emit(setting, draft, 'internal', day);
      const code = g.rng.pick(
        setting.patient.sex === 'F'
          ? ['60.2900', '62.4100', '64.0x00']
          : ['68.4901', '69.0900', '74.1x00', '65.2500'],
      );
      claim.procedures = [{ code, primary: true, date: fromEpochDay(day) }];
      g.inject(claim, this.ruleId, this.ruleClass, []);
    },
  },
  {
    ruleId: 'NHSA-SERVICE-COURSE',
    ruleClass: '医疗服务项目限支付疗程',
    claims: 1,
    async inject(g, day) {
      const pool = g.codesOfClass(this.ruleClass).filter((c) => {
        const r = g.catalogue.pointsFor(c.code)?.get(this.ruleClass)?.restriction;
        return c.category === 'service' && r?.kind === 'course' && r.scope !== 'span' && r.maxDays <= 30;
      });
      for (const item of rotated(g, pool)) {
        const r = g.catalogue.pointsFor(item.code)?.get(this.ruleClass)?.restriction;
        if (r?.kind !== 'course' || r.scope === 'span') continue;
        const patient = g.newPatient({ ageYears: 40, insuranceType: 'employee' }, day, false);
        const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
        const dates = Array.from({ length: r.maxDays }, (_, k) => fromEpochDay(day + k));
        // Within the limit it must be clean; the stay then goes past it on purpose.
        if (!(await g.fits(item.code, setting, new ClaimDraft(g.catalogue), { dates, quantity: 1 })))
          continue;
        g.register(patient);
        const draft = new ClaimDraft(g.catalogue);
        const lines = stayWithDrug(draft, item, day, r.maxDays + g.rng.int(1, 3));
        const beyond = [...lines.entries()]
          .filter(([date]) => epochDay(date) >= day + r.maxDays)
          .map(([, l]) => l);
        g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, beyond);
        return;
      }
      throw new Error(`the catalogue has no short ${this.ruleClass} service the generator can bill`);
    },
  },
  ageInjector('NHSA-SERVICE-AGE', '医疗服务项目限年龄', ['service']),
  {
    ruleId: 'NHSA-DRUG-SAME-SUBGROUP',
    ruleClass: '重复开药',
    claims: 1,
    async inject(g, day) {
      const setting = outpatient(adult(g, day, { ageYears: g.rng.int(45, 80) }));
      const date = fromEpochDay(day);
      const plan = { dates: [date], quantity: 1, daysSupply: 7 };
      for (let tries = 0; tries < 100; tries += 1) {
        const draft = openVisit(g, setting, date);
        const first = await g.freshDrug(setting, draft, plan);
        const subgroup = pharmacologicalSubgroupOf(first.code);
        if (subgroup === undefined) continue;
        const firstLine = draft.add(first, date, plan.quantity, plan.daysSupply);
        const others = g.textOnlyDrugsOf(subgroup).filter((d) => genericOf(d.code) !== genericOf(first.code));
        for (const second of rotated(g, others)) {
          if (!(await g.fits(second.code, setting, draft, plan, this.ruleClass))) continue;
          const secondLine = draft.add(second, date, plan.quantity, plan.daysSupply);
          g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, [
            firstLine,
            secondLine,
          ]);
          return;
        }
      }
      throw new Error('no two unrestricted drugs of one pharmacological subgroup the generator can bill');
    },
  },
  {
    ruleId: 'NHSA-LOW-STANDARD-ADMISSION',
    ruleClass: '无指征住院（低标准入院）',
    claims: 1,
    async inject(g, day) {
      const patient = adult(g, day, { ageYears: g.rng.int(30, 70) });
      const setting: Setting = { patient, hospital: hospitalOf(2), visitType: 'inpatient' };
      const stay = g.rng.int(1, 2);
      const dates = Array.from({ length: stay }, (_, k) => fromEpochDay(day + k));
      const draft = new ClaimDraft(g.catalogue);
      for (const date of dates) {
        draft.add(ORDINARY.bed, date, 1);
        draft.add(ORDINARY.wardRound, date, 1);
      }
      // Examinations and tests until they are nine tenths of the charges: past the rule's 0.8.
      const isWorkUp = (code: string) =>
        ['exam', 'lab', 'ct', 'mri'].includes(g.catalogue.serviceClassOf(code) ?? '');
      const workUp = g.restrictedServices.filter((s) => isWorkUp(s.code));
      const share = () => {
        const total = draft.items.reduce((s, i) => s + i.amount, 0);
        const examLab = draft.items.filter((i) => isWorkUp(i.code)).reduce((s, i) => s + i.amount, 0);
        return examLab / total;
      };
      const admission = dates[0] as string;
      for (const service of rotated(g, workUp)) {
        if (share() >= 0.9) break;
        const plan = { dates: [admission], quantity: 1 };
        if (await g.fits(service.code, setting, draft, plan, this.ruleClass))
          draft.add(service, admission, 1);
      }
      if (share() < 0.9)
        throw new Error(`the catalogue has too few examinations and tests for ${this.ruleClass}`);
      const claim = g.emit(setting, draft, 'internal', day, { dischargeDay: day + stay - 1 });
      g.inject(
        claim,
        this.ruleId,
        this.ruleClass,
        claim.items.map((i) => i.lineNo),
      );
    },
  },
  // A new patient has no history, so no first-line drug of the class: any variant breaks it.
  itemInjector('NHSA-DRUG-SECOND-LINE', '药品限二线使用', ['drug'], (kp) =>
    kp.codes.some((code) => pharmacologicalSubgroupOf(code) !== undefined)
      ? variants([50], { hospital: LEVEL3, traits: { insuranceType: 'employee' } })
      : [],
  ),
];

/** The rules of `ruleIds` no injector breaks, so a generated stream never tests them. */
export function rulesWithoutInjector(ruleIds: readonly string[]): string[] {
  const injected = new Set(INJECTORS.map((i) => i.ruleId));
  return ruleIds.filter((id) => !injected.has(id));
}
