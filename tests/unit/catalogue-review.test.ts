import { describe, expect, it } from 'vitest';
import {
  type PairSource,
  pairReviewer,
  reviewText,
  sexNeutralUses,
  surchargeSubject,
} from '../../src/catalogue/review.ts';

// Texts, titles and codes are copied from the NHSA extract (batch_01, batch_07).
const pair = (codes: [string, string], itemName: string, text: string): PairSource => ({
  codes,
  itemName,
  text,
});

const PTCA_ANGIOGRAPHY = pair(
  ['003205000020000', '003205000010000'],
  '经皮冠状动脉腔内成形术(PTCA)×冠状动脉造影术',
  '含PTCA前的靶血管造影',
);
const STENT_TEXT = '含为放置冠脉内支架而进行的球囊预扩张和支架打开后的支架内球囊高压扩张及术前的靶血管造影';
const STENT_ANGIOGRAPHY = pair(
  ['003205000030000', '003205000010000'],
  '经皮冠状动脉内支架置入术(STENT)×冠状动脉造影术',
  STENT_TEXT,
);
const STENT_PTCA_SEPARATE = pair(
  ['003205000030000', '003205000020100'],
  '经皮冠状动脉内支架置入术(STENT)×经皮冠状动脉腔内成形术(PTCA)(若冠状动脉造影术后立即进行PTCA术，应视作二次手术分别计价)',
  STENT_TEXT,
);
const ELCA_STENT_SEPARATE = pair(
  ['003205000040000', '003205000030100'],
  '经皮冠状动脉腔内激光成形术(ELCA)×经皮冠状动脉内支架置入术(STENT)(若冠状动脉造影术后立即进行STENT术，应视作二次手术分别计价)',
  '含激光消融后球囊扩张和/或支架置入及术前的靶血管造影',
);
const STENT_PTCA = pair(
  ['003205000030000', '003205000020000'],
  '经皮冠状动脉内支架置入术(STENT)×经皮冠状动脉腔内成形术(PTCA)',
  STENT_TEXT,
);
const THROMBOLYSIS_ANGIOGRAPHY = pair(
  ['003205000110000', '003205000010000'],
  '经皮冠状动脉内溶栓术×冠状动脉造影术',
  '含冠脉造影',
);
const THROMBOLYSIS_LV_SURCHARGE = pair(
  ['003205000110000', '003205000010001'],
  '经皮冠状动脉内溶栓术×冠状动脉造影术(同时做左心室造影加收)',
  '含冠脉造影',
);
const ILEAL_CONDUIT_LAPAROSCOPIC = pair(
  ['003311020180000', '003309060010100'],
  '回肠膀胱术×阑尾切除术(经腹腔镜加收)',
  '含阑尾切除术；包括结肠',
);
const THORACOSCOPY_BIOPSY = pair(
  ['003101000020000', '003101000010100'],
  '胸腔镜检查×胸膜活检术(经胸腔镜加收)',
  '含活检；不含经胸腔镜的特殊治疗',
);
const EMERGENCY = pair(
  ['001103000010000', '001102000030000'],
  '急诊监护费×急诊诊查费',
  '含监护、床位、诊查、护理',
);

const ALL = [
  PTCA_ANGIOGRAPHY,
  STENT_ANGIOGRAPHY,
  STENT_PTCA_SEPARATE,
  ELCA_STENT_SEPARATE,
  STENT_PTCA,
  THROMBOLYSIS_ANGIOGRAPHY,
  THROMBOLYSIS_LV_SURCHARGE,
  ILEAL_CONDUIT_LAPAROSCOPIC,
  THORACOSCOPY_BIOPSY,
  EMERGENCY,
];
const review = pairReviewer([
  ...ALL,
  // The row whose title prices PTCA after angiography separately (code 003205000020100).
  pair(
    ['003205000040000', '003205000020100'],
    '经皮冠状动脉腔内激光成形术(ELCA)×经皮冠状动脉腔内成形术(PTCA)(若冠状动脉造影术后立即进行PTCA术，应视作二次手术分别计价)',
    '含激光消融后球囊扩张和/或支架置入及术前的靶血管造影',
  ),
]);

