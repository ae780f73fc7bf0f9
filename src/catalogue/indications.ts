import { join } from 'node:path';
import { z } from 'zod';
import { readCatalogueJson } from './read.ts';

/**
 * 药品限适应症: a drug payable only for the indications its knowledge point names. The text becomes
 * a restriction only when every word of its limit is either a disease of
 * rules/reference/indication-diseases.json (mapped to ICD-10 with a published source), an age
 * condition, or a qualifier that can only narrow who is paid (成人, 二线用药, 局部晚期, HER2阳性…). A
 * disease the mapping lacks keeps the whole point as text, so a patient is never held for an
 * indication the mapping cannot see. Qualifiers are not checked: a claim shows no gene test or
 * earlier line of treatment, so the check is a necessary condition only and its result is suspicious.
 */

export const INDICATION_DISEASES_FILE = 'indication-diseases.json';

/** An ICD-10 category (E11), a code prefix (K70.3) or a range of categories or codes (I10-I13, M07.0-M07.3). */
const Icd10Key = z
  .string()
  .regex(
    /^[A-Z]\d{2}(?:\.\d{1,2})?$|^[A-Z]\d{2}-[A-Z]\d{2}$|^[A-Z]\d{2}\.\d-[A-Z]\d{2}\.\d$/,
    'expected E11, K70.3, I10-I13 or M07.0-M07.3',
  );

const DiseaseEntry = z.strictObject({
  /** The disease as the knowledge point texts spell it, with its synonyms and abbreviations. */
  names: z.array(z.string().min(1)).min(1),
  icd10: z.array(Icd10Key).min(1),
  /** The ICD-10 titles of the codes, as published. */
  title: z.string().min(1),
  /** Where the codes' titles are published (WHO ICD-10 2019, GB/T 14396-2016, 国家医保版). */
  source: z.string().min(1),
  /** Why the list is wider than the one category the name suggests, where it is. */
  why: z.string().min(1).optional(),
});
export type DiseaseEntry = z.infer<typeof DiseaseEntry>;

/** `rules/reference/indication-diseases.json`. */
export const IndicationDiseaseFile = z.strictObject({
  $comment: z.string(),
  diseases: z.array(DiseaseEntry).min(1),
});
export type IndicationDiseaseFile = z.infer<typeof IndicationDiseaseFile>;

/** The disease names of the mapping, indexed for longest-match reading of a text. */
export class IndicationDiseases {
  readonly #byName = new Map<string, DiseaseEntry>();
  readonly #maxLength: number;

