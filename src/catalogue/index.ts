import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { rulesDirFromEnvironment } from '../config.ts';
import {
  type CodeEdit,
  CodeEditFile,
  CodeEdits,
  DIAGNOSIS_EDITS_FILE,
  PROCEDURE_EDITS_FILE,
} from './code-edits.ts';
import { CatalogueLoadError, parseCatalogueJson } from './read.ts';
import {
  DIAGNOSIS_GROUPS_FILE,
  DiagnosisGroupFile,
  type DiagnosisGroupId,
  DiagnosisGroups,
  SERVICE_CLASSES_FILE,
  ServiceClasses,
  ServiceClassFile,
  type ServiceClassId,
} from './reference.ts';
import {
  CatalogueFile,
  type KnowledgePoint,
  type Restriction,
  type RestrictionKind,
  type RuleClass,
  RuleClassFile,
} from './schema.ts';
import {
  TCM_INCOMPATIBILITY_FILE,
  TcmIncompatibility,
  TcmIncompatibilityFile,
} from './tcm-incompatibility.ts';

export const KNOWLEDGE_POINTS_FILE = 'knowledge-points.json';
export const RULE_CLASSES_FILE = 'rule-classes.json';

/** `FUNDGUARD_RULES_DIR/catalogue` in Lambda bundles (as for rule files), else the project's `rules/catalogue`. */
export function defaultCatalogueDir(): string {
  const rulesDir = rulesDirFromEnvironment();
  return rulesDir
    ? join(rulesDir, 'catalogue')
    : fileURLToPath(new URL('../../rules/catalogue', import.meta.url));
}

export { CatalogueLoadError } from './read.ts';

/** Kinds that restrict one code on its own; `exclusivePair` relates two codes and has its own lookup. */
export type ItemRestrictionKind = Exclude<RestrictionKind, 'exclusivePair'>;

/** A restriction with the knowledge point it comes from, for the flag's basis. */
export interface SourcedRestriction<K extends RestrictionKind = RestrictionKind> {
  restriction: Extract<Restriction, { kind: K }>;
  kp: KnowledgePoint;
}

export type EntryRestrictions = { [K in ItemRestrictionKind]?: SourcedRestriction<K> };

/** Everything the catalogue says about one code. */
export interface CatalogueEntry {
  code: string;
  name: string;
  restrictions: EntryRestrictions;
}

/** A code that must not be charged on the same day as the one looked up, and the pair's knowledge point. */
export interface ExclusivePartner {
  code: string;
  kp: KnowledgePoint;
}

/** Upper bound of an age band in days, only to compare two bands. */
function upperAgeDays(r: Extract<Restriction, { kind: 'age' }>): number {
  if (r.maxAgeDays !== undefined) return r.maxAgeDays;
  return r.maxAgeYears === undefined ? Number.POSITIVE_INFINITY : (r.maxAgeYears + 1) * 365 - 1;
}

/** Whether `a` allows strictly less than `b` (same kind). Kinds without an order (sex, TCM, internet) never are. */
function isStricter(a: Restriction, b: Restriction): boolean {
  if (a.kind === 'course' && b.kind === 'course') {
    if (a.scope === 'span' || b.scope === 'span')
      return a.scope === 'span' && b.scope === 'span' && a.maxMonths < b.maxMonths;
    return a.scope === b.scope && a.maxDays < b.maxDays;
  }
  if (a.kind === 'hospitalLevel' && b.kind === 'hospitalLevel') return a.minLevel > b.minLevel;
  if (a.kind === 'cycle' && b.kind === 'cycle') {
    if (a.unit === 'days' && b.unit === 'days') return a.minIntervalDays > b.minIntervalDays;
    if (a.unit === 'calendarWeek' && b.unit === 'calendarWeek')
      return a.maxPerCalendarWeek < b.maxPerCalendarWeek;
    return false;
  }
  if (a.kind === 'frequency' && b.kind === 'frequency') return a.unit === b.unit && a.maxPerDay < b.maxPerDay;
  if (a.kind === 'visitType' && b.kind === 'visitType') return a.visitTypes.length < b.visitTypes.length;
  if (a.kind === 'insuranceType' && b.kind === 'insuranceType')
    return a.insuranceTypes.length < b.insuranceTypes.length;
  if (a.kind === 'age' && b.kind === 'age') {
    const [ua, ub] = [upperAgeDays(a), upperAgeDays(b)];
    return ua < ub || (ua === ub && (a.minAgeYears ?? 0) > (b.minAgeYears ?? 0));
  }
  return false;
}

