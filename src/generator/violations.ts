import { genericOf, pharmacologicalSubgroupOf, specItemOf } from '../catalogue/codes.ts';
import { icd10Matches } from '../catalogue/indications.ts';
import type { KnowledgePoint, Restriction } from '../catalogue/schema.ts';
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
  inject(this: Injector, g: Generator, day: number): Promise<void>;
}

/** The injector of one rule; `inject` writes its claims, `this` being the injector. */
const injector = (
  ruleId: string,
  ruleClass: string,
  claims: 1 | 2,
  inject: Injector['inject'],
): Injector => ({ ruleId, ruleClass, claims, inject });

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
  const candidates = function* () {
    for (const item of rotated(g, pool)) {
      const kp = g.catalogue.pointsFor(item.code)?.get(ruleClass);
      if (kp) for (const variant of variantsFor(kp)) yield { item, variant };
    }
  };
  return firstOf(candidates(), `${ruleClass} code as a lone violation`, async ({ item, variant }) => {
    const patient = g.newPatient(variant.traits, day, false);
    const setting: Setting = { patient, hospital: variant.hospital, visitType: variant.visitType };
    const draft = openVisit(g, setting, date);
    const plan = planFor(item, setting, date);
    // Flagged, and only for the class meant: the claim breaks that rule and nothing else.
    const flags = await g.flagsFor(item.code, setting, draft, plan);
    if (!flags?.length || !flags.every((f) => f.basis.ruleClass === ruleClass)) return undefined;
    g.register(patient);
    return { item, setting, draft, plan };
  });
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
  return injector(ruleId, ruleClass, 1, async (g, day) => {
    const { item, setting, draft, plan } = await findViolation(g, ruleClass, categories, variantsFor, day);
    const lineNo = draft.add(item, fromEpochDay(day), plan.quantity, plan.daysSupply);
    const claim = g.emit(setting, draft, departmentOf(item), day);
    g.inject(claim, ruleId, ruleClass, [lineNo]);
  });
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
 * Codes of `ruleClass` and `category` whose course limit is at most `longest` days, counted in one
 * of `scopes`, from a random offset: a limit across stays needs `total`, since an `episode` limit
 * (单次最多支付) starts again with each stay; a span (支付不超过12个月) is no count of days.
 */