  constructor(readonly file: IndicationDiseaseFile) {
    for (const entry of file.diseases) {
      for (const name of entry.names) {
        const key = normalise(name);
        if (this.#byName.has(key)) throw new Error(`${INDICATION_DISEASES_FILE}: ${name} is listed twice`);
        this.#byName.set(key, entry);
      }
    }
    this.#maxLength = Math.max(...[...this.#byName.keys()].map((k) => k.length));
  }

  /** The longest disease name at `at` in `text`, if any. */
  at(text: string, at: number): { name: string; entry: DiseaseEntry } | undefined {
    for (let length = Math.min(this.#maxLength, text.length - at); length > 0; length -= 1) {
      const name = text.slice(at, at + length);
      const entry = this.#byName.get(name);
      if (entry) return { name, entry };
    }
    return undefined;
  }
}

/**
 * Read `indication-diseases.json` from `dir` (normally `rules/reference`).
 *
 * @throws CatalogueLoadError naming the file when it is missing or invalid.
 */
export function loadIndicationDiseases(dir: string): IndicationDiseases {
  return new IndicationDiseases(
    readCatalogueJson(join(dir, INDICATION_DISEASES_FILE), IndicationDiseaseFile, 'reference'),
  );
}

/** A completed-age bound: `{ value: 3, unit: 'months' }` is 3月龄. */
export interface AgeBound {
  value: number;
  unit: 'years' | 'months' | 'days';
}

/** One indication the text lists: payable when a diagnosis falls in `icd10` and the age fits. */
export interface IndicationAlternative {
  diseases: string[];
  icd10: string[];
  /** Inclusive; absent when the alternative states no age. */
  minAge?: AgeBound;
  maxAgeYears?: number;
  /** The age condition as the text states it (成人, 12岁及以上…). */
  ageLabel?: string;
}

export type ParsedIndication =
  | { alternatives: IndicationAlternative[]; unmapped: null; reason: null }
  | { alternatives: null; unmapped: string[]; reason: string };

/**
 * Texts are read after NFKC (full-width ，：（） and look-alike radicals such as ⼉ read as their plain
 * forms) with the spaces inside Latin words and numbers ("≥2 岁", "BRAF V600 突变") removed.
 */
function normalise(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').replace(/[＜]/g, '<').replace(/[＞]/g, '>').trim();
}

/** 十八周岁以上的自然人为成年人 (民法典 第十七条); under that is a minor, i.e. a child here. */
const ADULT_MIN_YEARS = 18;

/**
 * Words that only narrow who is paid — the patient group, the line or aim of treatment, a stage or
 * severity that stays within the disease's ICD-10 category, a marker a claim does not carry — and so
 * may be left unchecked. Words that change a disease's code (急性, 慢性, 继发性, 新生儿…) are never here:
 * they belong to the disease names in the mapping.
 */
const QUALIFIERS: readonly string[] = [
  '患者群体',
  '患者',
  '人群',
  '受者',
  '病人',
  '治疗',
  '用药',
  '短期治疗',
  '长期',
  '一线',
  '二线',
  '三线',
  '局部治疗',
  '辅助治疗',
  '新辅助',
  '维持治疗',
  '血糖控制',
  '的',
  '者',
  '有',
  '诊断',
  '明确',
  '确诊',
  '临床确诊',
  '轻度',
  '中度',
  '重度',
  '轻中度',
  '中重度',
  '轻至中度',
  '轻度至中度',
  '中度至重度',
  '轻、中度',
  '活动性',
  '难治性',
  '难治',
  '复发',
  '复发型',
  '复发性',
  '原发进展型',
  '进展期',
  '晚期',
  '局部晚期',
  '转移性',
  '不可切除',
  '早期',
  '急救抢救',
  '的患者',
  // joining words: the diseases they join are all mapped, and any one of them pays
  '引起',
  '所致',
  '所引起',
  '相关',
  '伴有',
  '伴',
  '且',
  '并且',
  // the course, state or setting of a disease the patient already has
  '控制不佳',
  '效果不佳',
  '疗效欠佳',
  '不佳',
  '欠佳',
  '规范',
  '新发',
  '急性发作',
  '急性期',
  '慢性期',
  '加速期',
  '住院',
  '稳定性',
  '严重',
  '重型',
  '全身型',
  '特发性',
  '原发性',
  '单纯性',
  '单纯型',
  '上皮性',
  '证据',
  '介入治疗',
  '溶栓治疗',
  '使用',
  '出血治疗',
  '限出血时使用',
  '出血时使用',
  '接受血液透析',
  '非透析',
  '维持性透析',
  '透析',
  '口服吞咽困难',
  '改善症状',
  '光疗',
  '系统治疗',
  '系统性治疗',
  '适合',
  '符合',
  '指征',
  '接受',
  '激素敏感性',
  '内分泌治疗敏感性',
  '去势抵抗性',
  '非转移性',
  '需要雄激素去势治疗',
  '铂敏感',
  '铂耐药',
  '费城染色体阳性',
  // earlier treatment and its outcome
  '既往',
  '不耐受',
  '无法耐受',
  '不可耐受',
  '失应答',
  '应答不充分',
  '应答不佳',
  '应答不足',
  '反应不佳',
  '疗效不佳',
  '缓解不充分',
  '后出现疾病进展',
  '出现疾病进展',
  '疾病进展',
  '后进展',
  '失败',
  '对传统治疗',
  '传统治疗',
  '常规治疗',
  '生物制剂',
  '时或治疗后',
  '不可手术切除',
  '无法手术切除',
  '手术切除后',
  // markers a claim does not carry: genes and receptors, positive or negative
  '间变性淋巴瘤激酶',
  '表皮生长因子受体2',
  '人表皮生长因子受体2',
  '人类表皮生长因子受体-2',
  '人表皮生长因子2',
  '表皮生长因子受体',
  '激素受体',
  '间质-上皮转化因子',
  '间质上皮转化因子',
  '携带',
  '阳性',
  '阴性',
  '突变',
  '融合',
  '基因',
  '具有',
  '外显子19缺失',
  '外显子21',
  '置换突变',
  '19号外显子缺失',
  '外显子14跳变',
  '外显子14跳跃突变',
  '敏感突变',
  '野生型',
  '过表达',
  '低表达',
  '高表达',
];

/**
 * Narrowing phrases of a shape rather than a word: earlier treatment (既往至少接受过一种治疗, 曾经接受过
 * 细胞因子治疗…失败), functional classes (WHO功能分级II级-III级, 心功能分级II-III级), the onset window of
 * a thrombolysis (发病4.5小时内), a marker written in Latin letters (ROS1阳性, HBeAg阳性).
 */
const QUALIFIER_PATTERNS: readonly RegExp[] = [
  /(?:既往|已|曾经)(?:至少)?(?:接受过?|经过)(?:至少)?[^,;:、的]*?(?:治疗|化疗方案|化疗|方案)(?:失败)?/y,
  /WHO功能分级[IV]+级?(?:-[IV]+级?)?/y,
  /\(?(?:PAH,)?WHO(?:第\d组|分类\d)\)?/y,
  /(?:纽约心脏协会)?(?:\(NYHA\))?心功能分级[IV]+级?(?:-[IV]+级?)?/y,
  /发病\d+(?:\.\d+)?小时内/y,
  /[A-Za-z][A-Za-z0-9+-]*(?=阳性|阴性|突变|融合|基因|野生型|过表达|低表达|高表达)/y,
];

/** The longest qualifier word or phrase at `at`, if any. */
function longestQualifier(text: string, at: number): string | undefined {
  let best = QUALIFIERS.filter((q) => text.startsWith(q, at)).sort((a, b) => b.length - a.length)[0];
  for (const re of QUALIFIER_PATTERNS) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m && m[0].length > (best?.length ?? 0)) best = m[0];
  }
  return best;
}

