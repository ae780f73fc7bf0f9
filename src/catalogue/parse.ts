import type { INSURANCE_TYPES, VISIT_TYPES } from '../contracts/claim.ts';
import { type IndicationDiseases, parseIndication } from './indications.ts';
import type { Restriction } from './schema.ts';

/**
 * Upper completed age (years) of a child when a knowledge point only says 儿童/小儿. Under-18 follows
 * the Law on the Protection of Minors; a region with another definition passes its own value.
 */
export const DEFAULT_CHILD_MAX_AGE_YEARS = 17;

export interface ParseOptions {
  /** Inclusive upper age for 儿童/小儿 without an explicit band. */
  childMaxAgeYears?: number;
  /** The disease-to-ICD-10 mapping 药品限适应症 texts are read with; without it they stay text. */
  indicationDiseases?: IndicationDiseases;
}

/** The parts of one published knowledge point that decide its restriction. */
export interface ConstraintSource {
  ruleClass: string;
  /** The constraint text as published; null when the row has none. */
  text: string | null;
  codes: readonly string[];
}

/** Either a restriction a rule can check, or the reason the text stays text. */
export type ParsedConstraint =
  | { restriction: Restriction; keptAsText: null }
  | { restriction: null; keptAsText: string };

const parsed = (restriction: Restriction): ParsedConstraint => ({ restriction, keptAsText: null });
const kept = (reason: string): ParsedConstraint => ({ restriction: null, keptAsText: reason });

/**
 * Texts are matched after NFKC so that full-width punctuation and digits (，：（１２）) and look-alike
 * radicals (⼉ U+2F09 for 儿, seen in the 2026-01 update) read the same as their plain forms.
 */
function normalise(text: string): string {
  return text.normalize('NFKC').trim();
}

// Keywords are tuned on the ~416 distinct 药品区分性别使用 texts. They are deliberately specific:
// bare 经 would hit 神经, bare 精 would hit 精神, 前列腺素 (prostaglandin) is used in obstetrics,
// and 雄激素 appears in female texts (育龄女性雄激素敏感所致痤疮), so none of those are keywords.
export const FEMALE_KEYWORDS: readonly RegExp[] = [
  /妇/,
  /女性|女用|女子/,
  /月经|痛经|闭经|调经|崩漏/,
  /(?<!神)经(?:期|行|来|血|水|前)|行经/,
  /带下|白带|赤带/,
  /阴道|外阴|阴痒/,
  /子宫|宫颈|胞宫|宫寒|暖宫|宫缩|宫内|上环|节育/,
  /卵巢|输卵管|附件炎|盆腔炎/,
  /妊娠|孕|胎/,
  /产后|产妇|早产|流产|小产|引产|催产|剖腹产|剖宫产|分娩|难产|恶露/,
  /乳汁|奶汁|缺乳|少乳|下乳|催乳|通乳|生乳/,
  /避孕|绝经/,
  /(?<!男子|男性)更年期/,
  // Breast cancer occurs in men too, but every NHSA sex-restricted breast-cancer drug is listed for women.
  /乳腺癌/,
];

export const MALE_KEYWORDS: readonly RegExp[] = [
  /男性|男子|男用/,
  /前列腺(?!素)/,
  /睾丸|阴茎|阴囊|肾囊/,
  /勃起|阳痿|阳萎|早泄/,
  /精子|精液|遗精|滑精|无精|少精|弱精/,
];

/**
 * The sex a sex-restricted item serves, inferred from its text (an indication for drugs, 女性…/男性…
 * for services); undefined unless exactly one sex's keywords occur.
 */
export function sexFromText(text: string): 'F' | 'M' | undefined {
  const t = normalise(text);
  const female = FEMALE_KEYWORDS.some((re) => re.test(t));
  const male = MALE_KEYWORDS.some((re) => re.test(t));
  if (female === male) return undefined;
  return female ? 'F' : 'M';
}

type AgeRestriction = Extract<Restriction, { kind: 'age' }>;

