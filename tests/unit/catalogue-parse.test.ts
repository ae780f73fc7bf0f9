import { describe, expect, it } from 'vitest';
import { type ConstraintSource, parseConstraint, sexFromText } from '../../src/catalogue/parse.ts';

// Constraint texts are copied from the NHSA extract unless a test says otherwise.
const parse = (
  ruleClass: string,
  text: string | null,
  codes: string[] = ['CODE'],
  childMaxAgeYears?: number,
) => {
  const source: ConstraintSource = { ruleClass, text, codes };
  return parseConstraint(source, childMaxAgeYears === undefined ? {} : { childMaxAgeYears });
};
const restrictionOf = (...args: Parameters<typeof parse>) => parse(...args).restriction;

describe('sex-restricted drugs and services', () => {
  it.each([
    ['限转移性激素敏感性前列腺癌(mHSPC)患者。', 'M'],
    ['本品适用于治疗男性勃起功能障碍。', 'M'],
    ['补肾益精。用于肾虚精亏所致的阳痿不育、遗精早泄、腰痛、尿后余沥。', 'M'],
    ['理气补血，暖宫调经。用于子宫虚寒，月经量少、后错，经期腹痛，腰酸带下。', 'F'],
    ['本品适用于雌孕激素受体阳性的绝经后晚期乳腺癌。', 'F'],
    ['活血，理气，散寒止痛。用于寒凝气滞，经来腹痛。', 'F'],
    ['本品用于更年期综合征属肝肾阴虚、心肝火旺证者，可改善烘热汗出，五心烦热，心悸，失眠。', 'F'],
  ])('reads the drug indication "%s" as sex %s', (text, sex) => {
    expect(restrictionOf('药品区分性别使用', text)).toEqual({ kind: 'sex', sex });
  });

  it('reads 男子更年期 as male, not as the female 更年期 keyword', () => {
    expect(sexFromText('用于神经衰弱，发育迟缓，男子更年期障碍或缺乏睾丸素所致的各种疾病。')).toBe('M');
  });

  it('does not treat 雄激素 as male, so an acne indication for women stays female', () => {
    const text =
      '治疗育龄女性雄激素敏感所致的中重度痤疮（有或无皮脂溢）及/或多毛，这其中包括需要治疗这些症状的多囊卵巢综合征患者。';
    expect(sexFromText(text)).toBe('F');
  });

  it('does not read 经络 (meridians) as a menstrual keyword (constructed text)', () => {
    expect(sexFromText('清肺，化痰，止咳。经络不通。')).toBeUndefined();
  });

  it('reads 女性…/男性… service texts as the stated sex', () => {
    expect(restrictionOf('医疗服务项目区分性别使用', '女性泌尿生殖系统相关手术')).toEqual({
      kind: 'sex',
      sex: 'F',
    });
    expect(restrictionOf('医疗服务项目区分性别使用', '男性泌尿生殖系统相关检查')).toEqual({
      kind: 'sex',
      sex: 'M',
    });
  });

  it('keeps a text naming neither sex as text', () => {
    expect(parse('药品区分性别使用', '清肺，化痰，止咳。用于面赤身热，咳嗽，痰多，咽痛。')).toEqual({
      restriction: null,
      keptAsText: 'sex not stated unambiguously in the text',
    });
  });

  it('keeps a text naming both sexes as text (constructed text)', () => {
    expect(parse('药品区分性别使用', '用于男性不育及女性月经不调。').keptAsText).toBe(
      'sex not stated unambiguously in the text',
    );
  });

  it('keeps a row without constraint text as text', () => {
    expect(parse('医疗服务项目区分性别使用', null)).toEqual({
      restriction: null,
      keptAsText: 'no constraint text published',
    });
  });
});

