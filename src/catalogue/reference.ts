import { join } from 'node:path';
import { z } from 'zod';
import { readCatalogueJson } from './read.ts';

export const DIAGNOSIS_GROUPS_FILE = 'diagnosis-groups.json';

/** Groups a rule may ask about; each is a fact the core derives from the claim's diagnoses. */
export const DIAGNOSIS_GROUP_IDS = ['indeterminateSex', 'maternity'] as const;
export type DiagnosisGroupId = (typeof DIAGNOSIS_GROUP_IDS)[number];

const category = z.string().regex(/^[A-Z]\d{2}$/, 'expected an ICD-10 category like Q56');
/** A category range (from..to) or a code prefix, with what it is and where it is published. */
const Entry = z
  .strictObject({
    from: category.optional(),
    to: category.optional(),
    prefix: z
      .string()
      .regex(/^[A-Z]\d{2}(\.\d+)?$/, 'expected an ICD-10 code like E34.5')
      .optional(),
    name: z.string().min(1),
    source: z.string().min(1),
  })
  .refine((e) => (e.prefix === undefined) === (e.from !== undefined && e.to !== undefined), {
    message: 'give either prefix, or from and to',
  });

/** `rules/reference/diagnosis-groups.json`: ICD-10 groups with the published source of every entry. */
export const DiagnosisGroupFile = z.strictObject({
  $comment: z.string(),
  groups: z.array(
    z.strictObject({
      id: z.enum(DIAGNOSIS_GROUP_IDS),
      title: z.string().min(1),
      why: z.string().min(1),
      entries: z.array(Entry).min(1),
    }),
  ),
});
export type DiagnosisGroupFile = z.infer<typeof DiagnosisGroupFile>;

/** Which reference groups a claim's diagnosis codes fall in. */
export class DiagnosisGroups {
  readonly #groups: { id: DiagnosisGroupId; matches: (code: string) => boolean }[];

  constructor(readonly file: DiagnosisGroupFile) {
    this.#groups = file.groups.map((group) => ({
      id: group.id,
      matches: (code: string) =>
        group.entries.some((e) =>
          e.prefix !== undefined
            ? code.startsWith(e.prefix)
            : code.slice(0, 3) >= (e.from ?? '') && code.slice(0, 3) <= (e.to ?? ''),
        ),
    }));
  }

  /** The groups any of `codes` falls in; codes are compared upper-case, as ICD-10 writes them. */
  of(codes: readonly string[]): Set<DiagnosisGroupId> {
    const found = new Set<DiagnosisGroupId>();
    for (const raw of codes) {
      const code = raw.trim().toUpperCase();
      for (const group of this.#groups) if (group.matches(code)) found.add(group.id);
    }
    return found;
  }
}

/**
 * Read `diagnosis-groups.json` from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadDiagnosisGroups(dir: string): DiagnosisGroups {
  return new DiagnosisGroups(
    readCatalogueJson(join(dir, DIAGNOSIS_GROUPS_FILE), DiagnosisGroupFile, 'reference'),
  );
}

export const SERVICE_CLASSES_FILE = 'service-classes.json';

/** Service classes a rule may sum charges by. */
export const SERVICE_CLASS_IDS = ['exam', 'lab', 'ct', 'mri', 'treatment', 'surgery'] as const;
export type ServiceClassId = (typeof SERVICE_CLASS_IDS)[number];

/**
 * `rules/reference/service-classes.json`: service classes by the national code's structure, each
 * with its source — the one table the in-process rules and the post-event indicators read.
 */
export const ServiceClassFile = z.strictObject({
  $comment: z.string(),
  classes: z.array(
    z.strictObject({
      class: z.enum(SERVICE_CLASS_IDS),
      label: z.string().min(1),
      codePrefixes: z
        .array(z.string().regex(/^\d{1,9}$/, 'expected leading digits of a 9-digit spec code'))
        .min(1),
      /** Words that class an item whose code the chapters do not class, by its name. */
      nameContains: z.array(z.string().min(1)).optional(),
      source: z.string().min(1),
    }),
  ),
});
export type ServiceClassFile = z.infer<typeof ServiceClassFile>;

/** Items whose class `ServiceClasses.of` remembers at most; a stream holds far fewer distinct ones. */
const KNOWN_LIMIT = 100_000;

/**
 * The class of a service item: that of the longest spec-code prefix its 15-digit national code
 * matches, else — a local code, or a chapter no class lists — the first class whose words its
 * name contains.
 */
export class ServiceClasses {
  readonly #prefixes: { prefix: string; id: ServiceClassId }[];
  readonly #words: { words: readonly string[]; id: ServiceClassId }[];
  readonly #known = new Map<string, ServiceClassId | undefined>();

  constructor(readonly file: ServiceClassFile) {
    this.#prefixes = file.classes
      .flatMap((c) => c.codePrefixes.map((prefix) => ({ prefix, id: c.class })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    this.#words = file.classes.flatMap((c) =>
      c.nameContains ? [{ words: c.nameContains, id: c.class }] : [],
    );
  }

  /**
   * undefined for an item neither its code nor its name places in a class. Remembered per code and
   * name: a claim stream bills the same few thousand services over and over, and the name search
   * was a few percent of a post-event audit.
   */
  of(code: string, name = ''): ServiceClassId | undefined {
    const key = `${code}\u0000${name}`;
    const known = this.#known.get(key);
    if (known !== undefined || this.#known.has(key)) return known;
    const found = this.#classify(code, name);
    if (this.#known.size >= KNOWN_LIMIT) this.#known.clear();
    this.#known.set(key, found);
    return found;
  }

  #classify(code: string, name: string): ServiceClassId | undefined {
    if (/^00\d{13}$/.test(code)) {
      const spec = code.slice(2, 11);
      const byCode = this.#prefixes.find((p) => spec.startsWith(p.prefix))?.id;
      if (byCode) return byCode;
    }
    return this.#words.find((c) => c.words.some((w) => name.includes(w)))?.id;
  }
}

/**
 * Read `service-classes.json` from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadServiceClasses(dir: string): ServiceClasses {
  return new ServiceClasses(
    readCatalogueJson(join(dir, SERVICE_CLASSES_FILE), ServiceClassFile, 'reference'),
  );
}