/** Single characters that join or bracket the words of a list. */
const SEPARATORS = new Set([...'、,，;；:：()（）或和及与以及/[]【】“”"\'·.']);

type Token =
  | { kind: 'disease'; name: string; entry: DiseaseEntry }
  | {
      kind: 'age';
      label: string;
      minAge?: AgeBound;
      maxAgeYears?: number;
      /** 儿童, 青少年: a group a number right before it bounds. */
      population?: boolean;
      /** A band stated in numbers (12岁及以上), not by a word. */
      numeric?: boolean;
      at: number;
      end: number;
    }
  | { kind: 'unknown'; text: string };

type AgeToken = Token & { kind: 'age' };

const AGE_PATTERNS: readonly {
  re: RegExp;
  band: (m: RegExpExecArray) => Omit<AgeToken, 'kind' | 'at' | 'end' | 'numeric'>;
}[] = [
  // 5至12岁以下 → 5..11; 2岁至<18岁 → 2..17; 12至<18岁 → 12..17; 3-12岁 → 3..12
  {
    re: /(\d+)(?:岁|周岁)?(?:-|~|至|到)(<)?(\d+)(?:岁|周岁)(以下)?/y,
    band: (m) => ({
      label: m[0],
      minAge: { value: Number(m[1]), unit: 'years' },
      maxAgeYears: Number(m[3]) - (m[2] || m[4] ? 1 : 0),
    }),
  },
  // 1月龄至18岁 → 1 month .. 18 years
  {
    re: /(\d+)月龄(?:-|至)(\d+)岁/y,
    band: (m) => ({
      label: m[0],
      minAge: { value: Number(m[1]), unit: 'months' },
      maxAgeYears: Number(m[2]),
    }),
  },
  // ≥12岁, ≥18周岁, ≥1周岁
  {
    re: /≥(\d+)(?:岁|周岁)/y,
    band: (m) => ({ label: m[0], minAge: { value: Number(m[1]), unit: 'years' } }),
  },
  // 12岁及以上, 6岁及6岁以上, 12岁以上, 10岁及以上 (以上 includes the number: 刑法 第九十九条)
  {
    re: /(\d+)(?:岁|周岁)(?:及(?:\d+(?:岁|周岁))?)?以上/y,
    band: (m) => ({ label: m[0], minAge: { value: Number(m[1]), unit: 'years' } }),
  },
  {
    re: /(\d+)月龄及以上/y,
    band: (m) => ({ label: m[0], minAge: { value: Number(m[1]), unit: 'months' } }),
  },
  {
    re: /(\d+)日龄及以上/y,
    band: (m) => ({ label: m[0], minAge: { value: Number(m[1]), unit: 'days' } }),
  },
  {
    re: /成人|成年人|成年/y,
    band: (m) => ({ label: m[0], minAge: { value: ADULT_MIN_YEARS, unit: 'years' } }),
  },
  // 儿童 as in parse.ts's DEFAULT_CHILD_MAX_AGE_YEARS: a minor.
  { re: /儿童|小儿/y, band: (m) => ({ label: m[0], maxAgeYears: ADULT_MIN_YEARS - 1, population: true }) },
  // 青少年 has no bound of its own in these texts; only a number beside it gives one.
  { re: /青少年/y, band: (m) => ({ label: m[0], population: true }) },
];