function keep(entry: CatalogueEntry, kp: KnowledgePoint): void {
  const restriction = kp.restriction;
  if (restriction === null) return;
  // The mapped type ties each kind to its restriction shape; `restriction.kind` indexes it soundly.
  const slots = entry.restrictions as Partial<Record<RestrictionKind, SourcedRestriction>>;
  const held = slots[restriction.kind];
  if (!held || isStricter(restriction, held.restriction)) slots[restriction.kind] = { restriction, kp };
}

/** Per class the same stricter-wins choice as `keep`, so the core and `entry()` agree. */
function keepPoint(byClass: Map<string, KnowledgePoint>, kp: KnowledgePoint): void {
  const held = byClass.get(kp.ruleClass);
  if (!held || (kp.restriction && held.restriction && isStricter(kp.restriction, held.restriction))) {
    byClass.set(kp.ruleClass, kp);
  }
}

/**
 * Whether `kp` applies to a line served on `date` (YYYY-MM-DD): on or after its publication (an
 * undated point from the start), and before the update that replaced it, if one did.
 */
export function appliesOn(kp: KnowledgePoint, date: string): boolean {
  return (
    (kp.publishedAt === null || date >= kp.publishedAt) &&
    (kp.supersededOn === null || date < kp.supersededOn)
  );
}

const NO_POINTS: readonly KnowledgePoint[] = [];

/** Whether `kp` is in force from the latest publication on: no update replaced it. */
const current = (kp: KnowledgePoint): boolean => kp.supersededOn === null;

/**
 * What the catalogue says about one code, by service date: one value per stretch of dates between
 * its points' publication and supersession dates (most codes have one), so a dated lookup is a
 * short scan and never rebuilds anything.
 */
class Dated<T> {
  /** Start dates, ascending; the first is '' (from the start). */
  readonly #starts: string[];
  readonly #values: T[];

  constructor(points: readonly KnowledgePoint[], build: (inForce: (kp: KnowledgePoint) => boolean) => T) {
    const dates = new Set<string>();
    for (const kp of points) {
      if (kp.publishedAt !== null) dates.add(kp.publishedAt);
      if (kp.supersededOn !== null) dates.add(kp.supersededOn);
    }
    this.#starts = ['', ...[...dates].sort()];
    this.#values = this.#starts.map((start) => build((kp) => appliesOn(kp, start)));
  }