function* shortCourses(
  g: Generator,
  ruleClass: string,
  category: ItemCategory,
  longest: number,
  scopes: readonly ('episode' | 'total')[] = ['episode', 'total'],
): Iterable<{ item: Priced; maxDays: number }> {
  const pool = g.codesOfClass(ruleClass).filter((c) => c.category === category);
  for (const { item, r } of restrictedCodes(g, ruleClass, 'course', pool))
    if (r.scope !== 'span' && scopes.includes(r.scope) && r.maxDays <= longest)
      yield { item, maxDays: r.maxDays };
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

/** A consultation on `day` of a new, unshared employee patient aged `youngest` to `oldest`. */
function freshOutpatientVisit(
  g: Generator,
  day: number,
  youngest: number,
  oldest: number,
): { setting: Setting; date: string; draft: ClaimDraft } {
  const setting = outpatient(
    g.newPatient({ ageYears: g.rng.int(youngest, oldest), insuranceType: 'employee' }, day, false),
  );
  const date = fromEpochDay(day);
  return { setting, date, draft: openVisit(g, setting, date) };
}

/** A consultation on `day` of an adult in the patient pool (25 to 70 unless `youngest`/`oldest` say otherwise). */
function adultVisit(
  g: Generator,
  day: number,
  youngest = 25,
  oldest = 70,
): { setting: Setting; date: string; draft: ClaimDraft } {
  const setting = outpatient(adult(g, day, { ageYears: g.rng.int(youngest, oldest) }));
  const date = fromEpochDay(day);
  return { setting, date, draft: openVisit(g, setting, date) };
}

/** An outpatient visit of a new, unshared patient: consultation and one ordinary drug. */
async function plainVisit(
  g: Generator,
  day: number,
): Promise<{ setting: Setting; draft: ClaimDraft; drugLine: number }> {
  const { setting, date, draft } = freshOutpatientVisit(g, day, 25, 70);
  const plan = { dates: [date], quantity: 3, daysSupply: 7 };
  const drugLine = draft.add(await g.freshDrug(setting, draft, plan), date, plan.quantity, plan.daysSupply);
  return { setting, draft, drugLine };
}

/** A plain visit's claim as `breakIt` leaves it: the lines it returns are the ones the flag names ([] for the claim). */
type ClaimBreaker = (
  g: Generator,
  claim: Claim,
  visit: { setting: Setting; drugLine: number; day: number },
) => number[];

/**
 * An injector that settles a plain visit (`submittedDay` days after it, else the same evening)
 * and breaks the settled claim — a line's amount, its totals, a diagnosis or procedure code.
 */
function brokenClaimInjector(
  ruleId: string,
  ruleClass: string,
  breakIt: ClaimBreaker,
  submittedAfter?: (g: Generator) => number,
): Injector {
  return injector(ruleId, ruleClass, 1, async (g, day) => {
    const { setting, draft, drugLine } = await plainVisit(g, day);
    const options = submittedAfter ? { submittedDay: day + submittedAfter(g) } : {};
    const claim = g.emit(setting, draft, 'internal', day, options);
    g.inject(claim, ruleId, ruleClass, breakIt(g, claim, { setting, drugLine, day }));
  });
}

/** The claim's primary diagnosis, which every emitted claim has. */
function primaryOf(claim: Claim): Claim['diagnoses'][number] {
  const [primary] = claim.diagnoses;
  if (!primary) throw new Error('an emitted claim has no diagnosis');
  return primary;
}

/**
 * The first of `candidates` for which `attempt` writes its violation (a result, not undefined),
 * tried in turn; the error names what the catalogue lacked when none does.
 */
async function firstOf<T, R>(
  candidates: Iterable<T>,
  missing: string,
  attempt: (candidate: T) => Promise<R | undefined>,
): Promise<R> {
  for (const candidate of candidates) {
    const done = await attempt(candidate);
    if (done !== undefined) return done;
  }
  throw new Error(`the catalogue has no ${missing} the generator can bill`);
}

/** Codes of `ruleClass` whose point has a restriction of `kind`, with it, from a random offset. */
function* restrictedCodes<K extends Restriction['kind']>(
  g: Generator,
  ruleClass: string,
  kind: K,
  pool: readonly Priced[] = g.codesOfClass(ruleClass),
): Iterable<{ item: Priced; r: Extract<Restriction, { kind: K }> }> {
  for (const item of rotated(g, pool)) {
    const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
    if (r?.kind === kind) yield { item, r: r as Extract<Restriction, { kind: K }> };
  }
}

/**
 * A clean claim billing `item` on `firstDay`, then a claim billing it again on the day `againDay`
 * picks, injected as the violation of `injector`; undefined when the first claim would not be clean.
 */
async function billedAgain(
  g: Generator,
  injector: Injector,
  item: Priced,
  setting: Setting,
  firstDay: number,
  againDay: () => number,
): Promise<true | undefined> {
  const date = fromEpochDay(firstDay);
  const first = openVisit(g, setting, date);
  const plan = planFor(item, setting, date);
  if (!(await g.fits(item.code, setting, first, plan))) return undefined;
  g.register(setting.patient);
  first.add(item, date, plan.quantity, plan.daysSupply);
  g.emit(setting, first, 'internal', firstDay);
  const day = againDay();
  const again = fromEpochDay(day);
  const draft = openVisit(g, setting, again);
  const lineNo = draft.add(item, again, plan.quantity, planFor(item, setting, again).daysSupply);
  g.inject(g.emit(setting, draft, 'internal', day), injector.ruleId, injector.ruleClass, [lineNo]);
  return true;
}

/**
 * A new inpatient who can be billed `item` every day for `maxDays` days from `day` without a flag
 * (registered), or undefined: within a course limit the stay must be clean, so that the injector's
 * days past it are the only violation.
 */
async function courseInpatient(
  g: Generator,
  item: Priced,
  maxDays: number,
  day: number,
  ageYears: number,
): Promise<Setting | undefined> {
  const patient = g.newPatient({ ageYears, insuranceType: 'employee' }, day, false);
  const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
  const dates = Array.from({ length: maxDays }, (_, k) => fromEpochDay(day + k));
  if (!(await g.fits(item.code, setting, new ClaimDraft(g.catalogue), { dates, quantity: 1 })))
    return undefined;
  g.register(patient);
  return setting;
}

/**
 * A stay billing `item` every day for longer than `maxDays` from `day`, injected with the lines past
 * the limit (the course rules of drugs and services).
 */
async function overlongStay(
  g: Generator,
  injector: Injector,
  item: Priced,
  maxDays: number,
  day: number,
  ageYears: number,
): Promise<true | undefined> {
  const setting = await courseInpatient(g, item, maxDays, day, ageYears);
  if (!setting) return undefined;
  const draft = new ClaimDraft(g.catalogue);
  const lines = stayWithDrug(draft, item, day, maxDays + g.rng.int(1, 3));
  const beyond = [...lines.entries()].filter(([date]) => epochDay(date) >= day + maxDays).map(([, l]) => l);
  g.inject(g.emit(setting, draft, 'internal', day), injector.ruleId, injector.ruleClass, beyond);
  return true;
}

/** A stay past the course limit of a `category` code of `ruleClass` whose limit is at most `longest` days. */
function courseInjector(
  ruleId: string,
  ruleClass: string,
  category: ItemCategory,
  longest: number,
  ageYears: number,
): Injector {
  return injector(ruleId, ruleClass, 1, async function (g, day) {
    await firstOf(shortCourses(g, ruleClass, category, longest), `short ${ruleClass} ${category}`, (c) =>
      overlongStay(g, this, c.item, c.maxDays, day, ageYears),
    );
  });
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
  injector('GZ-TCM-NOT-PAYABLE', '中药饮片单复方均不予支付', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const { setting, date, draft } = adultVisit(g, day);
    for (const piece of ORDINARY_TCM.slice(0, g.rng.int(3, 6))) draft.add(piece, date, g.rng.int(6, 20));
    const plan = { dates: [date], quantity: 10 };
    const piece = await firstOf(rotated(g, g.codesOfClass(ruleClass)), `${ruleClass} piece`, async (p) =>
      (await g.fits(p.code, setting, draft, plan, ruleClass)) ? p : undefined,
    );
    const lineNo = draft.add(piece, date, plan.quantity);
    g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, ruleClass, [lineNo]);
  }),
  injector('GZ-TCM-NOT-PAYABLE-ALONE', '中药饮片单方使用不予支付', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const { setting, date, draft } = adultVisit(g, day);
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
  }),
  injector('GZ-SERVICE-DUPLICATE', '医疗服务项目重复收费', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const pairs = g.catalogue.knowledgePoints.filter((kp) => kp.ruleClass === ruleClass && kp.restriction);
    const date = fromEpochDay(day);
    await firstOf(rotated(g, pairs), `${ruleClass} pair`, async (pair) => {
      const r = pair.restriction;
      if (r?.kind !== 'exclusivePair') return undefined;
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
      if (points(a, b) !== 1 || points(b, a) !== 0) return undefined;
      const patient = g.newPatient({ ageYears: 45, insuranceType: 'employee' }, day, false);
      const setting = outpatient(patient);
      const draft = openVisit(g, setting, date);
      const [itemA, itemB] = [g.priced(a), g.priced(b)];
      const plan = { dates: [date], quantity: 1 };
      if (!(await g.fits(a, setting, draft, plan, ruleClass))) return undefined;
      const lineA = draft.add(itemA, date, 1);
      if (!(await g.fits(b, setting, draft, plan, ruleClass))) return undefined;
      const lineB = draft.add(itemB, date, 1);
      g.register(patient);
      g.inject(g.emit(setting, draft, 'general', day), this.ruleId, ruleClass, [lineA, lineB]);
      return true;
    });
  }),
  injector('GZ-SERVICE-FREQUENCY', '医疗服务项目限定频次', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const date = fromEpochDay(day);
    await firstOf(restrictedCodes(g, ruleClass, 'frequency'), `${ruleClass} code`, async ({ item, r }) => {
      const patient = g.newPatient({ ageYears: 55, insuranceType: 'employee' }, day, false);
      const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
      const draft = openVisit(g, setting, date);
      const plan = { dates: [date], quantity: r.maxPerDay + 1 };
      if (!(await g.fits(item.code, setting, draft, plan, ruleClass))) return undefined;
      g.register(patient);
      const lineNo = draft.add(item, date, plan.quantity);
      g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, ruleClass, [lineNo]);
      return true;
    });
  }),
  courseInjector('GZ-DRUG-COURSE', '药品限支付疗程', 'drug', 21, 50),
  injector('GZ-DRUG-COURSE-HISTORY', '药品限支付疗程', 2, async function (g, day) {
    const { item, maxDays, setting } = await firstOf(
      shortCourses(g, this.ruleClass, 'drug', 21, ['total']),
      `short ${this.ruleClass} drug`,
      async ({ item, maxDays }) => {
        const setting = await courseInpatient(g, item, maxDays, day, 50);
        return setting && { item, maxDays, setting };
      },
    );
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
  }),
  injector('NHSA-SERVICE-CYCLE', '医疗服务项目周期超频次', 2, async function (g, day) {
    const ruleClass = this.ruleClass;
    await firstOf(restrictedCodes(g, ruleClass, 'cycle'), `${ruleClass} service`, async ({ item, r }) => {
      if (r.unit !== 'days') return undefined;
      const setting = outpatient(g.newPatient({ ageYears: 58, insuranceType: 'employee' }, day, false));
      return billedAgain(g, this, item, setting, day, () => laterDay(g, day, 1, r.minIntervalDays - 1));
    });
  }),
  injector('GZ-DRUG-COURSE-SPAN', '药品限支付疗程', 2, async function (g, day) {
    const ruleClass = this.ruleClass;
    const candidates = function* () {
      for (const { item, r } of restrictedCodes(g, ruleClass, 'course'))
        if (r.scope === 'span')
          for (const visitType of ['outpatient', 'inpatient'] as const) yield { item, r, visitType };
    };
    await firstOf(candidates(), `${ruleClass} span-limited drug`, ({ item, r, visitType }) => {
      // The first dose a month past the span before `day`, inside the rule's 400-day history.
      const firstDay = epochDay(addMonths(fromEpochDay(day), -(r.maxMonths + 1)));
      const patient = g.newPatient({ ageYears: 50, insuranceType: 'employee' }, firstDay, false);
      return billedAgain(g, this, item, { patient, hospital: LEVEL3, visitType }, firstDay, () => day);
    });
  }),
  injector('NHSA-SERVICE-CYCLE-WEEK', '医疗服务项目周期超频次', 2, async function (g, day) {
    const ruleClass = this.ruleClass;
    // Monday to Saturday, so a later day of the same calendar week is left (epoch day 0 was a Thursday).
    const weekday = (d: number) => (d + 3) % 7;
    const start = weekday(day) === 6 ? day + 1 : day;
    const lastOfWeek = start + 6 - weekday(start);
    await firstOf(
      restrictedCodes(g, ruleClass, 'cycle'),
      `weekly ${ruleClass} service`,
      async ({ item, r }) => {
        if (r.unit !== 'calendarWeek') return undefined;
        const setting = outpatient(g.newPatient({ ageYears: 6, insuranceType: 'employee' }, start, false));
        return billedAgain(g, this, item, setting, start, () => laterDay(g, start, 1, lastOfWeek - start));
      },
    );
  }),
  brokenClaimInjector('NHSA-SETTLEMENT-LINE', '结算明细信息异常', (g, claim, { drugLine }) => {
    const line = claim.items.find((i) => i.lineNo === drugLine);
    if (!line) throw new Error('the drug line just added is missing');
    // Charged more than quantity × unit price, as a mis-keyed amount would be; totals follow the lines.
    line.amount = Math.round((line.amount + g.rng.int(1, 20)) * 100) / 100;
    retotal(claim);
    return [drugLine];
  }),
  brokenClaimInjector('NHSA-SETTLEMENT-TOTALS', '结算明细信息异常', (g, claim) => {
    const extra = g.rng.int(5, 50);
    const amount = Math.round((claim.totals.amount + extra) * 100) / 100;
    const fundPaid = Math.round((claim.totals.fundPaid + extra) * 100) / 100;
    claim.totals = { amount, fundPaid, selfPaid: claim.totals.selfPaid };
    return [];
  }),
  // Settled more than the 30 days the rule allows after the visit (the patient is not shared, so
  // no later visit of theirs is settled before this one).
  brokenClaimInjector(
    'NHSA-UPLOAD-DELAY',
    '就诊数据非实时上传监管',
    () => [],
    (g) => g.rng.int(31, 60),
  ),
  brokenClaimInjector('NHSA-DIAGNOSIS-CODE', '疾病诊断编码异常', (g, claim) => {
    const primary = primaryOf(claim);
    // Mis-keyed forms seen in settlement lists: a hyphen for the dot, lower case, the name for the code.
    primary.code = g.rng.pick([primary.code.replace('.', '-'), primary.code.toLowerCase(), '2型糖尿病']);
    return [];
  }),
  injector('NHSA-DRUG-KINDS', '药品种类超标', 1, async function (g, day) {
    const { setting, date, draft } = freshOutpatientVisit(g, day, 45, 80);
    const lines: number[] = [];
    // Six or seven distinct generics (fits never takes a generic the draft already has).
    for (let n = g.rng.int(6, 7); n > 0; n -= 1) {
      const plan = { dates: [date], quantity: 1, daysSupply: 7 };
      const drug = await g.freshDrug(setting, draft, plan, this.ruleClass);
      lines.push(draft.add(drug, date, plan.quantity, plan.daysSupply));
    }
    g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, lines);
  }),
  injector('NHSA-TCM-LARGE-PRESCRIPTION', '中药饮片超大处方', 1, async function (g, day) {
    const { setting, date, draft } = freshOutpatientVisit(g, day, 30, 80);
    const pieces = [...ORDINARY_TCM].slice(0, g.rng.int(5, 8));
    // Enough grams that the prescription passes the rule's 1,000 yuan.
    const grams = Math.ceil(1200 / pieces.reduce((s, p) => s + p.unitPrice, 0));
    const lines = pieces.map((p) => draft.add(p, date, grams));
    g.inject(g.emit(setting, draft, 'tcm', day), this.ruleId, this.ruleClass, lines);
  }),
  injector('GZ-REPEAT-PRESCRIPTION', '重复开药', 2, async function (g, day) {
    const { setting, date, draft: first } = adultVisit(g, day, 50, 80);
    const drug = await g.freshDrug(setting, first, { dates: [date], quantity: 2, daysSupply: 30 });
    first.add(drug, date, 2, 30);
    g.emit(setting, first, 'internal', day);
    // Back while more than the rule's grace period (7 days) of the 30-day supply is left.
    const again = laterDay(g, day, 5, 20);
    const draft = openVisit(g, setting, fromEpochDay(again));
    const lineNo = draft.add(drug, fromEpochDay(again), 2, 30);
    g.inject(g.emit(setting, draft, 'internal', again), this.ruleId, this.ruleClass, [lineNo]);
  }),
  injector('FG-HISTORY-SAME-DAY', '同一项目同日重复结算', 2, async function (g, day) {
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
  }),
  injector('NHSA-DRUG-MAX-SUPPLY', '药品限最大开药天数/开药量', 1, async function (g, day) {
    const { setting, date, draft } = adultVisit(g, day, 45, 80);
    const daysSupply = g.rng.int(31, 90);
    const drug = await g.freshDrug(
      setting,
      draft,
      { dates: [date], quantity: 3, daysSupply },
      this.ruleClass,
    );
    const lineNo = draft.add(drug, date, 3, daysSupply);
    g.inject(g.emit(setting, draft, 'internal', day), this.ruleId, this.ruleClass, [lineNo]);
  }),
  injector('FG-AFTER-DEATH', '参保人死亡后发生医疗费用', 1, async function (g, day) {
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
  }),
  injector('GZ-BILLING-OUTSIDE-STAY', '计费日期与住院时间不符', 1, async function (g, day) {
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
  }),
  brokenClaimInjector('NHSA-DIAGNOSIS-SEX', '诊断与患者性别不符', (g, claim, { setting }) => {
    // A category the reference gives to the other sex outright (no maternity code: its age band
    // would add a second flag for the older patients).
    primaryOf(claim).code = g.rng.pick(
      setting.patient.sex === 'F'
        ? ['C61.x00', 'N40.x00', 'N43.300', 'E29.100']
        : ['N92.000', 'C53.900', 'N80.000', 'D25.900'],
    );
    return [];
  }),
  injector('NHSA-DIAGNOSIS-AGE', '诊断与患者年龄不符', 1, async function (g, day) {
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
  }),
  injector('NHSA-TCM-INCOMPATIBILITY', '中药饮片配伍禁忌', 1, async function (g, day) {
    const { setting, date, draft } = adultVisit(g, day);
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
  }),
  brokenClaimInjector('NHSA-PROCEDURE-SEX', '手术操作编码与性别不符', (g, claim, { setting, day }) => {
    const code = g.rng.pick(
      setting.patient.sex === 'F'
        ? ['60.2900', '62.4100', '64.0x00']
        : ['68.4901', '69.0900', '74.1x00', '65.2500'],
    );
    claim.procedures = [{ code, primary: true, date: fromEpochDay(day) }];
    return [];
  }),
  courseInjector('NHSA-SERVICE-COURSE', '医疗服务项目限支付疗程', 'service', 30, 40),
  ageInjector('NHSA-SERVICE-AGE', '医疗服务项目限年龄', ['service']),
  injector('NHSA-DRUG-SAME-SUBGROUP', '重复开药', 1, async function (g, day) {
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
  }),
  injector('NHSA-LOW-STANDARD-ADMISSION', '无指征住院（低标准入院）', 1, async function (g, day) {
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
    const isWorkUp = ({ code, name }: { code: string; name: string }) =>
      ['exam', 'lab', 'ct', 'mri'].includes(g.catalogue.serviceClassOf(code, name) ?? '');
    const workUp = g.restrictedServices.filter(isWorkUp);
    const share = () => {
      const total = draft.items.reduce((s, i) => s + i.amount, 0);
      const examLab = draft.items.filter(isWorkUp).reduce((s, i) => s + i.amount, 0);
      return examLab / total;
    };
    const admission = dates[0] as string;
    for (const service of rotated(g, workUp)) {
      if (share() >= 0.9) break;
      const plan = { dates: [admission], quantity: 1 };
      if (await g.fits(service.code, setting, draft, plan, this.ruleClass)) draft.add(service, admission, 1);
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
  }),
  injector('NHSA-SURGERY-DISCOUNT', '手术项目未按规定折价收费', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const date = fromEpochDay(day);
    const surgeries = [...restrictedCodes(g, ruleClass, 'surgeryGroup')];
    // Two different surgeries of one group (not two variants of one), for a patient of either sex.
    const candidates = function* () {
      for (const a of surgeries) {
        const partners = surgeries.filter(
          (b) => b.r.group === a.r.group && specItemOf(b.item.code) !== specItemOf(a.item.code),
        );
        if (partners.length)
          for (const sex of ['F', 'M'] as const) yield { a: a.item, b: g.rng.pick(partners).item, sex };
      }
    };
    await firstOf(candidates(), `pair of ${ruleClass} surgeries`, async ({ a, b, sex }) => {
      const patient = g.newPatient(
        { sex, ageYears: g.rng.int(30, 70), insuranceType: 'employee' },
        day,
        false,
      );
      const setting: Setting = { patient, hospital: LEVEL3, visitType: 'inpatient' };
      const draft = openVisit(g, setting, date);
      const plan = { dates: [date], quantity: 1 };
      if (!(await g.fits(a.code, setting, draft, plan, ruleClass))) return undefined;
      const lineA = draft.add(a, date, 1);
      if (!(await g.fits(b.code, setting, draft, plan, ruleClass))) return undefined;
      const lineB = draft.add(b, date, 1);
      g.register(patient);
      // Both at full price: the cheaper one (the later one on a tie) is the second surgery.
      const later = b.unitPrice > a.unitPrice ? lineA : lineB;
      g.inject(g.emit(setting, draft, 'surgery', day), this.ruleId, ruleClass, [later]);
      return true;
    });
  }),
  // A new patient has no history, so no first-line drug of the class: any variant breaks it.
  itemInjector('NHSA-DRUG-SECOND-LINE', '药品限二线使用', ['drug'], (kp) =>
    kp.codes.some((code) => pharmacologicalSubgroupOf(code) !== undefined)
      ? variants([50], { hospital: LEVEL3, traits: { insuranceType: 'employee' } })
      : [],
  ),
  injector('NHSA-DRUG-INDICATION', '药品限适应症', 1, async function (g, day) {
    const ruleClass = this.ruleClass;
    const date = fromEpochDay(day);
    for (const item of rotated(g, g.codesOfClass(ruleClass))) {
      const r = g.catalogue.pointsFor(item.code)?.get(ruleClass)?.restriction;
      if (r?.kind !== 'indication') continue;
      // A diagnosis of an ordinary visit that none of the drug's indications covers.
      const diagnosis = UNINDICATED_DIAGNOSES.find(
        (code) => !r.alternatives.some((a) => a.icd10.some((key) => icd10Matches(key, code))),
      );
      if (!diagnosis) continue;
      const setting = outpatient(adult(g, day));
      const draft = openVisit(g, setting, date);
      const plan = planFor(item, setting, date);
      if (!(await g.fits(item.code, setting, draft, plan, ruleClass))) continue;
      const lineNo = draft.add(item, date, plan.quantity, plan.daysSupply);
      const claim = g.emit(setting, draft, 'general', day);
      claim.diagnoses = [{ code: diagnosis, primary: true }];
      g.inject(claim, this.ruleId, ruleClass, [lineNo]);
      return;
    }
    throw new Error(`the catalogue has no ${ruleClass} drug the generator can bill`);
  }),
];

/** Diagnoses of ordinary visits (acute upper respiratory infection, gastroenteritis, low back pain). */
const UNINDICATED_DIAGNOSES = ['J06.900', 'K52.900', 'M54.500'];

/** The rules of `ruleIds` no injector breaks, so a generated stream never tests them. */
export function rulesWithoutInjector(ruleIds: readonly string[]): string[] {
  const injected = new Set(INJECTORS.map((i) => i.ruleId));
  return ruleIds.filter((id) => !injected.has(id));
}