describe('child-only and child-limited items', () => {
  it('reads any 药品儿童专用 indication as the child band 0–17', () => {
    expect(restrictionOf('药品儿童专用', '清热除湿，健脾止泻。用于小儿脾虚湿热所致的腹泻。')).toEqual({
      kind: 'age',
      label: '儿童',
      maxAgeYears: 17,
    });
  });

  it.each([
    ['适用于接受肠外营养的11周岁以下患者维生素缺乏的预防。', { label: '11周岁以下', maxAgeYears: 10 }],
    ['治疗和预防早产婴儿的呼吸窘迫综合征（RDS）。', { label: '早产婴儿', maxAgeYears: 0 }],
    ['健脾化湿，消肿止泻。用于婴儿腹泻。', { label: '婴儿', maxAgeYears: 0 }],
    ['本品适用于婴幼儿由于感冒，枯草热或其他上呼吸道过敏等引起的鼻塞。', { label: '婴幼儿', maxAgeYears: 2 }],
  ])('checks the 药品儿童专用 text "%s" at the band it states', (text, band) => {
    expect(restrictionOf('药品儿童专用', text)).toEqual({ kind: 'age', ...band });
  });

  it('holds a text naming infants and children (1月以上婴儿和儿童) to the child band', () => {
    const text = '用于1月以上婴儿和儿童的急性腹泻，必要时给予口服补液或静脉补液联合使用。';
    expect(restrictionOf('药品儿童专用', text)).toEqual({ kind: 'age', label: '儿童', maxAgeYears: 17 });
  });

  it('uses childMaxAgeYears as the upper child age when given', () => {
    expect(restrictionOf('药品儿童专用', '散风，清热。用于小儿慢性鼻炎。', ['CODE'], 13)).toMatchObject({
      maxAgeYears: 13,
    });
  });

  it.each([
    ['限3-12岁特发性或先天性肺动脉高压患者。', 3, 12, '3-12岁'],
    ['限5至12岁以下单纯性甲型和乙型流感儿童患者。', 5, 11, '5-11岁'],
    ['限6-17岁儿童和青少年的注意缺陷多动障碍(ADHD)。', 6, 17, '6-17岁'],
    ['限2岁至11岁儿童慢性便秘。', 2, 11, '2-11岁'],
    [
      '限：1.1岁至14岁儿童哮喘的预防和长期治疗；2.2岁至14岁儿童季节性过敏性鼻炎和常年性过敏性鼻炎。',
      1,
      14,
      '1-14岁',
    ],
    [
      '限3岁及3岁以上伴有症状、无法手术的丛状神经纤维瘤(PN)的I型神经纤维瘤病(NF1)儿童患者。',
      3,
      17,
      '3岁及以上儿童',
    ],
    ['限3岁及以上儿童的生长激素缺乏症所致的生长缓慢。', 3, 17, '3岁及以上儿童'],
  ])('reads the 限儿童使用 band in "%s" as %i..%i years', (text, minAgeYears, maxAgeYears, label) => {
    expect(restrictionOf('药品限儿童使用', text)).toEqual({ kind: 'age', label, minAgeYears, maxAgeYears });
  });

  it.each([
    '限儿童。',
    '限头孢菌素耐药或重症感染儿童患者。',
    // The 2026-01 update spells 儿 with the Kangxi radical ⼉ (U+2F09).
    '限：1.预防⼉童肝脏或肾脏移植术后的移植物排斥反应；2.治疗⼉童肝脏或肾脏移植术后应用其他免疫抑制药物无法控制的移植物排斥反应。',
  ])('reads "%s" without a number as the default child band', (text) => {
    expect(restrictionOf('药品限儿童使用', text)).toEqual({ kind: 'age', label: '儿童', maxAgeYears: 17 });
  });

  it.each([
    ['新生儿专用项目', { kind: 'age', label: '新生儿', maxAgeDays: 28 }],
    ['婴儿专用项目', { kind: 'age', label: '婴儿', maxAgeYears: 0 }],
    ['婴幼儿专用项目', { kind: 'age', label: '婴幼儿', maxAgeYears: 2 }],
    ['小儿专用项目', { kind: 'age', label: '小儿', maxAgeYears: 17 }],
    ['儿童专用项目', { kind: 'age', label: '儿童', maxAgeYears: 17 }],
  ])('reads the service group %s as its age band', (text, expected) => {
    expect(restrictionOf('医疗服务项目儿童专用', text)).toEqual(expected);
  });

  it('reads 法定就业年龄段 as the widest working-age band: 16 to before the highest retirement age, 63', () => {
    expect(parse('医疗服务项目限年龄', '限法定就业年龄段患者').restriction).toEqual({
      kind: 'age',
      label: '法定就业年龄段',
      minAgeYears: 16,
      maxAgeYears: 62,
    });
  });
});

