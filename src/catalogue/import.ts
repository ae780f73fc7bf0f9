import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { isoDate } from '../contracts/fields.ts';
import { describeIssue } from '../contracts/issues.ts';
import { defaultCatalogueDir, KNOWLEDGE_POINTS_FILE, RULE_CLASSES_FILE } from './index.ts';
import { loadIndicationDiseases } from './indications.ts';
import { type ParseOptions, parseConstraint } from './parse.ts';
import { readJsonFile } from './read.ts';
import { type PairSource, pairReviewer, reviewText } from './review.ts';
import { CatalogueFile, type KnowledgePoint, type RuleClass, RuleClassFile } from './schema.ts';

/** The source is unusable: a file is missing, unreadable, not JSON, or inconsistent. Names the file. */
export class CatalogueImportError extends Error {
  override readonly name = 'CatalogueImportError';
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${reason}`, options);
  }
}

const CATALOGUE_1_0 = 'rule_catalog_1_0_79.json';
const CATALOGUE_2025 = 'rule_catalog_2025_88.json';
const BATCHES_DIR = 'batches';

const RawKnowledgePoint = z.object({
  kp_id: z.string().regex(/^KP-/),
  rule_class: z.string().min(1),
  gz_code: z.string().nullable(),
  med_codes: z.array(z.string().min(1)),
  item_name: z.string(),
  constraint: z.string().nullable(),
  detect_logic: z.string().nullable(),
  batch_tag: z.string().min(1),
  /** The batch's or update's publication date; null where the source gives none. */
  published_at: isoDate.nullable(),
  supersedes: z.string().nullable(),
});
type RawKnowledgePoint = z.infer<typeof RawKnowledgePoint>;

const RawCatalogue10 = z.object({
  rules_flat: z.array(
    z.object({
      official_code: z.string().regex(/^(GZ|ZB)\d+$/),
      tier1: z.string(),
      tier2: z.string(),
      name: z.string().min(1),
      definition: z.string(),
    }),
  ),
});
type RawRule10 = z.infer<typeof RawCatalogue10>['rules_flat'][number];

const RawCatalogue2025 = z.object({
  rules: z.array(
    z.object({
      seq: z.number().int().positive(),
      tier1: z.string(),
      tier2: z.string(),
      name: z.string().min(1),
      gz_code_1_0: z.string().nullable(),
      new_in_2025: z.boolean(),
    }),
  ),
});

/** What one import produces: the two files of `rules/catalogue/`. */
export interface CatalogueImport {
  catalogue: CatalogueFile;
  ruleClasses: RuleClassFile;
}

function readJson<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return readJsonFile(file, schema, (problem) => {
    const reason =
      problem.step === 'read'
        ? 'cannot be read'
        : problem.step === 'json'
          ? `is not valid JSON (${problem.cause.message})`
          : `does not have the expected shape: ${problem.problems.join('; ')}`;
    return new CatalogueImportError(file, reason, { cause: problem.cause });
  });
}

/** Published batches in order (batch_01, batch_02, … batch_17), then update batches by name. */
function batchFiles(sourceDir: string): string[] {
  const dir = join(sourceDir, BATCHES_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch (error) {
    throw new CatalogueImportError(dir, 'batch directory cannot be read', { cause: error });
  }
  const batchNumber = (name: string) => Number(/^batch_(\d+)\.json$/.exec(name)?.[1]);
  const batches = names
    .filter((n) => Number.isInteger(batchNumber(n)))
    .sort((a, b) => batchNumber(a) - batchNumber(b));
  const updates = names.filter((n) => /^updates_.+\.json$/.test(n)).sort();
  const unexpected = names.filter((n) => !batches.includes(n) && !updates.includes(n));
  if (unexpected.length > 0) {
    throw new CatalogueImportError(
      dir,
      `unexpected files (neither batch_NN.json nor updates_*.json): ${unexpected.join(', ')}`,
    );
  }
  if (batches.length === 0) throw new CatalogueImportError(dir, 'no batch_NN.json files');
  return [...batches, ...updates].map((name) => join(BATCHES_DIR, name));
}

/**
 * The 1.0 extract was taken from a PDF: line breaks split Chinese words with spaces, and some rows
 * carry the table header or the tier names glued on. A space only matters between Latin letters or digits.
 */
function cleanDefinition(rule: RawRule10, name: string): string {
  let text = rule.definition
    .replace(/\s+/g, (space, at: number, whole: string) =>
      /[A-Za-z0-9]/.test(whole[at - 1] ?? '') && /[A-Za-z0-9]/.test(whole[at + space.length] ?? '')
        ? ' '
        : '',
    )
    .replace(/\d*规则编码一级分类二级分类规则名称定义$/, '');
  const tiers = `${rule.tier1}${rule.tier2}`;
  if (text.startsWith(tiers)) text = text.slice(tiers.length);
  if (text.startsWith(name)) text = text.slice(name.length);
  return text;
}

/** Same PDF damage in names: a "-管理要求" column prefix, or the definition and header run on. */
function cleanName10(name: string): string {
  return name
    .replace(/^-管理要求/, '')
    .replace(/\d*规则编码一级分类二级分类规则名称定义$/, '')
    .replace(/对.*进行(?:监管|审核)。$/, '');
}

/**
 * The 2025 edition's 88 classes in `seq` order, each merged with the 1.0 class it maps to, then the
 * 1.0 classes no 2025 class maps to. The 2025 name is used where both exist: it is the clean one.
 */
function buildRuleClasses(sourceDir: string): RuleClass[] {
  const file10 = join(sourceDir, CATALOGUE_1_0);
  const file2025 = join(sourceDir, CATALOGUE_2025);
  const rules10 = readJson(file10, RawCatalogue10).rules_flat;
  const rules2025 = [...readJson(file2025, RawCatalogue2025).rules].sort((a, b) => a.seq - b.seq);
  const byCode = new Map(rules10.map((r) => [r.official_code, r]));
  const mapped = new Set<string>();
  const rows: RuleClass[] = [];
  for (const rule of rules2025) {
    const old = rule.gz_code_1_0 === null ? undefined : byCode.get(rule.gz_code_1_0);
    if (rule.gz_code_1_0 !== null) {
      if (!old) {
        throw new CatalogueImportError(
          file2025,
          `rule ${rule.seq} maps to ${rule.gz_code_1_0}, which ${CATALOGUE_1_0} lacks`,
        );
      }
      mapped.add(rule.gz_code_1_0);
    }
    rows.push({
      name: rule.name,
      basisCode: rule.gz_code_1_0 ?? `NHSA2025-${rule.seq}`,
      gzCode: rule.gz_code_1_0,
      seq2025: rule.seq,
      tier1: rule.tier1,
      tier2: rule.tier2,
      definition: old ? cleanDefinition(old, rule.name) : null,
      newIn2025: rule.new_in_2025,
    });
  }
  const unmapped = rules10.filter((r) => !mapped.has(r.official_code));
  for (const rule of unmapped.sort((a, b) => a.official_code.localeCompare(b.official_code))) {
    const name = cleanName10(rule.name);
    rows.push({
      name,
      basisCode: rule.official_code,
      gzCode: rule.official_code,
      seq2025: null,
      tier1: rule.tier1,
      tier2: rule.tier2,
      definition: cleanDefinition(rule, name),
      newIn2025: false,
    });
  }
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.name))
      throw new CatalogueImportError(file2025, `rule class ${row.name} is listed twice`);
    seen.add(row.name);
  }
  return rows;
}

interface ReadKnowledgePoint {
  raw: RawKnowledgePoint;
  file: string;
}

function readKnowledgePoints(sourceDir: string, batches: readonly string[]): ReadKnowledgePoint[] {
  const read: ReadKnowledgePoint[] = [];
  const files = new Map<string, string>();
  for (const file of batches) {
    for (const raw of readJson(join(sourceDir, file), z.array(RawKnowledgePoint))) {
      const other = files.get(raw.kp_id);
      if (other)
        throw new CatalogueImportError(join(sourceDir, file), `${raw.kp_id} is also listed in ${other}`);
      files.set(raw.kp_id, file);
      read.push({ raw, file });
    }
  }
  return read;
}

/**
 * kpId → the kpId replacing it. Every named target must exist, be replaced only once, and not be
 * published after the update that replaces it.
 */
function supersessions(sourceDir: string, read: readonly ReadKnowledgePoint[]): Map<string, string> {
  const byId = new Map(read.map(({ raw }) => [raw.kp_id, raw]));
  const by = new Map<string, string>();
  for (const { raw, file } of read) {
    if (raw.supersedes === null) continue;
    const where = join(sourceDir, file);
    const target = byId.get(raw.supersedes);
    if (!target) {
      throw new CatalogueImportError(
        where,
        `${raw.kp_id} supersedes ${raw.supersedes}, which no batch lists`,
      );
    }
    if (target.published_at && (!raw.published_at || raw.published_at < target.published_at)) {
      throw new CatalogueImportError(
        where,
        `${raw.kp_id} (published ${raw.published_at ?? 'undated'}) supersedes ${raw.supersedes}, published later on ${target.published_at}`,
      );
    }
    const earlier = by.get(raw.supersedes);
    if (earlier) {
      throw new CatalogueImportError(
        where,
        `${raw.supersedes} is superseded by both ${earlier} and ${raw.kp_id}`,
      );
    }
    by.set(raw.supersedes, raw.kp_id);
  }
  return by;
}

function validated<S extends z.ZodType>(schema: S, value: unknown, where: string, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, value));
  throw new CatalogueImportError(where, `${what} is invalid: ${problems.join('; ')}`, {
    cause: result.error,
  });
}

/**
 * Read the NHSA two-libraries extract in `sourceDir` and build the catalogue files: every knowledge
 * point parsed into a restriction where that is safe (see `parseConstraint`) and dated by its batch's
 * publication, updates applied (a superseded point moves to `supersededPoints` with the update's
 * date as its `supersededOn`, and is listed in `supersededBy`), and coverage counted over
 * every record read. Pure apart from reading `sourceDir`; the same source gives the same result.
 *
 * @throws CatalogueImportError naming the file when a source file is missing, not JSON, of the wrong
 *   shape, or inconsistent (duplicate ids, an update naming an unknown point, an unknown rule class).
 * @throws RangeError when `childMaxAgeYears` is not a whole number of years.
 */
export function importCatalogue(sourceDir: string, options: ParseOptions = {}): CatalogueImport {
  const childMax = options.childMaxAgeYears;
  if (childMax !== undefined && !(Number.isInteger(childMax) && childMax >= 0)) {
    throw new RangeError(`childMaxAgeYears must be a whole number of years, got ${childMax}`);
  }
  try {
    statSync(sourceDir);
  } catch (error) {
    throw new CatalogueImportError(sourceDir, 'source directory not found', { cause: error });
  }
  // 药品限适应症 texts are read with the disease mapping of rules/reference (src/catalogue/indications.ts).
  const parseOptions: ParseOptions = {
    ...options,
    indicationDiseases:
      options.indicationDiseases ?? loadIndicationDiseases(join(dirname(defaultCatalogueDir()), 'reference')),
  };
  const ruleClasses = buildRuleClasses(sourceDir);
  const classByName = new Map(ruleClasses.map((rc) => [rc.name, rc]));
  const batches = batchFiles(sourceDir);
  const read = readKnowledgePoints(sourceDir, batches);
  const supersededBy = supersessions(sourceDir, read);

  const pairSources: PairSource[] = read.flatMap(({ raw }) => {
    const [a, b, ...rest] = raw.med_codes;
    return raw.rule_class === '医疗服务项目重复收费' && a && b && rest.length === 0
      ? [{ codes: [a, b] as const, itemName: raw.item_name, text: raw.constraint ?? '' }]
      : [];
  });
  const reviewPair = pairReviewer(pairSources);

  const coverage = new Map<string, CatalogueFile['coverage']['byRuleClass'][number]>();
  const knowledgePoints: KnowledgePoint[] = [];
  const supersededPoints: KnowledgePoint[] = [];
  const publishedAt = new Map(read.map(({ raw }) => [raw.kp_id, raw.published_at]));
  const codeless: string[] = [];
  for (const { raw, file } of read) {
    const basisCode = raw.gz_code ?? classByName.get(raw.rule_class)?.basisCode;
    if (!basisCode) {
      throw new CatalogueImportError(
        join(sourceDir, file),
        `${raw.kp_id}: rule class ${raw.rule_class} has no gz_code and is in neither rule catalogue`,
      );
    }
    const { restriction, keptAsText } = parseConstraint(
      { ruleClass: raw.rule_class, text: raw.constraint, codes: raw.med_codes },
      parseOptions,
    );
    const row = coverage.get(raw.rule_class) ?? {
      ruleClass: raw.rule_class,
      read: 0,
      superseded: 0,
      active: 0,
      parsed: 0,
      keptAsText: 0,
      graded: 0,
    };
    coverage.set(raw.rule_class, row);
    row.read += 1;
    const replacement = supersededBy.get(raw.kp_id);
    // The date the replacing update was published; an undated one replaces the point from the start.
    const supersededOn = replacement ? (publishedAt.get(replacement) ?? null) : null;
    if (replacement) row.superseded += 1;
    if (replacement && supersededOn === null) continue;
    if (raw.med_codes.length === 0) {
      if (!replacement) codeless.push(`${raw.kp_id} (${raw.rule_class}: ${raw.item_name})`);
      continue;
    }
    const text = raw.constraint ?? '';
    let grade: KnowledgePoint['grade'] = null;
    if (restriction?.kind === 'exclusivePair') {
      grade = reviewPair({ codes: restriction.codes, itemName: raw.item_name, text });
    } else if (restriction) {
      grade = reviewText(raw.rule_class, text, restriction);
    }
    const point: KnowledgePoint = {
      kpId: raw.kp_id,
      ruleClass: raw.rule_class,
      basisCode,
      gzCode: raw.gz_code,
      itemName: raw.item_name,
      codes: raw.med_codes,
      text,
      detectLogic: raw.detect_logic,
      batch: raw.batch_tag,
      publishedAt: raw.published_at,
      supersedes: raw.supersedes,
      supersededOn,
      restriction,
      keptAsText,
      grade,
    };
    if (replacement) {
      supersededPoints.push(point);
      continue;
    }
    row.active += 1;
    if (restriction) row.parsed += 1;
    else row.keptAsText += 1;
    if (grade) row.graded += 1;
    knowledgePoints.push(point);
  }

  const rows = [...coverage.values()];
  const sum = (key: Exclude<keyof (typeof rows)[number], 'ruleClass'>) =>
    rows.reduce((total, row) => total + row[key], 0);
  const files = [CATALOGUE_1_0, CATALOGUE_2025, ...batches];
  const source = `NHSA 医疗保障基金智能监管两库 (规则库 + 知识库), structured extract: ${files.join(', ')}`;
  const codelessNote =
    codeless.length === 0
      ? ''
      : ` Source rows without codes are counted as read but not listed, since a knowledge point needs codes: ${codeless.join('; ')}.`;
  const catalogue = validated(
    CatalogueFile,
    {
      $comment:
        'Generated by `fundguard catalogue import` from the NHSA two-libraries extract; do not edit by hand. ' +
        'Knowledge points in force in source order (published batches, then updates), each applying to ' +
        'lines served from its publishedAt (null: from the start); supersededPoints are those an update ' +
        'replaced, applying to lines served before their supersededOn.' +
        codelessNote,
      source,
      coverage: {
        read: sum('read'),
        superseded: sum('superseded'),
        active: sum('active'),
        parsed: sum('parsed'),
        keptAsText: sum('keptAsText'),
        graded: sum('graded'),
        byRuleClass: rows,
      },
      supersededBy: Object.fromEntries([...supersededBy].sort(([a], [b]) => a.localeCompare(b))),
      knowledgePoints,
      supersededPoints,
    },
    sourceDir,
    'the imported catalogue',
  );
  const ruleClassFile = validated(
    RuleClassFile,
    {
      $comment:
        'Generated by `fundguard catalogue import`; do not edit by hand. The 2025 edition (seq order) merged ' +
        'with the 1.0 framework by code, then 1.0 classes the 2025 edition does not map. basisCode is the ' +
        '1.0 GZ/ZB code where one exists, else NHSA2025-<seq>.',
      source,
      ruleClasses,
    },
    sourceDir,
    'the rule class list',
  );
  return { catalogue, ruleClasses: ruleClassFile };
}

function stableJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The text of `knowledge-points.json` and `rule-classes.json` as an import writes them. Key order
 * follows the schemas and nothing depends on the clock, so the same import gives the same bytes.
 */
export function catalogueFileTexts(imported: CatalogueImport): Record<string, string> {
  return {
    [KNOWLEDGE_POINTS_FILE]: stableJson(CatalogueFile.parse(imported.catalogue)),
    [RULE_CLASSES_FILE]: stableJson(RuleClassFile.parse(imported.ruleClasses)),
  };
}

/**
 * Write `knowledge-points.json` and `rule-classes.json` into `outDir` (normally `rules/catalogue`),
 * creating it if needed (see `catalogueFileTexts`: the same import writes the same bytes). Returns
 * the paths written.
 */
export function writeCatalogue(imported: CatalogueImport, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return Object.entries(catalogueFileTexts(imported)).map(([name, text]) => {
    const path = join(outDir, name);
    writeFileSync(path, text);
    return path;
  });
}

/** Terminal columns: CJK characters take two. */
function width(text: string): number {
  let columns = 0;
  for (const ch of text) columns += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return columns;
}

const padEnd = (text: string, columns: number) => text + ' '.repeat(Math.max(0, columns - width(text)));
const padStart = (text: string | number, columns: number) =>
  ' '.repeat(Math.max(0, columns - width(String(text)))) + String(text);

/** The rules that evaluate one rule class, and the public reference tables (rules/reference) they read. */
export interface ClassEvaluation {
  ruleIds: readonly string[];
  /** File names in `rules/reference`; empty when the rules judge the claim by knowledge points or by itself. */
  reference: readonly string[];
}

/**
 * How many of the 2025 edition's classes the rules evaluate, and from what: knowledge points,
 * public reference data, or the claim itself; then the classes of FundGuard's own.
 */
function evaluatedClassesLine(
  evaluatedBy: ReadonlyMap<string, ClassEvaluation>,
  withPoints: ReadonlySet<string>,
  ruleClasses: readonly RuleClass[],
): string {
  const edition = ruleClasses.filter((rc) => rc.seq2025 !== null);
  const evaluated = [...evaluatedBy.keys()];
  const national = evaluated.filter((name) => edition.some((rc) => rc.name === name));
  const own = evaluated.filter((name) => !ruleClasses.some((rc) => rc.name === name));
  const other = evaluated.length - national.length - own.length;
  const fromPoints = national.filter((name) => withPoints.has(name)).length;
  const fromReference = national.filter(
    (name) => !withPoints.has(name) && (evaluatedBy.get(name)?.reference.length ?? 0) > 0,
  ).length;
  return (
    `rule classes evaluated by a rule: ${national.length} of the 2025 edition's ${edition.length} ` +
    `(${fromPoints} by knowledge points, ${fromReference} by public reference data, ` +
    `${national.length - fromPoints - fromReference} by the claim itself)` +
    (other > 0 ? `, ${other} of the 1.0 framework only` : '') +
    (own.length > 0 ? `, ${own.length} of FundGuard's own (${own.join('、')})` : '')
  );
}

