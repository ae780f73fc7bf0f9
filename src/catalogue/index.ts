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

/**
 * The run-time view of `rules/catalogue`: per-code restrictions, same-day exclusive pairs and the NHSA
 * rule classes, all indexed once here so each lookup on the claim path is a map read.
 *
 * When several active knowledge points give the same kind for one code, the entry keeps the stricter
 * one (smaller maxDays, higher minLevel, longer interval, fewer allowed visit or insurance types,
 * narrower age band), so a claim that passes the catalogue passes every point; on a tie, or for kinds
 * with no order (sex, TCM, internet), the first point in catalogue order is kept.
 */
export class Catalogue {
  readonly #entries = new Map<string, CatalogueEntry>();
  readonly #partners = new Map<string, ExclusivePartner[]>();
  readonly #ruleClasses: ReadonlyMap<string, RuleClass>;
  readonly #codesByKind = new Map<RestrictionKind, readonly string[]>();
  /** code → rule class → knowledge point: what the rules core triggers on (a rule names its class). */
  readonly #pointsByCode = new Map<string, Map<string, KnowledgePoint>>();
  /** `code|ruleClass` → every pair knowledge point the code takes part in. */
  readonly #pairsByCode = new Map<string, KnowledgePoint[]>();

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
    const pairs: { kp: KnowledgePoint; codes: readonly [string, string] }[] = [];
    for (const kp of file.knowledgePoints) {
      const restriction = kp.restriction;
      if (restriction === null) continue;
      const codes = codesByKind.get(restriction.kind) ?? new Set<string>();
      codesByKind.set(restriction.kind, codes);
      if (restriction.kind === 'exclusivePair') {
        pairs.push({ kp, codes: restriction.codes });
        for (const code of restriction.codes) {
          codes.add(code);
          this.#keepPoint(code, kp);
          const key = `${code}|${kp.ruleClass}`;
          this.#pairsByCode.set(key, [...(this.#pairsByCode.get(key) ?? []), kp]);
        }
        continue;
      }
      for (const code of kp.codes) {
        codes.add(code);
        this.#keep(this.#entryFor(code, kp.itemName), restriction, kp);
        this.#keepPoint(code, kp);
      }
    }
    // Pairs come last so that a code's own knowledge point names its entry, not the "A×B" pair title.
    for (const {
      kp,
      codes: [a, b],
    } of pairs) {
      const names = kp.itemName.split('×');
      const [nameA, nameB] = names.length === 2 ? names : [kp.itemName, kp.itemName];
      this.#entryFor(a, nameA ?? kp.itemName);
      this.#entryFor(b, nameB ?? kp.itemName);
      this.#partnersOf(a).push({ code: b, kp });
      this.#partnersOf(b).push({ code: a, kp });
    }
    for (const [kind, codes] of codesByKind) this.#codesByKind.set(kind, [...codes].sort());
  }

  #entryFor(code: string, name: string): CatalogueEntry {
    let entry = this.#entries.get(code);
    if (!entry) {
      entry = { code, name, restrictions: {} };
      this.#entries.set(code, entry);
    }
    return entry;
  }

  #keep(entry: CatalogueEntry, restriction: Restriction, kp: KnowledgePoint): void {
    // The mapped type ties each kind to its restriction shape; `restriction.kind` indexes it soundly.
    const slots = entry.restrictions as Partial<Record<RestrictionKind, SourcedRestriction>>;
    const current = slots[restriction.kind];
    if (!current || isStricter(restriction, current.restriction))
      slots[restriction.kind] = { restriction, kp };
  }

  /** Per class the same stricter-wins choice as `#keep`, so the core and `entry()` agree. */
  #keepPoint(code: string, kp: KnowledgePoint): void {
    let byClass = this.#pointsByCode.get(code);
    if (!byClass) {
      byClass = new Map();
      this.#pointsByCode.set(code, byClass);
    }
    const current = byClass.get(kp.ruleClass);
    if (
      !current ||
      (kp.restriction && current.restriction && isStricter(kp.restriction, current.restriction))
    ) {
      byClass.set(kp.ruleClass, kp);
    }
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

  /** The class (examination, test, treatment, surgery, CT, MRI) of a national service code. */
  serviceClassOf(code: string): ServiceClassId | undefined {
    return this.#reference?.serviceClasses.of(code);
  }

  /** Restrictions on `code` from active knowledge points, one per kind; undefined if the catalogue has none. */
  entry(code: string): CatalogueEntry | undefined {
    return this.#entries.get(code);
  }

  /** Active, machine-checkable knowledge points for `code`, keyed by rule class (the rules core's lookup). */
  pointsFor(code: string): ReadonlyMap<string, KnowledgePoint> | undefined {
    return this.#pointsByCode.get(code);
  }

  /** Every exclusive-pair knowledge point of `ruleClass` that `code` is part of. */
  pairsFor(code: string, ruleClass: string): readonly KnowledgePoint[] {
    return this.#pairsByCode.get(`${code}|${ruleClass}`) ?? [];
  }

  /** Rule classes with at least one machine-checkable knowledge point; a rule may only name these. */
  ruleClassesWithPoints(): string[] {
    return [
      ...new Set(this.file.knowledgePoints.filter((kp) => kp.restriction).map((kp) => kp.ruleClass)),
    ].sort();
  }

  get knowledgePoints(): readonly KnowledgePoint[] {
    return this.file.knowledgePoints;
  }

  /** Codes that must not be charged on the same day as `code` (医疗服务项目重复收费), in catalogue order. */
  exclusivePartners(code: string): readonly ExclusivePartner[] {
    return this.#partners.get(code) ?? [];
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