  /** The value on `date`; without one, from the latest publication on. */
  at(date?: string): T {
    let i = this.#starts.length - 1;
    if (date !== undefined) while (i > 0 && (this.#starts[i] ?? '') > date) i--;
    return this.#values[i] as T;
  }
}

/**
 * The run-time view of `rules/catalogue`: per-code restrictions, same-day exclusive pairs and the NHSA
 * rule classes, all indexed once here so each lookup on the claim path is a map read.
 *
 * Knowledge points apply by the line's service date (`appliesOn`): the points in force and those an
 * update replaced are both indexed, and each dated lookup answers from the points of that day.
 * Without a date a lookup answers from the points in force from the latest publication on.
 *
 * When several knowledge points give the same kind for one code on one day, the entry keeps the
 * stricter one (smaller maxDays, higher minLevel, longer interval, fewer allowed visit or insurance
 * types, narrower age band), so a claim that passes the catalogue passes every point; on a tie, or for
 * kinds with no order (sex, TCM, internet), the first point in catalogue order is kept.
 */
export class Catalogue {
  readonly #entries = new Map<string, Dated<CatalogueEntry>>();
  readonly #partners = new Map<string, ExclusivePartner[]>();
  readonly #ruleClasses: ReadonlyMap<string, RuleClass>;
  readonly #codesByKind = new Map<RestrictionKind, readonly string[]>();
  /** code → (by date) rule class → knowledge point: what the rules core triggers on (a rule names its class). */
  readonly #pointsByCode = new Map<string, Dated<ReadonlyMap<string, KnowledgePoint> | undefined>>();
  /** `code|ruleClass` → every pair knowledge point the code takes part in, of any date. */
  readonly #pairsByCode = new Map<string, KnowledgePoint[]>();
  /** The `code|ruleClass` keys whose pairs include a dated or superseded point. */
  readonly #datedPairs = new Set<string>();

  readonly #diagnosisGroups: DiagnosisGroups | undefined;
  readonly #reference: ReferenceData | undefined;

  /**
   * `diagnosisGroups` and `reference` (rules/reference) are what `diagnosisGroupsOf`, the code edits,
   * the TCM table and `serviceClassOf` answer from; without them, no group, edit or class matches.
   */
  constructor(
    readonly file: CatalogueFile,
    ruleClasses: readonly RuleClass[],
    diagnosisGroups?: DiagnosisGroups,
    reference?: ReferenceData,
  ) {
    this.#diagnosisGroups = diagnosisGroups;
    this.#reference = reference;
    this.#ruleClasses = new Map(ruleClasses.map((rc) => [rc.name, rc]));
    const codesByKind = new Map<RestrictionKind, Set<string>>();
    /** code → its knowledge points with a restriction, in catalogue order (in force, then replaced). */
    const byCode = new Map<string, KnowledgePoint[]>();
    const names = new Map<string, string>();
    const add = (code: string, kp: KnowledgePoint) => {
      const list = byCode.get(code);
      if (list) list.push(kp);
      else byCode.set(code, [kp]);
    };
    const pairs: { kp: KnowledgePoint; codes: readonly [string, string] }[] = [];
    for (const kp of [...file.knowledgePoints, ...file.supersededPoints]) {
      const restriction = kp.restriction;
      if (restriction === null) continue;
      const codes = codesByKind.get(restriction.kind) ?? new Set<string>();
      if (current(kp)) codesByKind.set(restriction.kind, codes);
      if (restriction.kind === 'exclusivePair') {
        pairs.push({ kp, codes: restriction.codes });
        for (const code of restriction.codes) {
          if (current(kp)) codes.add(code);
          add(code, kp);
          const key = `${code}|${kp.ruleClass}`;
          this.#pairsByCode.set(key, [...(this.#pairsByCode.get(key) ?? []), kp]);
          if (kp.publishedAt !== null || kp.supersededOn !== null) this.#datedPairs.add(key);
        }
        continue;
      }
      for (const code of kp.codes) {
        if (current(kp)) codes.add(code);
        add(code, kp);
        if (!names.has(code)) names.set(code, kp.itemName);
      }
    }
    // Pairs come last so that a code's own knowledge point names its entry, not the "A×B" pair title.
    for (const {
      kp,
      codes: [a, b],
    } of pairs) {
      const split = kp.itemName.split('×');
      const [nameA, nameB] = split.length === 2 ? split : [kp.itemName, kp.itemName];
      if (!names.has(a)) names.set(a, nameA ?? kp.itemName);
      if (!names.has(b)) names.set(b, nameB ?? kp.itemName);
      this.#partnersOf(a).push({ code: b, kp });
      this.#partnersOf(b).push({ code: a, kp });
    }
    for (const [code, points] of byCode) {
      const name = names.get(code) ?? code;
      this.#entries.set(
        code,
        new Dated(points, (inForce) => {
          const entry: CatalogueEntry = { code, name, restrictions: {} };
          for (const kp of points)
            if (inForce(kp) && kp.restriction?.kind !== 'exclusivePair') keep(entry, kp);
          return entry;
        }),
      );
      this.#pointsByCode.set(
        code,
        new Dated(points, (inForce) => {
          const byClass = new Map<string, KnowledgePoint>();
          for (const kp of points) if (inForce(kp)) keepPoint(byClass, kp);
          return byClass.size > 0 ? byClass : undefined;
        }),
      );
    }
    for (const [kind, codes] of codesByKind) this.#codesByKind.set(kind, [...codes].sort());
  }