/** Read one alternative's words: diseases, ages, qualifiers; anything else is an unknown word. */
function tokenise(text: string, diseases: IndicationDiseases): Token[] {
  const tokens: Token[] = [];
  let unknown = '';
  const flush = () => {
    if (unknown) tokens.push({ kind: 'unknown', text: unknown });
    unknown = '';
  };
  let at = 0;
  outer: while (at < text.length) {
    // A parenthesis of Latin letters and digits is an abbreviation of the words before it: (NSCLC), (HER2).
    const abbreviation = /\([A-Za-z0-9+\-/,.≥≤<>=α-ω ]*\)/y;
    abbreviation.lastIndex = at;
    const abbr = abbreviation.exec(text);
    if (abbr) {
      flush();
      at += abbr[0].length;
      continue;
    }
    const disease = diseases.at(text, at);
    for (const { re, band } of AGE_PATTERNS) {
      re.lastIndex = at;
      const m = re.exec(text);
      // A disease name that starts here and is longer wins (新生儿败血症 over 儿童…).
      if (m && !(disease && disease.name.length > m[0].length)) {
        flush();
        tokens.push({ kind: 'age', ...band(m), numeric: /\d/.test(m[0]), at, end: at + m[0].length });
        at += m[0].length;
        continue outer;
      }
    }
    const qualifier = longestQualifier(text, at);
    if (disease && disease.name.length >= (qualifier?.length ?? 0)) {
      flush();
      tokens.push({ kind: 'disease', ...disease });
      at += disease.name.length;
      continue;
    }
    if (qualifier) {
      flush();
      at += qualifier.length;
      continue;
    }
    const ch = text[at] as string;
    if (SEPARATORS.has(ch)) flush();
    else unknown += ch;
    at += 1;
  }
  flush();
  return mergeBands(tokens);
}

/**
 * "6岁及以上儿童", "12至<18岁青少年": a number right before a population word bounds that population.
 * A population word elsewhere in the alternative whose group holds a numeric band of it is that
 * band's group ("5至12岁以下单纯性甲型和乙型流感儿童患者" is children of 5 to 11), so it adds nothing.
 */
function mergeBands(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const token of tokens) {
    const before = out[out.length - 1];
    if (
      token.kind === 'age' &&
      token.population &&
      before?.kind === 'age' &&
      before.numeric &&
      before.end === token.at
    ) {
      out[out.length - 1] = {
        ...before,
        label: `${before.label}${token.label}`,
        maxAgeYears: Math.min(before.maxAgeYears ?? 150, token.maxAgeYears ?? 150),
        end: token.end,
      };
    } else out.push(token);
  }
  const numeric = out.filter((t): t is AgeToken => t.kind === 'age' && t.numeric === true);
  return out.filter(
    (t) => !(t.kind === 'age' && t.population && !t.numeric && numeric.some((n) => within(n, t))),
  );
}

/** Whether band `inner` lies within the group `outer` (an upper bound only, or none). */
function within(inner: AgeToken, outer: AgeToken): boolean {
  if (outer.minAge) return false;
  if (outer.maxAgeYears === undefined) return true;
  return inner.maxAgeYears !== undefined && inner.maxAgeYears <= outer.maxAgeYears;
}

/**
 * The limit's alternatives: "限：1.A；2.B" and "限A；B" list indications any one of which pays.
 * Items are numbered 1., 2., … in order, so "4.1月龄至18岁" is item 4, not item 1.
 */