/** 医疗服务项目儿童专用 names the age group; the more specific words are tested first. */
function serviceAgeGroup(text: string, childMax: number): AgeRestriction | undefined {
  if (text.includes('新生儿')) return { kind: 'age', label: '新生儿', maxAgeDays: 28 };
  if (text.includes('婴幼儿')) return { kind: 'age', label: '婴幼儿', maxAgeYears: 2 };
  if (text.includes('婴儿')) return { kind: 'age', label: '婴儿', maxAgeYears: 0 };
  if (text.includes('小儿')) return { kind: 'age', label: '小儿', maxAgeYears: childMax };
  if (text.includes('儿童')) return { kind: 'age', label: '儿童', maxAgeYears: childMax };
  return undefined;
}

/**
 * 药品儿童专用 texts are indications; being for children is the payable limit, at the band the text
 * states: "11周岁以下患者" → 0..10, "早产婴儿" or "婴儿腹泻" → under 1, "婴幼儿" → under 3. A text that
 * also names 儿童 or 小儿 ("1月以上婴儿和儿童", "早产儿…小儿") is held to the child band.
 */
function childOnlyDrugBand(text: string, childMax: number): AgeRestriction {
  const underYears = /(\d+)周岁以下/.exec(text);
  if (underYears) {
    const years = Number(underYears[1]);
    if (years >= 1 && years - 1 <= childMax)
      return { kind: 'age', label: `${years}周岁以下`, maxAgeYears: years - 1 };
  }
  if (/儿童|小儿/.test(text)) return { kind: 'age', label: '儿童', maxAgeYears: childMax };
  if (text.includes('早产婴儿')) return { kind: 'age', label: '早产婴儿', maxAgeYears: 0 };
  if (text.includes('婴幼儿')) return { kind: 'age', label: '婴幼儿', maxAgeYears: 2 };
  if (text.includes('婴儿')) return { kind: 'age', label: '婴儿', maxAgeYears: 0 };
  return { kind: 'age', label: '儿童', maxAgeYears: childMax };
}

/**
 * 限儿童使用 texts: explicit bands ("3-12岁", "5至12岁以下" → 5..11, "1岁至14岁") or a lower bound
 * ("3岁及3岁以上…儿童" → 3..child max); several bands give their union, so a patient inside any of
 * them passes. Without a number, 儿童/小儿 gives the default child band.
 */
function childBand(text: string, childMax: number): AgeRestriction | undefined {
  const ranges: [number, number][] = [];
  for (const m of text.matchAll(/(\d+)岁?(?:-|~|至|到)(\d+)岁(以下)?/g)) {
    ranges.push([Number(m[1]), Number(m[2]) - (m[3] ? 1 : 0)]);
  }
  const lowerBounds = [...text.matchAll(/(\d+)岁及(?:\d+岁)?以上/g)].map((m) => Number(m[1]));
  if (ranges.length === 0 && lowerBounds.length === 0) {
    return /儿童|小儿/.test(text) ? { kind: 'age', label: '儿童', maxAgeYears: childMax } : undefined;
  }
  const min = Math.min(...ranges.map(([lo]) => lo), ...lowerBounds);
  const max = Math.max(...ranges.map(([, hi]) => hi), ...(lowerBounds.length > 0 ? [childMax] : []));
  if (min > max) return undefined;
  const label = ranges.length > 0 ? `${min}-${max}岁` : `${min}岁及以上儿童`;
  return { kind: 'age', label, minAgeYears: min, maxAgeYears: max };
}

/**
 * 法定就业年龄段 is the widest band anyone may be of working age in: from 16 (劳动法 第十五条 forbids
 * employing anyone under 16) to before 63, the highest statutory retirement age (men's, reached by
 * 全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定, 2024). Women and some occupations
 * retire earlier, which a claim cannot show, so a patient outside this band is outside everyone's.
 */
export const WORKING_AGE_BAND = { minAgeYears: 16, maxAgeYears: 62 } as const;

/** 医疗服务项目限年龄: the age band each text states. */
function serviceAgeBand(text: string): ParsedConstraint {
  return text.includes('法定就业年龄')
    ? parsed({ kind: 'age', label: '法定就业年龄段', ...WORKING_AGE_BAND })
    : kept('no age band recognised in the text');
}