  #partnersOf(code: string): ExclusivePartner[] {
    let list = this.#partners.get(code);
    if (!list) {
      list = [];
      this.#partners.set(code, list);
    }
    return list;
  }

  /** The reference groups (indeterminate sex, maternity…) the claim's diagnosis codes fall in. */
  diagnosisGroupsOf(codes: readonly string[]): ReadonlySet<DiagnosisGroupId> {
    return this.#diagnosisGroups?.of(codes) ?? new Set();
  }

  /** The sex and age edits (rules/reference/diagnosis-edits.json) an ICD-10 code falls under. */
  diagnosisEditsOf(code: string): readonly CodeEdit[] {
    return this.#reference?.diagnosisEdits.of(code) ?? [];
  }

  /** The sex edits (rules/reference/procedure-edits.json) an ICD-9-CM-3 code falls under. */
  procedureEditsOf(code: string): readonly CodeEdit[] {
    return this.#reference?.procedureEdits.of(code) ?? [];
  }

  /** The 十八反 / 十九畏 table (rules/reference/tcm-incompatibility.json), if loaded. */
  get tcmIncompatibility(): TcmIncompatibility | undefined {
    return this.#reference?.tcm;
  }

  /** The service classes (rules/reference/service-classes.json), if loaded; the post-event indicators read them too. */
  get serviceClasses(): ServiceClasses | undefined {
    return this.#reference?.serviceClasses;
  }

  /** The class (examination, test, treatment, surgery, CT, MRI) of a service item, by its code, else its name. */
  serviceClassOf(code: string, name?: string): ServiceClassId | undefined {
    return this.#reference?.serviceClasses.of(code, name);
  }

  /**
   * Restrictions on `code` from the knowledge points that apply on `date` (without one: in force from
   * the latest publication on), one per kind; undefined if the catalogue has none for the code.
   */
  entry(code: string, date?: string): CatalogueEntry | undefined {
    return this.#entries.get(code)?.at(date);
  }

  /**
   * Machine-checkable knowledge points for `code` that apply to a line served on `date` (without one:
   * in force from the latest publication on), keyed by rule class: the rules core's lookup.
   */
  pointsFor(code: string, date?: string): ReadonlyMap<string, KnowledgePoint> | undefined {
    return this.#pointsByCode.get(code)?.at(date);
  }

  /** Every exclusive-pair knowledge point of `ruleClass` that `code` is part of and that applies on `date`. */
  pairsFor(code: string, ruleClass: string, date?: string): readonly KnowledgePoint[] {
    const key = `${code}|${ruleClass}`;
    const points = this.#pairsByCode.get(key);
    if (!points) return NO_POINTS;
    // On the claim path: most pairs are undated (batch 7), and their list is the answer as it stands.
    if (!this.#datedPairs.has(key)) return points;
    return points.filter((kp) => (date === undefined ? current(kp) : appliesOn(kp, date)));
  }

  /** Rule classes with at least one machine-checkable knowledge point; a rule may only name these. */
  ruleClassesWithPoints(): string[] {
    const points = [...this.file.knowledgePoints, ...this.file.supersededPoints];
    return [...new Set(points.filter((kp) => kp.restriction).map((kp) => kp.ruleClass))].sort();
  }

  /** The knowledge points in force (no update replaced them), in catalogue order. */
  get knowledgePoints(): readonly KnowledgePoint[] {
    return this.file.knowledgePoints;
  }

  /**
   * Codes that must not be charged on the same day as `code` (医疗服务项目重复收费) by the pairs that
   * apply on `date` (without one: in force from the latest publication on), in catalogue order.
   */
  exclusivePartners(code: string, date?: string): readonly ExclusivePartner[] {
    const partners = this.#partners.get(code) ?? [];
    return partners.filter(({ kp }) => (date === undefined ? current(kp) : appliesOn(kp, date)));
  }

  /** The NHSA rule class of that name (2025 name, or the 1.0 name for a class 2025 does not map). */
  ruleClass(name: string): RuleClass | undefined {
    return this.#ruleClasses.get(name);
  }

  /** Every code with a restriction of `kind`, sorted; for generating claims that exercise it. */
  codesWith(kind: RestrictionKind): readonly string[] {
    return this.#codesByKind.get(kind) ?? [];
  }
}

/** The catalogue files' text by file name, as committed in `rules/catalogue` and published with a rule set. */
export type CatalogueTexts = Record<typeof KNOWLEDGE_POINTS_FILE | typeof RULE_CLASSES_FILE, string>;

/** The public reference files' text by file name, as committed in `rules/reference` and published with a rule set. */
export type ReferenceTexts = Record<(typeof REFERENCE_FILES)[number], string>;