function alternatives(limit: string): string[] {
  const starts: number[] = [];
  let from = 0;
  for (let n = 1; ; n += 1) {
    const re = new RegExp(`(?:^|[;:,])${n}\\.`, 'g');
    re.lastIndex = from;
    const m = re.exec(limit);
    if (!m) break;
    starts.push(m.index + m[0].length - `${n}.`.length);
    from = m.index + m[0].length;
  }
  const pieces =
    starts.length < 2
      ? [limit]
      : starts.map((start, i) => limit.slice(start, starts[i + 1]).replace(/^\d+\./, ''));
  return pieces
    .flatMap((p) => p.split(';'))
    .map((p) => p.replace(/^限/, '').replace(/[;:,]+$/, ''))
    .filter((p) => p.length > 0);
}

/** Clauses after the limit that narrow it (支付不超过14天, 需经营养风险筛查…) and are not indications. */
const NARROWING_CLAUSES: readonly RegExp[] = [
  /[,;]?(?:且)?支付不超过\d+(?:天|个月)/g,
  /[,;]?单次支付不超过\d+天/g,
  /[,;]?首次处方时需由[^,;。]*开具处方/g,
  /[,;]?需按说明书用药/g,
  /[,;]?按说明书用药/g,
  /[,;]?连续使用\d+个月无效时停药/g,
  /[,;]?连续使用不超过\d+个月/g,
];

/**
 * 药品限适应症 text → its alternatives with ICD-10 codes and ages, or the unmapped words and the
 * reason it stays text. Sentences after the first narrow the limit (需经营养风险筛查…住院患者方予支付,
 * 尚未确定本品在0-6岁儿童中的安全性…) and are not read, unless one states another limit (限…, 亦可用于…).
 */
export function parseIndication(text: string, diseases: IndicationDiseases): ParsedIndication {
  const kept = (reason: string, unmapped: string[] = []): ParsedIndication => ({
    alternatives: null,
    unmapped,
    reason,
  });
  const t = normalise(text).replace(/，/g, ',').replace(/；/g, ';').replace(/：/g, ':');
  const [first = '', ...rest] = t.split('。').filter((s) => s.length > 0);
  if (rest.some((s) => /限|亦可|也可用于|还可用于/.test(s)))
    return kept('a later sentence of the text states another limit');
  let limit = first;
  for (const re of NARROWING_CLAUSES) limit = limit.replace(re, '');
  if (!/^(?:限|适用于)/.test(limit)) return kept('the text does not state a limit (限…)');
  limit = limit.replace(/^(?:限以下情况方可支付|限以下情况方予支付|限|适用于)[:,]?/, '');

  const result: IndicationAlternative[] = [];
  const unmapped: string[] = [];
  for (const piece of alternatives(limit)) {
    const tokens = tokenise(piece, diseases);
    const unknown = tokens.flatMap((tk) => (tk.kind === 'unknown' ? [tk.text] : []));
    unmapped.push(...unknown);
    const named = tokens.flatMap((tk) => (tk.kind === 'disease' ? [tk] : []));
    if (unknown.length > 0) continue;
    if (named.length === 0) {
      unmapped.push(piece);
      continue;
    }
    const ages = tokens.flatMap((tk) => (tk.kind === 'age' ? [tk] : []));
    result.push({
      diseases: [...new Set(named.map((d) => d.name))],
      icd10: [...new Set(named.flatMap((d) => d.entry.icd10))],
      ...ageUnion(ages),
    });
  }
  if (unmapped.length > 0) {
    return kept(`names what the disease mapping does not cover: ${[...new Set(unmapped)].join('、')}`, [
      ...new Set(unmapped),
    ]);
  }
  if (result.length === 0) return kept('no indication found in the text');
  return { alternatives: result, unmapped: null, reason: null };
}

const inMonths = (b: AgeBound): number =>
  b.unit === 'years' ? b.value * 12 : b.unit === 'months' ? b.value : b.value / 31;

/**
 * The ages one alternative states are alternatives too ("成人和6岁及以上儿童" → 6 and over), so
 * their union: the lowest lower bound, the highest upper bound, and no bound where one side has none.
 */
