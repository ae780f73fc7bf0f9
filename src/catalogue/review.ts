import { FEMALE_KEYWORDS, MALE_KEYWORDS } from './parse.ts';
import type { KnowledgePoint, Restriction } from './schema.ts';

/**
 * The review of parsed restrictions against the source's own words. A restriction the text supports
 * stays a violation; where the text (or another row of the same source) leaves it in doubt, the
 * knowledge point is graded `suspicious` and the grade cites the words that cast the doubt. The
 * knowledge point itself always stays: the doubt is about how sure a flag may be, not whether to look.
 */
export type Grade = NonNullable<KnowledgePoint['grade']>;

const suspicious = (reasons: readonly string[]): Grade | null =>
  reasons.length === 0 ? null : { result: 'suspicious', reason: reasons.join('；') };

// ─── 医疗服务项目重复收费 ────────────────────────────────────────────────────────────────────

/** One repeated-charge pair as published: codes [A, B], title "A×B", and A's 'contains' text. */
export interface PairSource {
  codes: readonly [string, string];
  itemName: string;
  text: string;
}

/** A service item whose own published name says it is priced separately (…应视作二次手术分别计价). */
interface SeparatePricing {
  code: string;
  name: string;
}

/**
 * National service codes: the first 12 digits name the item, the last 3 its extensions (加收, 分别计价…),
 * so 003205000020100 is an extension of PTCA 003205000020000.
 */
const itemBase = (code: string): string => code.slice(0, 12);

/** The text's mentions of angiography (造影), each with the words before it in its clause. */
function angiographyMentions(text: string): string[] {
  return [...text.matchAll(/[^、，,；;。及和与]*造影/g)].map((m) => m[0]);
}

/** "含PTCA前的靶血管造影", "含…术前的靶血管造影": angiography limited to the target vessel or before the procedure. */
const LIMITED_ANGIOGRAPHY = /靶血管|术前|前的/;

/**
 * What a surcharge item (title "X(经腹腔镜加收)", "X(扩张多支血管)加收") charges for, as the words a
 * 'contains' text would use: "腹腔镜", "扩张多支血管"; alternatives joined by 或 become several.
 */