/** Every file of `rules/reference` the catalogue answers from. */
export const REFERENCE_FILES = [
  DIAGNOSIS_GROUPS_FILE,
  DIAGNOSIS_EDITS_FILE,
  PROCEDURE_EDITS_FILE,
  TCM_INCOMPATIBILITY_FILE,
  SERVICE_CLASSES_FILE,
] as const;

/** Each named file's text from `dir`, synchronously (this runs once at cold start). */
function readTexts<N extends string>(dir: string, names: readonly N[]): Record<N, string> {
  const out = {} as Record<N, string>;
  for (const name of names) {
    const file = join(dir, name);
    try {
      out[name] = readFileSync(file, 'utf8');
    } catch (error) {
      // Worded as the one reader words it (read.ts), whether the catalogue comes from disk or a published set.
      throw new CatalogueLoadError(file, `cannot be read as JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  return out;
}

/**
 * Read the text of `knowledge-points.json` and `rule-classes.json` from `dir`.
 *
 * @throws CatalogueLoadError naming the file when one is missing.
 */
export function readCatalogueTexts(dir: string = defaultCatalogueDir()): CatalogueTexts {
  return readTexts(dir, [KNOWLEDGE_POINTS_FILE, RULE_CLASSES_FILE]);
}

/**
 * Read the text of every reference file from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when one is missing.
 */
export function readReferenceTexts(dir: string): ReferenceTexts {
  return readTexts(dir, REFERENCE_FILES);
}

/**
 * Validate and index the catalogue files' and the reference files' text; `where` and
 * `referenceWhere` prefix the file names in errors.
 *
 * @throws CatalogueLoadError naming the file when one is missing or invalid.
 */
export function parseCatalogue(
  texts: CatalogueTexts,
  where: string,
  reference: ReferenceTexts,
  referenceWhere: string,
): Catalogue {
  const file = parseCatalogueJson(
    join(where, KNOWLEDGE_POINTS_FILE),
    texts[KNOWLEDGE_POINTS_FILE],
    CatalogueFile,
    'catalogue',
  );
  const ruleClasses = parseCatalogueJson(
    join(where, RULE_CLASSES_FILE),
    texts[RULE_CLASSES_FILE],
    RuleClassFile,
    'catalogue',
  );
  const ref = <S extends z.ZodType>(name: (typeof REFERENCE_FILES)[number], schema: S): z.infer<S> => {
    const text = reference[name];
    if (text === undefined) throw new CatalogueLoadError(join(referenceWhere, name), 'is missing');
    return parseCatalogueJson(join(referenceWhere, name), text, schema, 'reference');
  };
  return new Catalogue(
    file,
    ruleClasses.ruleClasses,
    new DiagnosisGroups(ref(DIAGNOSIS_GROUPS_FILE, DiagnosisGroupFile)),
    {
      diagnosisEdits: new CodeEdits(ref(DIAGNOSIS_EDITS_FILE, CodeEditFile).entries),
      procedureEdits: new CodeEdits(ref(PROCEDURE_EDITS_FILE, CodeEditFile).entries),
      tcm: new TcmIncompatibility(ref(TCM_INCOMPATIBILITY_FILE, TcmIncompatibilityFile)),
      serviceClasses: new ServiceClasses(ref(SERVICE_CLASSES_FILE, ServiceClassFile)),
    },
  );
}

/**
 * Read, validate and index `knowledge-points.json` and `rule-classes.json` from `dir`, and the
 * public reference data from `referenceDir` (by default `rules/reference`, beside `dir`).
 *
 * @throws CatalogueLoadError naming the file when one is missing or invalid.
 */
export function loadCatalogue(
  dir: string = defaultCatalogueDir(),
  referenceDir: string = join(dirname(dir), 'reference'),
): Catalogue {
  return parseCatalogue(readCatalogueTexts(dir), dir, readReferenceTexts(referenceDir), referenceDir);
}

/** Public reference data beside the NHSA catalogue (rules/reference), each entry with its source. */
export interface ReferenceData {
  diagnosisEdits: CodeEdits;
  procedureEdits: CodeEdits;
  tcm: TcmIncompatibility;
  serviceClasses: ServiceClasses;
}
