import { z } from 'zod';
import type { CodeEdit } from '../../catalogue/code-edits.ts';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import type { TcmIncompatibility } from '../../catalogue/tcm-incompatibility.ts';
import type { Claim, DraftClaim, Item, ItemCategory } from '../../contracts/claim.ts';
import type { Stage } from '../../contracts/flag.ts';
import type { RuleFile } from '../../contracts/rule.ts';
import type { HistoryClaim, HistoryItem } from '../../history/store.ts';
import type { PlannedCycles } from './planned-cycles.ts';

/** What the core needs of the reference catalogues: the knowledge points that cover a code. */
export interface CatalogueLookup {
  /**
   * Knowledge points for `code` that apply to a line served on `date` (a knowledge point applies from
   * its publication until an update replaces it), keyed by rule class.
   */
  pointsFor(code: string, date: string): ReadonlyMap<string, KnowledgePoint> | undefined;
  /** Every exclusive-pair knowledge point of `ruleClass` that `code` is part of and that applies on `date`. */
  pairsFor(code: string, ruleClass: string, date: string): readonly KnowledgePoint[];
  /** Reference groups (rules/reference) the claim's diagnosis codes fall in: indeterminateSex, maternity. */
  diagnosisGroupsOf(codes: readonly string[]): ReadonlySet<string>;
  /** Sex and age edits (rules/reference/diagnosis-edits.json) of an ICD-10 code. */
  diagnosisEditsOf(code: string): readonly CodeEdit[];
  /** Sex edits (rules/reference/procedure-edits.json) of an ICD-9-CM-3 procedure code. */
  procedureEditsOf(code: string): readonly CodeEdit[];
  /** The 十八反 / 十九畏 table (rules/reference/tcm-incompatibility.json), if loaded. */
  readonly tcmIncompatibility: TcmIncompatibility | undefined;
  /**
   * The class of a service item (rules/reference/service-classes.json): exam, lab, ct, mri, treatment,
   * surgery — by its national code's chapter, else by words of its name.
   */
  serviceClassOf(code: string, name?: string): string | undefined;
}

/**
 * One claim line a subject covers, with the per-line facts a rule's `atRisk` selects on. Every kind
 * offers these four; a kind adds its own (a course's `dayNo`, a pair's `role`) in its `line` schema.
 */
export const LineFact = z.looseObject({
  lineNo: z.number(),
  amount: z.number(),
  unitPrice: z.number(),
  quantity: z.number(),
});
export type LineFact = z.infer<typeof LineFact>;

/**
 * One thing a rule's conditions judge: an item, a day of charges, a pair of lines, … Builders only
 * shape data (group, count, measure distances); whether it is a violation, which lines are at risk
 * and for how much is the rule file's business (`conditions` and `atRisk`).
 */
export interface Subject {
  kind: string;
  /** What the conditions read as the `subject` fact. */
  fact: Record<string, unknown>;
  /** Date the patient's age is taken at. */
  date: string;
  /** The claim lines it covers, in claim order; `atRisk` picks the flag's lines and amount from them. */
  lines: LineFact[];
  category?: ItemCategory;
  /** Knowledge points that apply, by rule class; a rule with `when.ruleClass` needs one. */
  points?: ReadonlyMap<string, KnowledgePoint>;
  /**
   * The public reference entry (rules/reference) the subject was made from, for rules without a
   * knowledge point: its source becomes the flag's basis text, and a grade the source leaves in
   * doubt grades the flag suspicious.
   */
  reference?: { source: string; doubt?: string };
}

/** What a claim-level kind builds its subjects from. */
export interface ClaimInput {
  claim: DraftClaim;
  catalogue: CatalogueLookup;
  /** The patient's earlier claims over the rule set's window; empty for kinds without `history`. */
  history: readonly HistoryClaim[];
  /** The rule's `when.ruleClass`, for kinds grouped by knowledge point ('' when the rule names none). */
  ruleClass: string;
}

interface KindBase {
  /** The name rule files give in `subject`. */
  readonly name: string;
  /** Whether its rules must name a knowledge-point class (its points define the subjects) or may. */
  readonly ruleClass: 'required' | 'optional';
  /** Whether it reads the patient's earlier claims: its rules then declare `historyDays`. */
  readonly history: boolean;
  /**
   * The public reference tables (file names in `rules/reference`) its subjects are made from, for
   * rules that judge a claim by reference data rather than knowledge points; the import's coverage
   * names them.
   */
  readonly reference?: readonly string[];
  /** The stages it can be evaluated in. */
  readonly stages: readonly Stage[];
  /** The `subject` fact: the linter checks condition, message and `when.requires` paths against it. */
  readonly fact: z.ZodObject;
  /** Per-line facts beyond `LineFact`'s, for `atRisk.only` and `atRisk.beyond`. */
  readonly line: z.ZodObject;
  /** A concrete alternative for the pre-event answer, where the facts give one. */
  suggest?(subject: Subject, facts: SuggestionFacts): string | undefined;
}

