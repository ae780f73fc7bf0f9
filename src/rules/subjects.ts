import type { KnowledgePoint } from '../catalogue/schema.ts';
import { type DraftClaim, type Item, type ItemCategory, serviceSpan } from '../contracts/claim.ts';
import type { SubjectKind } from '../contracts/rule.ts';
import { addMonths, calendarWeek, epochDay } from '../dates.ts';
import type { HistoryClaim, HistoryItem } from '../history/store.ts';

/** What the core needs of the reference catalogues: the knowledge points that cover a code. */
export interface CatalogueLookup {
  /** Active knowledge points for `code`, keyed by rule class. */
  pointsFor(code: string): ReadonlyMap<string, KnowledgePoint> | undefined;
  /** Reference groups (rules/reference) the claim's diagnosis codes fall in: indeterminateSex, maternity. */
  diagnosisGroupsOf(codes: readonly string[]): ReadonlySet<string>;
}

/**
 * One thing a rule's conditions judge: an item, a day of charges, a pair of lines, … Builders only
 * shape data (group, count, measure distances); whether it is a violation is the rule's business.
 */
export interface Subject {
  kind: SubjectKind;
  /** What the conditions read as the `subject` fact. */
  fact: Record<string, unknown>;
  /** Date the patient's age is taken at. */
  date: string;
  lineNos: number[];
  amountAtRisk: number;
  category?: ItemCategory;
  /** Knowledge points that apply, by rule class; a rule with `when.ruleClass` needs one. */
  points?: ReadonlyMap<string, KnowledgePoint>;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function itemFact(item: Item): Record<string, unknown> {
  return {
    lineNo: item.lineNo,
    code: item.code,
    name: item.name,
    category: item.category,
    quantity: item.quantity,
    unitPrice: item.unitPrice,
    amount: item.amount,
    serviceDate: item.serviceDate,
    daysSupply: item.daysSupply ?? null,
    /** |amount − quantity × unit price| in yuan: a line whose amount is not its price times its quantity. */
    amountGap: round2(Math.abs(item.amount - item.quantity * item.unitPrice)),
  };
}

const single = (kp: KnowledgePoint): ReadonlyMap<string, KnowledgePoint> => new Map([[kp.ruleClass, kp]]);

function groupBy<T>(values: readonly T[], key: (v: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const v of values) {
    const k = key(v);
    const g = groups.get(k);
    if (g) g.push(v);
    else groups.set(k, [v]);
  }
  return groups;
}

/** Each item, with the knowledge points its code carries. */
export function itemSubjects(claim: DraftClaim, catalogue: CatalogueLookup): Subject[] {
  return claim.items.map((item) => {
    const points = catalogue.pointsFor(item.code);
    return {
      kind: 'item',
      fact: itemFact(item),
      date: item.serviceDate,
      lineNos: [item.lineNo],
      amountAtRisk: item.amount,
      category: item.category,
      ...(points ? { points } : {}),
    };
  });
}

/** Each day with charges, measured against the stay and the patient's death. */
export function daySubjects(claim: DraftClaim): Subject[] {
  const { admittedAt, dischargedAt } = claim.visit;
  const death = claim.patient.deathDate;
  const subjects: Subject[] = [];
  for (const [date, items] of groupBy(claim.items, (i) => i.serviceDate)) {
    const day = epochDay(date);
    subjects.push({
      kind: 'day',
      fact: {
        date,
        itemCount: items.length,
        names: items.map((i) => i.name).join('、'),
        daysBeforeAdmission: admittedAt ? epochDay(admittedAt) - day : null,
        daysAfterDischarge: dischargedAt ? day - epochDay(dischargedAt) : null,
        daysAfterDeath: death ? day - epochDay(death) : null,
      },
      date,
      lineNos: items.map((i) => i.lineNo),
      amountAtRisk: round2(items.reduce((s, i) => s + i.amount, 0)),
    });
  }
  return subjects;
}

/**
 * Pairs of lines whose codes form an exclusive pair (医疗服务项目重复收费: A's price already
 * contains B). The B line is the duplicate charge, so its amount is at risk.
 */
export function exclusivePairSubjects(
  claim: DraftClaim,
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  const byCode = groupBy(claim.items, (i) => i.code);
  const subjects: Subject[] = [];
  const seen = new Set<string>();
  for (const [code, linesA] of byCode) {
    const kp = catalogue.pointsFor(code)?.get(ruleClass);
    if (kp?.restriction?.kind !== 'exclusivePair') continue;
    // A code may sit in several pairs; the catalogue keeps each pair as its own knowledge point.
    for (const pair of pairsOf(catalogue, code, ruleClass)) {
      const [codeA, codeB] = pair.restriction;
      if (codeA !== code || seen.has(pair.kp.kpId)) continue;
      const linesB = byCode.get(codeB);
      if (!linesB) continue;
      seen.add(pair.kp.kpId);
      for (const a of linesA) {
        for (const b of linesB) {
          subjects.push({
            kind: 'exclusivePair',
            fact: {
              a: { lineNo: a.lineNo, code: a.code, name: a.name, serviceDate: a.serviceDate },
              b: {
                lineNo: b.lineNo,
                code: b.code,
                name: b.name,
                serviceDate: b.serviceDate,
                amount: b.amount,
              },
              daysApart: Math.abs(epochDay(a.serviceDate) - epochDay(b.serviceDate)),
            },
            date: b.serviceDate,
            lineNos: [a.lineNo, b.lineNo],
            amountAtRisk: b.amount,
            category: 'service',
            points: single(pair.kp),
          });
        }
      }
    }
  }
  return subjects;
}

/** Catalogues that know several pairs per code expose them through `pairsFor`. */
interface PairLookup {
  pairsFor(code: string, ruleClass: string): readonly KnowledgePoint[];
}

function pairsOf(
  catalogue: CatalogueLookup,
  code: string,
  ruleClass: string,
): { kp: KnowledgePoint; restriction: [string, string] }[] {
  const lookup = catalogue as Partial<PairLookup> & CatalogueLookup;
  const points = lookup.pairsFor
    ? lookup.pairsFor(code, ruleClass)
    : [catalogue.pointsFor(code)?.get(ruleClass)];
  const out: { kp: KnowledgePoint; restriction: [string, string] }[] = [];
  for (const kp of points) {
    if (kp?.restriction?.kind === 'exclusivePair') out.push({ kp, restriction: kp.restriction.codes });
  }
  return out;
}

/** Units of one code charged on one day, for codes priced per day or per hour (限定频次). */
export function dailyQuantitySubjects(
  claim: DraftClaim,
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  const subjects: Subject[] = [];
  const candidates = claim.items.filter((i) => catalogue.pointsFor(i.code)?.has(ruleClass));
  for (const items of groupBy(candidates, (i) => `${i.code}|${i.serviceDate}`).values()) {
    const first = items[0];
    const kp = first && catalogue.pointsFor(first.code)?.get(ruleClass);
    if (!first || !kp || kp.restriction?.kind !== 'frequency') continue;
    const quantity = items.reduce((s, i) => s + i.quantity, 0);
    const excess = Math.max(0, quantity - kp.restriction.maxPerDay);
    subjects.push({
      kind: 'dailyQuantity',
      fact: { code: first.code, name: first.name, date: first.serviceDate, quantity, lines: items.length },
      date: first.serviceDate,
      lineNos: items.map((i) => i.lineNo),
      amountAtRisk: round2(excess * first.unitPrice),
      category: first.category,
      points: single(kp),
    });
  }
  return subjects;
}

/**
 * Distinct days a course-limited drug or service was billed (限支付疗程), per knowledge point, so
 * the specs and makers it lists count as one course. The days past the limit are at risk.
 */
export function courseSubjects(claim: DraftClaim, catalogue: CatalogueLookup, ruleClass: string): Subject[] {
  const byKp = new Map<string, { kp: KnowledgePoint; items: Item[] }>();
  for (const item of claim.items) {
    const kp = catalogue.pointsFor(item.code)?.get(ruleClass);
    // A span from the first dose (支付不超过12个月) does not count billed days; see historyCourseSubjects.
    if (kp?.restriction?.kind !== 'course' || kp.restriction.scope === 'span') continue;
    const entry = byKp.get(kp.kpId);
    if (entry) entry.items.push(item);
    else byKp.set(kp.kpId, { kp, items: [item] });
  }
  const subjects: Subject[] = [];
  for (const { kp, items } of byKp.values()) {
    if (kp.restriction?.kind !== 'course' || kp.restriction.scope === 'span') continue;
    const days = [...new Set(items.map((i) => i.serviceDate))].sort();
    const lastPayable = days[kp.restriction.maxDays - 1];
    const beyond = lastPayable ? items.filter((i) => i.serviceDate > lastPayable) : [];
    const first = items[0];
    if (!first) continue;
    subjects.push({
      kind: 'course',
      fact: {
        name: first.name,
        distinctDays: days.length,
        firstDate: days[0],
        lastDate: days[days.length - 1],
      },
      date: days[0] ?? first.serviceDate,
      lineNos: (beyond.length ? beyond : items).map((i) => i.lineNo),
      amountAtRisk: round2(beyond.reduce((s, i) => s + i.amount, 0)),
      category: first.category,
      points: single(kp),
    });
  }
  return subjects;
}

/**
 * The TCM pieces billed on one day, taken as one prescription (中药饮片单方使用不予支付: a
 * prescription made only of such pieces is not payable). Only prescriptions with at least one
 * such piece are subjects.
 */
export function tcmPrescriptionSubjects(
  claim: DraftClaim,
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  const pieces = claim.items.filter((i) => i.category === 'tcm-herbal');
  const subjects: Subject[] = [];
  for (const [date, items] of groupBy(pieces, (i) => i.serviceDate)) {
    const flagged = items.filter(
      (i) => catalogue.pointsFor(i.code)?.get(ruleClass)?.restriction?.kind === 'tcmNotPayableAlone',
    );
    const firstFlagged = flagged[0];
    const kp = firstFlagged && catalogue.pointsFor(firstFlagged.code)?.get(ruleClass);
    if (!kp) continue;
    subjects.push({
      kind: 'tcmPrescription',
      fact: {
        date,
        pieceCount: items.length,
        notPayableAloneCount: flagged.length,
        names: items.map((i) => i.name).join('、'),
      },
      date,
      lineNos: items.map((i) => i.lineNo),
      amountAtRisk: round2(items.reduce((s, i) => s + i.amount, 0)),
      category: 'tcm-herbal',
      points: single(kp),
    });
  }
  return subjects;
}

/**
 * The claim as a whole (结算明细信息异常, 就诊数据非实时上传监管): its lines against its totals, and the
 * day it was settled against the day care ended (discharge for a stay, else the last service date).
 * Drafts carry neither totals nor a settlement time; those facts are then null.
 */
export function claimSubjects(claim: DraftClaim): Subject[] {
  const [first, last] = serviceSpan(claim);
  const lineSum = round2(claim.items.reduce((s, i) => s + i.amount, 0));
  const careEnd =
    claim.visit.dischargedAt && claim.visit.dischargedAt > last ? claim.visit.dischargedAt : last;
  const submitted = claim.submittedAt?.slice(0, 10);
  const totals = claim.totals;
  return [
    {
      kind: 'claim',
      fact: {
        lineCount: claim.items.length,
        lineSum,
        totalsAmount: totals?.amount ?? null,
        totalsGap: totals ? round2(Math.abs(totals.amount - lineSum)) : null,
        paidGap: totals ? round2(Math.abs(totals.fundPaid + totals.selfPaid - totals.amount)) : null,
        lastServiceDate: last,
        careEnd,
        submittedDate: submitted ?? null,
        daysAfterCareEnd: submitted ? epochDay(submitted) - epochDay(careEnd) : null,
        daysBeforeLastService: submitted ? epochDay(last) - epochDay(submitted) : null,
      },
      date: first,
      lineNos: [],
      amountAtRisk: totals ? round2(Math.max(0, totals.amount - lineSum)) : 0,
    },
  ];
}

/**
 * ICD-10 as the settlement list writes it: a category (E11), optionally a subcategory and the national
 * clinical edition's extension (E11.900, C61.x00, E34.500x001), a dagger or asterisk mark; or an
 * ICD-O morphology code (M81400/3).
 */
const ICD10_FORM = /^(?:[A-Z]\d{2}(?:\.[0-9xX]{1,3}(?:x\d{3})?)?[+*†]?|M\d{4,5}\/\d)$/;

/** Each diagnosis of the claim, with whether its code has the ICD-10 form (疾病诊断编码异常). */
export function diagnosisSubjects(claim: DraftClaim): Subject[] {
  const [first] = serviceSpan(claim);
  return claim.diagnoses.map((d, i) => ({
    kind: 'diagnosis',
    fact: { index: i + 1, code: d.code, primary: d.primary, icd10Form: ICD10_FORM.test(d.code) },
    date: first,
    lineNos: [],
    amountAtRisk: 0,
  }));
}

/**
 * The western and patent drugs (category drug) billed on one day of a visit, taken as one
 * prescription (药品种类超标): `drugKinds` counts distinct generics (the code's first 10 characters),
 * so two specs of one drug are one kind.
 */
export function prescriptionSubjects(claim: DraftClaim): Subject[] {
  const drugs = claim.items.filter((i) => i.category === 'drug');
  const subjects: Subject[] = [];
  for (const [date, items] of groupBy(drugs, (i) => i.serviceDate)) {
    subjects.push({
      kind: 'prescription',
      fact: {
        date,
        drugKinds: new Set(items.map((i) => genericOf(i.code))).size,
        names: items.map((i) => i.name).join('、'),
      },
      date,
      lineNos: items.map((i) => i.lineNo),
      amountAtRisk: 0,
      category: 'drug',
    });
  }
  return subjects;
}

/** The TCM pieces billed on one day, taken as one prescription (中药饮片超大处方): pieces and amount. */
export function herbalPrescriptionSubjects(claim: DraftClaim): Subject[] {
  const pieces = claim.items.filter((i) => i.category === 'tcm-herbal');
  const subjects: Subject[] = [];
  for (const [date, items] of groupBy(pieces, (i) => i.serviceDate)) {
    subjects.push({
      kind: 'herbalPrescription',
      fact: {
        date,
        pieceCount: new Set(items.map((i) => i.code)).size,
        amount: round2(items.reduce((s, i) => s + i.amount, 0)),
      },
      date,
      lineNos: items.map((i) => i.lineNo),
      amountAtRisk: 0,
      category: 'tcm-herbal',
    });
  }
  return subjects;
}

/** An earlier line of the patient's, with the claim it came from. */
interface PastLine {
  claimId: string;
  item: HistoryItem;
}

function pastLines(history: readonly HistoryClaim[], claimId: string | undefined): PastLine[] {
  const out: PastLine[] = [];
  // A redelivered claim may already be in history; it must not count against itself.
  for (const c of history)
    if (c.claimId !== claimId) for (const item of c.items) out.push({ claimId: c.claimId, item });
  return out;
}

/** The same code charged on the same day in an earlier claim (重复收费 across claims). */
export function historySameDaySubjects(claim: DraftClaim, history: readonly HistoryClaim[]): Subject[] {
  if (!history.length) return [];
  const byCodeDay = new Map<string, PastLine>();
  for (const past of pastLines(history, claim.claimId))
    byCodeDay.set(`${past.item.code}|${past.item.serviceDate}`, past);
  const subjects: Subject[] = [];
  for (const item of claim.items) {
    const past = byCodeDay.get(`${item.code}|${item.serviceDate}`);
    if (!past) continue;
    subjects.push({
      kind: 'historySameDay',
      fact: {
        ...itemFact(item),
        otherClaimId: past.claimId,
        otherLineNo: past.item.lineNo,
        otherDate: past.item.serviceDate,
      },
      date: item.serviceDate,
      lineNos: [item.lineNo],
      amountAtRisk: item.amount,
      category: item.category,
    });
  }
  return subjects;
}

/**
 * A course-limited drug across the patient's recent claims and this one (药品限支付疗程, cumulative),
 * in the scope its text states. `total` (支付不超过14天): distinct billed days over every claim, the
 * lines of this claim past the limit at risk. `span` (支付不超过12个月): months since the first dose
 * in history, the lines after the span ends at risk. `episode` (单次最多支付14天) limits one stay, so
 * earlier stays never count and it has no subject here.
 */
export function historyCourseSubjects(
  claim: DraftClaim,
  history: readonly HistoryClaim[],
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  if (!history.length) return [];
  const subjects: Subject[] = [];
  for (const current of courseSubjects(claim, catalogue, ruleClass)) {
    const kp = current.points?.get(ruleClass);
    if (kp?.restriction?.kind !== 'course' || kp.restriction.scope !== 'total') continue;
    const codes = new Set(kp.codes);
    const pastDays = new Set<string>();
    for (const { item } of pastLines(history, claim.claimId))
      if (codes.has(item.code)) pastDays.add(item.serviceDate);
    if (!pastDays.size) continue;
    const claimItems = claim.items.filter((i) => codes.has(i.code));
    const claimDays = [...new Set(claimItems.map((i) => i.serviceDate))].sort();
    const newDays = claimDays.filter((d) => !pastDays.has(d));
    const payableLeft = Math.max(0, kp.restriction.maxDays - pastDays.size);
    const lastPayable = newDays[payableLeft - 1];
    const beyond = claimItems.filter(
      (i) => !pastDays.has(i.serviceDate) && (!lastPayable || i.serviceDate > lastPayable),
    );
    subjects.push({
      ...current,
      kind: 'historyCourse',
      fact: {
        ...current.fact,
        claimDays: claimDays.length,
        earlierDays: pastDays.size,
        distinctDays: pastDays.size + newDays.length,
        daysLeft: payableLeft,
      },
      lineNos: beyond.map((i) => i.lineNo),
      amountAtRisk: round2(beyond.reduce((s, i) => s + i.amount, 0)),
    });
  }
  subjects.push(...courseSpanSubjects(claim, history, catalogue, ruleClass));
  return subjects;
}

/** `span` courses: the first dose in history or this claim, the span's end, and this claim's lines after it. */
function courseSpanSubjects(
  claim: DraftClaim,
  history: readonly HistoryClaim[],
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  const byKp = new Map<string, { kp: KnowledgePoint; items: Item[] }>();
  for (const item of claim.items) {
    const kp = catalogue.pointsFor(item.code)?.get(ruleClass);
    if (kp?.restriction?.kind !== 'course' || kp.restriction.scope !== 'span') continue;
    const entry = byKp.get(kp.kpId);
    if (entry) entry.items.push(item);
    else byKp.set(kp.kpId, { kp, items: [item] });
  }
  const subjects: Subject[] = [];
  for (const { kp, items } of byKp.values()) {
    if (kp.restriction?.kind !== 'course' || kp.restriction.scope !== 'span') continue;
    const codes = new Set(kp.codes);
    let firstDose: string | undefined;
    for (const { item } of pastLines(history, claim.claimId))
      if (codes.has(item.code) && (!firstDose || item.serviceDate < firstDose)) firstDose = item.serviceDate;
    for (const item of items) if (!firstDose || item.serviceDate < firstDose) firstDose = item.serviceDate;
    const first = items[0];
    if (!firstDose || !first) continue;
    const spanEnd = addMonths(firstDose, kp.restriction.maxMonths);
    const beyond = items.filter((i) => i.serviceDate >= spanEnd);
    const lastDate = items.reduce((d, i) => (i.serviceDate > d ? i.serviceDate : d), first.serviceDate);
    subjects.push({
      kind: 'historyCourse',
      fact: {
        name: first.name,
        firstDose,
        spanEnd,
        lastDate,
        daysPastSpan: Math.max(0, epochDay(lastDate) - epochDay(spanEnd) + 1),
      },
      date: first.serviceDate,
      lineNos: beyond.map((i) => i.lineNo),
      amountAtRisk: round2(beyond.reduce((s, i) => s + i.amount, 0)),
      category: first.category,
      points: single(kp),
    });
  }
  return subjects;
}

/**
 * Days since the previous charge of a cycle-limited service (周期超频次), looking at earlier
 * claims and earlier days of this one. Only charges with a previous one are subjects.
 */
export function historyCycleSubjects(
  claim: DraftClaim,
  history: readonly HistoryClaim[],
  catalogue: CatalogueLookup,
  ruleClass: string,
): Subject[] {
  const lastByKp = new Map<string, { date: string; claimId: string }>();
  /** `kpId|calendar week` → charges so far, for limits per calendar week (每周最多支付一次). */
  const perWeek = new Map<string, number>();
  const seen = (kpId: string, date: string, claimId: string): void => {
    const prev = lastByKp.get(kpId);
    if (!prev || date > prev.date) lastByKp.set(kpId, { date, claimId });
    const week = `${kpId}|${calendarWeek(date)}`;
    perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
  };
  for (const { claimId, item } of pastLines(history, claim.claimId)) {
    const kp = catalogue.pointsFor(item.code)?.get(ruleClass);
    if (kp) seen(kp.kpId, item.serviceDate, claimId);
  }
  const subjects: Subject[] = [];
  const ordered = [...claim.items].sort((a, b) =>
    a.serviceDate < b.serviceDate ? -1 : a.serviceDate > b.serviceDate ? 1 : 0,
  );
  for (const item of ordered) {
    const kp = catalogue.pointsFor(item.code)?.get(ruleClass);
    if (kp?.restriction?.kind !== 'cycle') continue;
    const prev = lastByKp.get(kp.kpId);
    if (prev && prev.date <= item.serviceDate) {
      subjects.push({
        kind: 'historyCycle',
        fact: {
          ...itemFact(item),
          previousDate: prev.date,
          previousClaimId: prev.claimId,
          daysSincePrevious: epochDay(item.serviceDate) - epochDay(prev.date),
          // This charge included: 2 means a second charge in the same Monday-to-Sunday week.
          chargesInCalendarWeek: (perWeek.get(`${kp.kpId}|${calendarWeek(item.serviceDate)}`) ?? 0) + 1,
        },
        date: item.serviceDate,
        lineNos: [item.lineNo],
        amountAtRisk: item.amount,
        category: item.category,
        points: single(kp),
      });
    }
    seen(kp.kpId, item.serviceDate, claim.claimId ?? 'draft');
  }
  return subjects;
}

/** NHSA drug codes: `X` + 5-char class + 4-char generic name, then form, spec and maker. */
const genericOf = (code: string): string => code.slice(0, 10);

/**
 * The same generic drug prescribed again while an earlier supply lasts (重复开药): days of the
 * previous supply still left on this line's service date.
 */
export function historySupplySubjects(claim: DraftClaim, history: readonly HistoryClaim[]): Subject[] {
  if (!history.length) return [];
  const supplyEnd = new Map<string, { end: number; claimId: string; date: string }>();
  for (const { claimId, item } of pastLines(history, claim.claimId)) {
    if (item.category !== 'drug' || !item.daysSupply) continue;
    const end = epochDay(item.serviceDate) + item.daysSupply;
    const prev = supplyEnd.get(genericOf(item.code));
    if (!prev || end > prev.end)
      supplyEnd.set(genericOf(item.code), { end, claimId, date: item.serviceDate });
  }
  const subjects: Subject[] = [];
  for (const item of claim.items) {
    if (item.category !== 'drug' || !item.daysSupply) continue;
    const prev = supplyEnd.get(genericOf(item.code));
    if (!prev || prev.date > item.serviceDate) continue;
    subjects.push({
      kind: 'historySupply',
      fact: {
        ...itemFact(item),
        previousDate: prev.date,
        previousClaimId: prev.claimId,
        daysRemaining: prev.end - epochDay(item.serviceDate),
      },
      date: item.serviceDate,
      lineNos: [item.lineNo],
      amountAtRisk: item.amount,
      category: item.category,
    });
  }
  return subjects;
}