describe('insurance type, visit type and hospital level', () => {
  it('reads 限工伤保险 as work-injury insurance only', () => {
    expect(restrictionOf('药品限工伤保险', '限工伤保险')).toEqual({
      kind: 'insuranceType',
      insuranceTypes: ['work-injury'],
    });
  });

  it('reads 限生育保险 as maternity insurance only', () => {
    expect(restrictionOf('药品限生育保险', '限生育保险')).toEqual({
      kind: 'insuranceType',
      insuranceTypes: ['maternity'],
    });
  });

  it.each([
    '需经营养风险筛查，明确具有营养风险，且不能经饮食或使用“肠内营养剂”补充足够营养的住院患者方予支付。',
    '需经营养风险筛查,明确具有营养风险,且不能经饮食或使用"肠内营养剂"补充足够营养的住院患者方予支付。',
    '限二级及以上医疗机构脑梗死恢复期患者，住院方可支付，单次最多支付14天。',
    '限缺血性心脑血管疾病急性期住院患者，支付不超过14天。',
  ])('reads "%s" as inpatient only', (text) => {
    expect(restrictionOf('药品限就医方式', text)).toEqual({ kind: 'visitType', visitTypes: ['inpatient'] });
  });

  it('reads 限急诊或住院患者 as emergency or inpatient', () => {
    expect(restrictionOf('药品限就医方式', '限急诊或住院患者。')).toEqual({
      kind: 'visitType',
      visitTypes: ['emergency', 'inpatient'],
    });
  });

  it('keeps a visit-type text without a recognised visit type as text', () => {
    expect(parse('药品限就医方式', '限二级及以上医疗机构。').keptAsText).toBe(
      'no visit type limit recognised in the text',
    );
  });

  it.each([
    '限二级及以上医疗机构。',
    '限二级及以上医疗机构',
    '限二级及以上医疗机构的缺血性心脑血管疾病患者。',
  ])('reads 限二级及以上医疗机构 in "%s" as a minimum hospital level of 2', (text) => {
    expect(restrictionOf('药品限医疗机构级别', text)).toEqual({ kind: 'hospitalLevel', minLevel: 2 });
  });

  it('reads 限三级医疗机构 as a minimum hospital level of 3 (constructed text; none in the 2026 data)', () => {
    expect(restrictionOf('药品限医疗机构级别', '限三级医疗机构。')).toEqual({
      kind: 'hospitalLevel',
      minLevel: 3,
    });
  });

  it.each([
    '限二甲双胍等口服降糖药或胰岛素控制效果不佳的BMI≥25的患者，首次处方时需由二级及以上医疗机构专科医师开具处方。',
    '限糖尿病黄斑水肿(DME)。\n应同时符合以下条件：1.需三级医院眼科或二级及以上眼科专科医院医师处方；2.首次处方时病眼基线矫正视力0.05-0.5；3.事前审查后方可用，初次申请需有血管造影或OCT(全身情况不允许的患者可以提供OCT血管成像)证据；4.每眼累计最多支付9支，第1年度最多支付5支。阿柏西普、雷珠单抗、康柏西普、法瑞西单抗、布西珠单抗的药品支数合并计算。',
  ])('keeps a level that conditions the prescriber as text: "%s"', (text) => {
    expect(parse('药品限医疗机构级别', text)).toEqual({
      restriction: null,
      keptAsText:
        'the level is a condition on the prescribing doctor or first prescription, not a plain level limit',
    });
  });
});

describe('course, frequency and cycle limits', () => {
  it.each([
    ['药品限支付疗程', '限急性缺血性脑血管疾病，支付不超过14天。', 14],
    ['药品限支付疗程', '限新发的急性缺血性脑卒中患者在发作48小时内开始使用，支付不超过14天。', 14],
    ['医疗服务项目限支付疗程', '总时间不超过90天，评定间隔时间不短于14天。', 90],
    ['医疗服务项目限支付疗程', '一个疾病过程支付不超过90天。', 90],
  ])('reads the %s text "%s" as at most %i billed days over every visit', (ruleClass, text, maxDays) => {
    expect(restrictionOf(ruleClass, text)).toEqual({ kind: 'course', scope: 'total', maxDays });
  });

  it.each([
    ['限二级及以上医疗机构脑梗死恢复期患者，住院方可支付，单次最多支付14天。', 14],
    ['限二级及以上医疗机构脑梗死恢复期患者，单次住院最多支付14天。', 14],
    [
      '限二级及以上医疗机构用于规范治疗效果不佳的急性失代偿性心力衰竭短期治疗。住院方可支付，单次支付不超过3天。',
      3,
    ],
  ])('reads "%s" as at most %i billed days in one visit or stay, not across stays', (text, maxDays) => {
    expect(restrictionOf('药品限支付疗程', text)).toEqual({ kind: 'course', scope: 'episode', maxDays });
  });

  it.each([
    [
      '药品限支付疗程',
      '限以下情况方可支付，且支付不超过12个月：1.HER2阳性的局部晚期、炎性或早期乳腺癌患者的新辅助治疗；2.具有高复发风险HER2阳性早期乳腺癌患者的辅助治疗。',
      12,
    ],
    ['医疗服务项目限支付疗程', '支付不超过一年，每周最多支付一次。', 12],
  ])(
    'reads the %s text "%s" as a span of %i months from the first dose, not 365 billed days',
    (ruleClass, text, maxMonths) => {
      expect(restrictionOf(ruleClass, text)).toEqual({ kind: 'course', scope: 'span', maxMonths });
    },
  );

  it('keeps a course text without a length as text', () => {
    expect(parse('药品限支付疗程', '限二级及以上医疗机构。').keptAsText).toBe(
      'no payable course length recognised in the text',
    );
  });

  it.each([
    ['日', { kind: 'frequency', unit: 'day', maxPerDay: 1 }],
    ['天', { kind: 'frequency', unit: 'day', maxPerDay: 1 }],
    ['小时', { kind: 'frequency', unit: 'hour', maxPerDay: 24 }],
  ])('reads the pricing unit %s as a daily maximum', (text, expected) => {
    expect(restrictionOf('医疗服务项目限定频次', text)).toEqual(expected);
  });

  it.each([
    ['评定间隔时间不短于14天。（人社部发〔2016〕23号）', 14],
    ['两次评定间隔时间不短于14天。（人社部发〔2016〕23号）', 14],
    ['诊疗规范：糖化血红蛋白水平反映近2-3个月的平均血糖水平。', 60],
    ['诊疗规范：血清果糖胺（糖化清蛋白）水平反映近2-3周的平均血糖水平。', 14],
  ])('reads the cycle text "%s" as a minimum interval of %i days', (text, minIntervalDays) => {
    expect(restrictionOf('医疗服务项目周期超频次', text)).toEqual({
      kind: 'cycle',
      unit: 'days',
      minIntervalDays,
    });
  });

  it('reads 每周最多支付一次 as one charge per calendar week, not one per 7 days', () => {
    expect(restrictionOf('医疗服务项目周期超频次', '每周最多支付一次。（人社部发〔2016〕23号）')).toEqual({
      kind: 'cycle',
      unit: 'calendarWeek',
      maxPerCalendarWeek: 1,
    });
  });
});