export type SuggestionFacts = {
  restriction: Record<string, unknown> | null;
  params: Record<string, unknown>;
};

/** A kind judged per claim: item, claim or history scope. */
export interface ClaimSubjectKind extends KindBase {
  readonly scope: 'item' | 'claim' | 'history';
  build(input: ClaimInput): Subject[];
}

/** One thing a period rule judges about a patient's claims taken together. */
export interface PatientSubject {
  /** What the conditions read as the `subject` fact. */
  fact: Record<string, unknown>;
  /** The claim the flag is raised on (the latest involved, or the one whose lines are at risk). */
  claim: Claim;
  /** The other claims involved, for `relatedClaimIds`. */
  related: readonly Claim[];
  lineNos: number[];
  amountAtRisk: number;
}

/** What a patient-level period kind builds its subjects from, besides the patient's claims. */
export interface PeriodInput {
  params: Readonly<RuleFile['params']>;
  /** The post-event policy's planned cycles (rules/policy/planned-cycles.json). */
  plannedCycles: PlannedCycles;
}

interface PeriodKindBase extends KindBase {
  readonly scope: 'period';
  /** The params its builder reads (window lengths), which its rules must set as numbers. */
  readonly params: readonly string[];
}

/** A kind judged over a patient's claims of the period, in the post-event map. */
export interface PatientSubjectKind extends PeriodKindBase {
  readonly level: 'patient';
  build(claims: readonly Claim[], input: PeriodInput): PatientSubject[];
}

/**
 * A kind judged over a hospital's or a doctor's merged aggregates, built in the post-event reduce;
 * its rules' fixtures give the subject fact itself.
 */
export interface PeerSubjectKind extends PeriodKindBase {
  readonly level: 'peer';
}

export type PeriodSubjectKind = PatientSubjectKind | PeerSubjectKind;

/** One module per kind under `src/rules/subjects/`, listed once in `registry.ts`. */
export type SubjectKind = ClaimSubjectKind | PeriodSubjectKind;

export const EVERY_STAGE: readonly Stage[] = ['pre', 'in', 'post'];

export const NO_LINE_FACTS = z.object({});

/**
 * A claim-level kind from what sets it apart: it runs in every stage and adds no line facts unless
 * it says otherwise, and reads the patient's history exactly when its scope is `history`.
 */
export function claimKind(
  spec: Omit<ClaimSubjectKind, 'history' | 'stages' | 'line'> &
    Partial<Pick<ClaimSubjectKind, 'stages' | 'line'>>,
): ClaimSubjectKind {
  return { stages: EVERY_STAGE, line: NO_LINE_FACTS, history: spec.scope === 'history', ...spec };
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The `subject` fields of an item, shared by the kinds that judge one line. */
export const ItemFact = z.object({
  lineNo: z.number(),
  code: z.string(),
  name: z.string(),
  category: z.string(),
  quantity: z.number(),
  unitPrice: z.number(),
  amount: z.number(),
  serviceDate: z.string(),
  daysSupply: z.number().nullable(),
  /** |amount − quantity × unit price| in yuan: a line whose amount is not its price times its quantity. */
  amountGap: z.number(),
});

export function itemFact(item: Item): Record<string, unknown> {
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
    amountGap: round2(Math.abs(item.amount - item.quantity * item.unitPrice)),
  };
}

export const lineOf = (item: Item): LineFact => ({
  lineNo: item.lineNo,
  amount: item.amount,
  unitPrice: item.unitPrice,
  quantity: item.quantity,
});

export const single = (kp: KnowledgePoint): ReadonlyMap<string, KnowledgePoint> =>
  new Map([[kp.ruleClass, kp]]);

export function groupBy<T>(values: readonly T[], key: (v: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const v of values) {
    const k = key(v);
    const g = groups.get(k);
    if (g) g.push(v);
    else groups.set(k, [v]);
  }
  return groups;
}

/** An earlier line of the patient's, with the claim it came from. */
export interface PastLine {
  claimId: string;
  item: HistoryItem;
}

export function pastLines(history: readonly HistoryClaim[], claimId: string | undefined): PastLine[] {
  const out: PastLine[] = [];
  // A redelivered claim may already be in history; it must not count against itself.
  for (const c of history)
    if (c.claimId !== claimId) for (const item of c.items) out.push({ claimId: c.claimId, item });
  return out;
}

/** A finite number or undefined: suggestions only speak where the facts give a concrete number. */
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