/**
 * A readable coverage report: totals, then one row per rule class — records read, superseded by an
 * update, active, parsed into a restriction, graded suspicious by the review, and evaluated by a rule.
 * `evaluatedBy` maps a rule class to the rules that evaluate it; without it the column is left out.
 * `ruleClasses` (rule-classes.json) tells the 2025 edition's classes from FundGuard's own.
 * Rule classes a rule evaluates without knowledge points are listed after, those checked against
 * public reference data (ICD-10 and ICD-9-CM-3 edits, 十八反/十九畏, service classes) with the tables
 * they read, apart from those the claim alone decides (totals, code forms, upload delay…).
 */
export function formatCoverage(
  file: CatalogueFile,
  evaluatedBy?: ReadonlyMap<string, ClassEvaluation>,
  ruleClasses: readonly RuleClass[] = [],
): string {
  const c = file.coverage;
  const evaluated = (row: { ruleClass: string; parsed: number }) =>
    evaluatedBy?.has(row.ruleClass) ? row.parsed : 0;
  const totalEvaluated = c.byRuleClass.reduce((n, row) => n + evaluated(row), 0);
  const percent = (n: number) => (c.active === 0 ? '0.0' : ((100 * n) / c.active).toFixed(1));
  const nameColumns = Math.max(width('rule class'), ...c.byRuleClass.map((row) => width(row.ruleClass))) + 2;
  const header = [
    'read',
    'superseded',
    'active',
    'parsed',
    'suspicious',
    ...(evaluatedBy ? ['evaluated'] : []),
  ];
  const line = (name: string, cells: (string | number)[]) =>
    padEnd(name, nameColumns) + cells.map((cell, i) => padStart(cell, (header[i]?.length ?? 0) + 2)).join('');
  // A class counts as evaluated by knowledge points only where a rule reads some of them.
  const withPoints = new Set(c.byRuleClass.filter((row) => evaluated(row) > 0).map((row) => row.ruleClass));
  const withoutPoints = evaluatedBy
    ? [...evaluatedBy].filter(([ruleClass]) => !withPoints.has(ruleClass))
    : [];
  const byReference = withoutPoints.filter(([, e]) => e.reference.length > 0);
  const byClaim = withoutPoints.filter(([, e]) => e.reference.length === 0);
  const listed = (title: string, rows: [string, ClassEvaluation][]) =>
    rows.length === 0
      ? []
      : [
          '',
          title,
          ...rows.map(
            ([ruleClass, e]) =>
              `  ${padEnd(ruleClass, nameColumns)}${e.ruleIds.join(', ')}` +
              (e.reference.length ? `  (rules/reference/${e.reference.join(', rules/reference/')})` : ''),
          ),
        ];
  return [
    'NHSA catalogue coverage',
    `  knowledge points read    ${padStart(c.read, 6)}`,
    `  superseded by an update  ${padStart(c.superseded, 6)}`,
    `  active (with codes)      ${padStart(c.active, 6)}`,
    `  parsed into a restriction${padStart(c.parsed, 6)}  (${percent(c.parsed)}% of active)`,
    `  graded suspicious        ${padStart(c.graded, 6)}  (the source leaves the restriction in doubt)`,
    ...(evaluatedBy
      ? [`  evaluated by a rule      ${padStart(totalEvaluated, 6)}  (${percent(totalEvaluated)}% of active)`]
      : []),
    '',
    line('rule class', header),
    ...c.byRuleClass.map((row) =>
      line(row.ruleClass, [
        row.read,
        row.superseded,
        row.active,
        row.parsed,
        row.graded,
        ...(evaluatedBy ? [evaluated(row)] : []),
      ]),
    ),
    ...listed('rule classes evaluated by public reference data, without knowledge points:', byReference),
    ...listed('rule classes evaluated by the claim itself, without knowledge points:', byClaim),
    ...(evaluatedBy ? ['', evaluatedClassesLine(evaluatedBy, withPoints, ruleClasses)] : []),
  ].join('\n');
}