describe('TCM pieces, internet hospitals and repeated charges', () => {
  it('reads 中药饮片单复方均不予支付 as never payable', () => {
    expect(restrictionOf('中药饮片单复方均不予支付', '不得纳入基金支付范围的中药饮片')).toEqual({
      kind: 'tcmNotPayable',
    });
  });

  it('reads 中药饮片单方使用不予支付 as not payable alone', () => {
    const text = '单独使用时统筹基金不予支付，且全部由这些饮片组成的处方统筹基金也不予支付。';
    expect(restrictionOf('中药饮片单方使用不予支付', text)).toEqual({ kind: 'tcmNotPayableAlone' });
  });

  it('reads 超互联网医院药品支付范围 as not payable in internet care', () => {
    const text = '医疗机构开展互联网诊疗活动时，不得开具麻醉药品、精神药品等特殊管理药品的处方。';
    expect(restrictionOf('超互联网医院药品支付范围', text)).toEqual({ kind: 'notInternet' });
  });

  it('reads a 重复收费 pair as the two codes that exclude each other', () => {
    expect(
      restrictionOf('医疗服务项目重复收费', '含监护、床位、诊查、护理', [
        '001103000010000',
        '001102000030000',
      ]),
    ).toEqual({ kind: 'exclusivePair', codes: ['001103000010000', '001102000030000'] });
  });

  it('keeps a 重复收费 row without exactly two codes as text', () => {
    expect(
      parse('医疗服务项目重复收费', '含监护、床位、诊查、护理', ['001103000010000']).restriction,
    ).toBeNull();
  });
});

describe('second-line drugs', () => {
  it('reads 药品限二线使用 as second-line, whatever the indication the text adds', () => {
    expect(parse('药品限二线使用', '限有十二指肠溃疡、反流性食管炎诊断患者的二线用药。').restriction).toEqual(
      {
        kind: 'secondLine',
      },
    );
  });
});

describe('surgery groups', () => {
  it.each(['胃肠手术组', '肝胆手术组', '膀胱尿道手术组', '女性生殖系统手术组'])(
    'reads 手术项目未按规定折价收费 "%s" as the group whose later surgeries through one incision are discounted',
    (group) => {
      expect(parse('手术项目未按规定折价收费', group).restriction).toEqual({ kind: 'surgeryGroup', group });
    },
  );

  it('keeps a 手术项目未按规定折价收费 text that names no surgery group', () => {
    const result = parse('手术项目未按规定折价收费', '第二及以后的手术按50%收费');
    expect(result.restriction).toBeNull();
    expect(result.keptAsText).toMatch(/no surgery group/);
  });
});

describe('rule classes kept as text', () => {
  it.each([
    [
      '药品限适应症',
      '限法布雷病(α-半乳糖苷酶A缺乏症)患者的长期酶替代治疗，适用于成人、儿童和青少年。尚未确定本品在0-6岁儿童中的安全性和有效性。',
      /no disease-to-ICD-10 mapping/,
    ],
    ['药品限新生儿使用', '限新生儿。', /no parser for rule class 药品限新生儿使用/],
  ])('keeps %s as text with a reason', (ruleClass, text, reason) => {
    const result = parse(ruleClass, text);
    expect(result.restriction).toBeNull();
    expect(result.keptAsText).toMatch(reason);
  });
});