function ageUnion(
  ages: readonly AgeToken[],
): Pick<IndicationAlternative, 'minAge' | 'maxAgeYears' | 'ageLabel'> {
  if (ages.length === 0) return {};
  const label = ages.map((a) => a.label).join('、');
  const mins = ages.map((a) => a.minAge);
  const maxes = ages.map((a) => a.maxAgeYears);
  const minAge = mins.some((m) => m === undefined)
    ? undefined
    : mins.reduce((low, m) => (m && low && inMonths(m) < inMonths(low) ? m : low));
  const maxAgeYears = maxes.some((m) => m === undefined) ? undefined : Math.max(...(maxes as number[]));
  // 成人 (18+) with 儿童 (≤17) states no bound at all.
  const open = minAge === undefined && maxAgeYears === undefined;
  return {
    ...(minAge ? { minAge } : {}),
    ...(maxAgeYears !== undefined ? { maxAgeYears } : {}),
    ...(open ? {} : { ageLabel: label }),
  };
}

/** Whether an ICD-10 code as the settlement list writes it (E11.900, I10.x00, G63.2*) falls under `key`. */
export function icd10Matches(key: string, rawCode: string): boolean {
  const code = rawCode.trim().toUpperCase();
  const dash = key.indexOf('-');
  if (dash < 0) return code.startsWith(key);
  const from = key.slice(0, dash);
  const head = code.slice(0, from.length);
  return head.length === from.length && head >= from && head <= key.slice(dash + 1);
}

/** What the import says about 药品限适应症: how many points a rule can check, and why the rest cannot. */
export interface IndicationCoverage {
  points: number;
  checkable: number;
  /** Checkable points with an age condition in at least one alternative. */
  withAge: number;
  /** Points kept as text, by reason. */
  notCheckable: { reason: string; points: number }[];
  /** Words of the kept texts the mapping does not cover, by how many points name them. */
  unmapped: { name: string; points: number }[];
}

const UNMAPPED_REASON = 'names a disease or word the mapping does not cover';

/**
 * Coverage over the active 药品限适应症 points of an imported catalogue; the kept ones are read
 * again with `diseases` to list the words that kept them.
 */
export function indicationCoverage(
  points: readonly { ruleClass: string; text: string; restriction: { kind: string } | null }[],
  diseases: IndicationDiseases,
): IndicationCoverage {
  const indications = points.filter((kp) => kp.ruleClass === '药品限适应症');
  const reasons = new Map<string, number>();
  const unmapped = new Map<string, number>();
  let checkable = 0;
  let withAge = 0;
  for (const kp of indications) {
    const read = parseIndication(kp.text, diseases);
    if (kp.restriction?.kind === 'indication' && read.alternatives) {
      checkable += 1;
      if (read.alternatives.some((a) => a.ageLabel)) withAge += 1;
      continue;
    }
    const reason = read.alternatives ? 'read, but not in the catalogue (re-import)' : read.reason;
    const key = read.unmapped?.length ? UNMAPPED_REASON : reason;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
    for (const name of new Set(read.unmapped ?? [])) unmapped.set(name, (unmapped.get(name) ?? 0) + 1);
  }
  const byCount = <K extends string>(map: Map<string, number>, key: K) =>
    [...map]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([name, n]) => ({ [key]: name, points: n }) as Record<K, string> & { points: number });
  return {
    points: indications.length,
    checkable,
    withAge,
    notCheckable: byCount(reasons, 'reason'),
    unmapped: byCount(unmapped, 'name'),
  };
}

/**
 * The coverage as the import prints it, with the `top` most frequent unmapped words; single
 * characters left between read words (不, 后, 在) are grammar, not names, and are not listed.
 */
export function formatIndicationCoverage(coverage: IndicationCoverage, top = 15): string {
  const kept = coverage.points - coverage.checkable;
  return [
    `药品限适应症 (indication limits, read with rules/reference/${INDICATION_DISEASES_FILE})`,
    `  active points            ${String(coverage.points).padStart(6)}`,
    `  machine-checkable        ${String(coverage.checkable).padStart(6)}  (every disease named maps to ICD-10; ${coverage.withAge} with an age condition)`,
    `  kept as text             ${String(kept).padStart(6)}`,
    ...coverage.notCheckable.map((r) => `    ${String(r.points).padStart(4)}  ${r.reason}`),
    `  most frequent words the mapping does not cover (points):`,
    `    ${coverage.unmapped
      .filter((u) => u.name.length > 1)
      .slice(0, top)
      .map((u) => `${u.name} (${u.points})`)
      .join('、')}`,
  ].join('\n');
}