const VISIT_PATTERNS: readonly { re: RegExp; visitTypes: (typeof VISIT_TYPES)[number][] }[] = [
  { re: /限急诊或住院患者/, visitTypes: ['emergency', 'inpatient'] },
  { re: /住院患者方予支付|住院方可支付/, visitTypes: ['inpatient'] },
  // "限缺血性心脑血管疾病急性期住院患者" names the patients as inpatients just as plainly.
  { re: /限[^。;,]*住院患者/, visitTypes: ['inpatient'] },
];

function visitTypes(text: string): ParsedConstraint {
  if (text.includes('门诊'))
    return kept('the text mentions outpatient care; visit type not stated as a plain limit');
  const match = VISIT_PATTERNS.find(({ re }) => re.test(text));
  return match
    ? parsed({ kind: 'visitType', visitTypes: match.visitTypes })
    : kept('no visit type limit recognised in the text');
}

function hospitalLevel(text: string): ParsedConstraint {
  // "首次处方时需由二级及以上医疗机构专科医师开具处方", "需三级综合医院眼科或二级及以上眼科专科医院医师处方":
  // the level qualifies who prescribes, not where the drug is billed, so a level check would misfire.
  if (text.includes('处方')) {
    return kept(
      'the level is a condition on the prescribing doctor or first prescription, not a plain level limit',
    );
  }
  if (/^限三级(?:及以上)?(?:医疗机构|医院)/.test(text)) return parsed({ kind: 'hospitalLevel', minLevel: 3 });
  if (/^限二级及以上(?:医疗机构|医院)/.test(text)) return parsed({ kind: 'hospitalLevel', minLevel: 2 });
  return kept('no hospital level limit recognised in the text');
}

/**
 * 限支付疗程 in the scope and unit the text states. "单次最多支付14天" / "单次支付不超过3天" limit one
 * visit or stay; "支付不超过12个月" / "支付不超过一年" is a span from the first dose (the detect logic says
 * 第一次使用药品的日期开始计算的连续时间跨度); any other "不超过N天" counts billed days over every visit.
 */
function course(text: string): ParsedConstraint {
  const found: Restriction[] = [];
  // The clause before the number says whether it is per visit: 单次最多支付, 单次住院最多支付, 单次支付不超过.
  for (const m of text.matchAll(/([^，。；,;]*?)(?:不超过|最多支付)(\d+)天/g)) {
    const scope = m[1]?.includes('单次') ? 'episode' : 'total';
    found.push({ kind: 'course', scope, maxDays: Number(m[2]) });
  }
  for (const m of text.matchAll(/不超过(\d+)个月/g))
    found.push({ kind: 'course', scope: 'span', maxMonths: Number(m[1]) });
  if (/不超过(?:一|1)年/.test(text)) found.push({ kind: 'course', scope: 'span', maxMonths: 12 });
  const distinct = new Map(found.map((r) => [JSON.stringify(r), r]));
  const [only, ...others] = [...distinct.values()];
  if (only === undefined) return kept('no payable course length recognised in the text');
  if (others.length > 0) return kept('the text states more than one course length');
  return parsed(only);
}

function frequency(text: string): ParsedConstraint {
  // 限定频次 texts are the pricing unit: an item priced per day is billed at most once a day.
  if (text === '日' || text === '天') return parsed({ kind: 'frequency', unit: 'day', maxPerDay: 1 });
  if (text === '小时') return parsed({ kind: 'frequency', unit: 'hour', maxPerDay: 24 });
  return kept('pricing unit not recognised');
}

/**
 * 周期超频次: the shortest interval between two charges. A clinical window ("反映近2-3个月的平均血糖")
 * uses its lower bound, the shortest gap after which a repeat test adds information. "每周最多支付一次"
 * is per calendar week: a Friday and the next Monday are two weeks, not three days.
 */
function cycle(text: string): ParsedConstraint {
  const days = new Set<number>();
  for (const m of text.matchAll(/间隔时间不短于(\d+)天/g)) days.add(Number(m[1]));
  for (const m of text.matchAll(/近(\d+)(?:(?:-|~|至)\d+)?个月/g)) days.add(Number(m[1]) * 30);
  for (const m of text.matchAll(/近(\d+)(?:(?:-|~|至)\d+)?周/g)) days.add(Number(m[1]) * 7);
  const weekly = text.includes('每周最多支付一次');
  const [only, ...others] = [...days];
  if (weekly && only === undefined)
    return parsed({ kind: 'cycle', unit: 'calendarWeek', maxPerCalendarWeek: 1 });
  if (only === undefined) return kept('no interval between charges recognised in the text');
  if (others.length > 0 || weekly) return kept('the text states more than one interval');
  return parsed({ kind: 'cycle', unit: 'days', minIntervalDays: only });
}