describe('the review of repeated-charge pairs against their own source', () => {
  it('grades PTCA × coronary angiography suspicious: the text contains only the target-vessel angiography, and 003205000020100 prices angiography then PTCA separately', () => {
    const grade = review(PTCA_ANGIOGRAPHY);
    expect(grade?.result).toBe('suspicious');
    expect(grade?.reason).toContain('含PTCA前的靶血管造影');
    expect(grade?.reason).toContain('003205000020100');
    expect(grade?.reason).toContain('若冠状动脉造影术后立即进行PTCA术，应视作二次手术分别计价');
  });

  it('grades STENT × coronary angiography suspicious, citing the STENT row priced separately after angiography', () => {
    const grade = review(STENT_ANGIOGRAPHY);
    expect(grade?.result).toBe('suspicious');
    expect(grade?.reason).toContain('003205000030100');
  });

  it('keeps a pair whose text contains angiography without limit (含冠脉造影) a violation', () => {
    expect(review(THROMBOLYSIS_ANGIOGRAPHY)).toBeNull();
  });

  it("keeps STENT × PTCA a violation: the text contains the balloon dilatation, and a note in B's title does not make B an angiography", () => {
    expect(review(STENT_PTCA)).toBeNull();
    expect(review(STENT_PTCA_SEPARATE)).toBeNull();
    expect(review(ELCA_STENT_SEPARATE)).toBeNull();
  });

  it('grades a surcharge the text never mentions suspicious: 同时做左心室造影加收 beside 含冠脉造影', () => {
    expect(review(THROMBOLYSIS_LV_SURCHARGE)?.reason).toContain('未提及左心室造影');
    expect(review(ILEAL_CONDUIT_LAPAROSCOPIC)?.reason).toContain('未提及腹腔镜');
  });

  it('keeps a surcharge the text names (经胸腔镜) and a pair without surcharge or angiography a violation', () => {
    expect(review(THORACOSCOPY_BIOPSY)).toBeNull();
    expect(review(EMERGENCY)).toBeNull();
  });

  it.each([
    ['阑尾切除术(经腹腔镜加收)', ['腹腔镜']],
    ['冠状动脉造影术(同时做左心室造影加收)', ['左心室造影']],
    ['经皮冠状动脉内支架置入术(STENT)(扩张多支血管)加收', ['扩张多支血管']],
    ['经皮冠状动脉腔内成形术(PTCA)(扩张多支血管每支加收)', ['扩张多支血管']],
    ['X线透视检查(使用影像增强器或电视屏可酌情加收)', ['影像增强器', '电视屏']],
    ['冠状动脉造影术', undefined],
  ])('reads what the surcharge "%s" pays for', (name, subject) => {
    expect(surchargeSubject(name)).toEqual(subject);
  });
});

describe('the review of sex restrictions', () => {
  it('grades 妇炎康 suspicious: its text lists 膀胱炎、慢性阑尾炎、尿路感染, which both sexes have', () => {
    const text =
      '活血化瘀，软坚散结，清热解毒，消炎止痛。本品用于慢性附件炎、盆腔炎、阴道炎、膀胱炎、慢性阑尾炎、尿路感染。';
    expect(sexNeutralUses(text)).toEqual(['膀胱炎', '慢性阑尾炎', '尿路感染']);
    const grade = reviewText('药品区分性别使用', text, { kind: 'sex', sex: 'F' });
    expect(grade?.result).toBe('suspicious');
    expect(grade?.reason).toContain('膀胱炎');
  });

  it('grades 健身安胎丸 suspicious: 亦可用于虚寒性胃痛，腰腿痛', () => {
    const text = '健脾补肾，理气安胎。用于妇女妊娠胎动不安，亦可用于虚寒性胃痛，腰腿痛。';
    expect(sexNeutralUses(text)).toEqual(['虚寒性胃痛，腰腿痛']);
    expect(reviewText('药品区分性别使用', text, { kind: 'sex', sex: 'F' })?.result).toBe('suspicious');
  });

  it('keeps a further use that is itself female (亦可用于瘀血痛经) a violation', () => {
    const text = '本品用于产后恶露不尽，瘀血腹痛，亦可用于瘀血痛经。';
    expect(reviewText('药品区分性别使用', text, { kind: 'sex', sex: 'F' })).toBeNull();
  });

  it("does not read the symptoms of a sex-specific syndrome (症见…) or a pregnant woman's headache as sex-neutral uses", () => {
    expect(
      sexNeutralUses('清热，安胎。用于孕妇头痛，眩晕，口鼻生疮，咽喉肿痛，双目赤肿，牙龈疼痛，或胎动下坠。'),
    ).toEqual([]);
    expect(
      sexNeutralUses(
        '本品用于湿热下注所致带下病，症见带下量多、色黄质稠、有臭味，或有大便干燥；细菌性阴道病、滴虫性阴道炎、宫颈糜烂见上述证候者。',
      ),
    ).toEqual([]);
  });

  it('keeps a male-only drug for mHSPC a violation', () => {
    expect(
      reviewText('药品区分性别使用', '限转移性激素敏感性前列腺癌(mHSPC)患者。', { kind: 'sex', sex: 'M' }),
    ).toBeNull();
  });
});

describe("the review of children's drugs", () => {
  it('grades a child-only drug whose label includes adult dosing suspicious, quoting the text', () => {
    const text = '用于肠内异常发酵、消化不良、肠炎和小儿腹泻。（药品说明书包含成人用法用量）';
    const grade = reviewText('药品儿童专用', text, { kind: 'age', label: '儿童', maxAgeYears: 17 });
    expect(grade).toEqual({
      result: 'suspicious',
      reason: expect.stringContaining('药品说明书包含成人用法用量'),
    });
  });

  it('keeps a child-only drug without adult dosing a violation', () => {
    const text = '清热除湿，健脾止泻。用于小儿脾虚湿热所致的腹泻。';
    expect(reviewText('药品儿童专用', text, { kind: 'age', label: '儿童', maxAgeYears: 17 })).toBeNull();
  });
});