export function surchargeSubject(name: string): string[] | undefined {
  const m = /[（(]([^()（）]*加收)[)）]\s*$|[（(]([^()（）]*)[)）]\s*加收$/.exec(name);
  const qualifier = m?.[1] ?? m?.[2];
  if (qualifier === undefined) return undefined;
  const subject = qualifier
    .replace(/(?:可?酌情)?(?:每支)?加收$/, '')
    .replace(/^(?:如需|同时做|使用|经)/, '')
    .trim();
  return subject
    .split(/或|、/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The review rule for repeated-charge pairs (医疗服务项目重复收费: "项目A和项目B同时收费"), from the
 * pairs' own texts and titles:
 *
 * - B is an angiography but A's text contains angiography only as target-vessel or pre-procedure
 *   angiography (含PTCA前的靶血管造影): a diagnostic angiography followed by the procedure is another
 *   service, and where the source prices such a sequence separately (003205000020100 "若冠状动脉造影术后
 *   立即进行PTCA术，应视作二次手术分别计价") that row is cited.
 * - B is a surcharge (…加收) and A's text never mentions what the surcharge pays for (腹腔镜, 左心室造影,
 *   扩张多支血管…): the text does not say A's price contains it.
 *
 * Returns the grade for one pair given every pair of the source (to find the separate-pricing rows).
 */
export function pairReviewer(pairs: readonly PairSource[]): (pair: PairSource) => Grade | null {
  const separate: SeparatePricing[] = [];
  for (const pair of pairs) {
    const names = pair.itemName.split('×');
    pair.codes.forEach((code, i) => {
      const name = names[i];
      if (name?.includes('分别计价') && !separate.some((s) => s.code === code)) separate.push({ code, name });
    });
  }
  return (pair) => {
    const [codeA] = pair.codes;
    const [, nameB] = pair.itemName.split('×');
    if (nameB === undefined) return null;
    const reasons: string[] = [];
    const mentions = angiographyMentions(pair.text);
    // "经皮冠状动脉腔内成形术(PTCA)(若冠状动脉造影术后…)" is a PTCA: only the name before its notes counts.
    if (
      nameB.replace(/[（(].*$/, '').includes('造影') &&
      mentions.length > 0 &&
      mentions.every((m) => LIMITED_ANGIOGRAPHY.test(m))
    ) {
      const cited = separate.filter((s) => itemBase(s.code) === itemBase(codeA));
      reasons.push(
        `项目A的内涵「${pair.text}」只含靶血管或术前造影，未含诊断性的${nameB}` +
          cited.map((s) => `；同一来源 ${s.code}「${s.name}」`).join(''),
      );
    }
    const subject = surchargeSubject(nameB);
    if (subject && subject.length > 0 && !subject.some((s) => pair.text.includes(s))) {
      reasons.push(`项目B「${nameB}」是加收项目，项目A的内涵「${pair.text}」未提及${subject.join('或')}`);
    }
    return suspicious(reasons);
  };
}

// ─── 区分性别使用 ───────────────────────────────────────────────────────────────────────────

/**
 * Indications that occur in both sexes. Only disease names: symptoms (头痛, 腰酸…) describe the
 * patient of a sex-specific syndrome and say nothing about the other sex.
 */
const SEX_NEUTRAL_INDICATIONS =
  /膀胱炎|尿路感染|尿道炎|阑尾炎|胃痛|腰腿痛|消化道出血|腹泻|痢疾|痔|黄褐斑|神经衰弱|贫血/;

/** "亦可用于…", "也可用于…", "也适用于…": a further use the text adds. */
const FURTHER_USE = /(?:亦|也)(?:可试?用于|适用于|可用于)(.*)$/;

const names = (part: string): boolean => [...FEMALE_KEYWORDS, ...MALE_KEYWORDS].some((re) => re.test(part));

/**
 * The parts of a sex-restricted item's text that name uses occurring in both sexes: a disease of both
 * sexes listed beside the sex-specific ones (妇炎康: "…阴道炎、膀胱炎、慢性阑尾炎、尿路感染"), or a
 * further use without a sex word (健身安胎丸: "亦可用于虚寒性胃痛，腰腿痛"). Symptom lists after 症见
 * describe the sex-specific syndrome and are not read.
 */
export function sexNeutralUses(text: string): string[] {
  const uses: string[] = [];
  // Not NFKC-normalised, so the quoted uses read exactly as published.
  for (const sentence of text.split(/[。；;]/)) {
    const indications = sentence.split(/症见|证见/)[0] ?? '';
    const further = FURTHER_USE.exec(indications);
    if (further?.[1] && !names(further[1])) uses.push(further[1].trim());
    const listed = further ? indications.slice(0, further.index) : indications;
    for (const part of listed.split(/[、，,]/)) {
      if (SEX_NEUTRAL_INDICATIONS.test(part) && !names(part))
        uses.push(part.replace(/^(?:本品)?(?:用于|适用于)/, '').trim());
    }
  }
  return uses;
}

// ─── 药品儿童专用 ───────────────────────────────────────────────────────────────────────────

const ADULT_DOSING = /说明书包含成人用法用量/;

/** The grade of one parsed knowledge point from its own text; pairs go through `pairReviewer`. */
export function reviewText(ruleClass: string, text: string, restriction: Restriction): Grade | null {
  if (restriction.kind === 'sex') {
    const uses = sexNeutralUses(text);
    return suspicious(
      uses.length === 0 ? [] : [`说明书所列适应症含男女均可发生的「${uses.join('」「')}」，性别限定存疑`],
    );
  }
  if (ruleClass === '药品儿童专用' && ADULT_DOSING.test(text)) {
    return suspicious(['知识点原文注明「药品说明书包含成人用法用量」，成人使用不能认定违规']);
  }
  return null;
}