function insuranceType(text: string, word: string, type: (typeof INSURANCE_TYPES)[number]): ParsedConstraint {
  return text.includes(word)
    ? parsed({ kind: 'insuranceType', insuranceTypes: [type] })
    : kept(`the text does not name ${word}`);
}

function exclusivePair(codes: readonly string[]): ParsedConstraint {
  const [a, b, ...rest] = codes;
  if (a === undefined || b === undefined || rest.length > 0 || a === b) {
    return kept('a repeated-charge pair needs exactly two distinct service codes');
  }
  return parsed({ kind: 'exclusivePair', codes: [a, b] });
}

function indication(text: string, diseases: IndicationDiseases | undefined): ParsedConstraint {
  if (!diseases) return kept('no disease-to-ICD-10 mapping given to read the indication with');
  const read = parseIndication(text, diseases);
  if (read.alternatives === null) return kept(read.reason);
  const names = [...new Set(read.alternatives.flatMap((a) => a.diseases))];
  return parsed({ kind: 'indication', label: names.join('、'), alternatives: read.alternatives });
}

/**
 * Turn one knowledge point's constraint into a restriction, by rule class. Only forms known to be
 * unambiguous are parsed; anything else is kept as text with the reason, never guessed.
 */
export function parseConstraint(source: ConstraintSource, options: ParseOptions = {}): ParsedConstraint {
  const childMax = options.childMaxAgeYears ?? DEFAULT_CHILD_MAX_AGE_YEARS;
  if (source.text === null || source.text.trim() === '') return kept('no constraint text published');
  const text = normalise(source.text);

  switch (source.ruleClass) {
    case '药品区分性别使用':
    case '医疗服务项目区分性别使用': {
      const sex = sexFromText(text);
      return sex ? parsed({ kind: 'sex', sex }) : kept('sex not stated unambiguously in the text');
    }
    case '药品儿童专用':
      return parsed(childOnlyDrugBand(text, childMax));
    case '药品限儿童使用': {
      const band = childBand(text, childMax);
      return band ? parsed(band) : kept('no child age band recognised in the text');
    }
    case '医疗服务项目儿童专用': {
      const group = serviceAgeGroup(text, childMax);
      return group ? parsed(group) : kept('no age group recognised in the text');
    }
    case '医疗服务项目限年龄':
      return serviceAgeBand(text);
    case '药品限工伤保险':
      return insuranceType(text, '工伤', 'work-injury');
    case '药品限生育保险':
      return insuranceType(text, '生育', 'maternity');
    case '药品限就医方式':
      return visitTypes(text);
    case '药品限医疗机构级别':
      return hospitalLevel(text);
    case '药品限支付疗程':
    case '医疗服务项目限支付疗程':
      return course(text);
    case '医疗服务项目限定频次':
      return frequency(text);
    case '医疗服务项目周期超频次':
      return cycle(text);
    case '中药饮片单复方均不予支付':
      return parsed({ kind: 'tcmNotPayable' });
    case '中药饮片单方使用不予支付':
      return parsed({ kind: 'tcmNotPayableAlone' });
    case '药品限二线使用':
      return parsed({ kind: 'secondLine' });
    case '超互联网医院药品支付范围':
      return parsed({ kind: 'notInternet' });
    case '医疗服务项目重复收费':
      return exclusivePair(source.codes);
    case '手术项目未按规定折价收费': {
      // The whole text is the group's name ("胃肠手术组"); anything else is not a group this knows.
      const group = /^\S+手术组$/.exec(text)?.[0];
      return group ? parsed({ kind: 'surgeryGroup', group }) : kept('no surgery group named in the text');
    }
    case '药品限适应症':
      return indication(text, options.indicationDiseases);
    default:
      return kept(`no parser for rule class ${source.ruleClass}`);
  }
}
