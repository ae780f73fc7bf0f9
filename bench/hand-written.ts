import { genericOf, pharmacologicalSubgroupOf, specItemOf } from '../src/catalogue/codes.ts';
import type { Claim, Item } from '../src/contracts/claim.ts';
import { ageInYears, epochDay } from '../src/dates.ts';
import type { CatalogueLookup } from '../src/rules/subjects/kind.ts';

/**
 * The rules of the pack the floor writes out. The history rules (repeat prescriptions, courses across
 * stays, cycles, the same item on one day elsewhere) are not among them: the floor sees one claim.
 */
export const HAND_WRITTEN_RULE_IDS: readonly string[] = [
  'FG-AFTER-DEATH',
  'GZ-BILLING-OUTSIDE-STAY',
  'GZ-DRUG-CHILD-LIMIT',
  'GZ-DRUG-CHILD-ONLY',
  'GZ-DRUG-COURSE',
  'GZ-DRUG-HOSPITAL-LEVEL',
  'GZ-DRUG-MATERNITY',
  'GZ-DRUG-SEX',
  'GZ-DRUG-WORK-INJURY',
  'GZ-SERVICE-CHILD-ONLY',
  'GZ-SERVICE-DUPLICATE',
  'GZ-SERVICE-FREQUENCY',
  'GZ-SERVICE-SEX',
  'GZ-TCM-NOT-PAYABLE',
  'GZ-TCM-NOT-PAYABLE-ALONE',
  'NHSA-DIAGNOSIS-AGE',
  'NHSA-DIAGNOSIS-CODE',
  'NHSA-DIAGNOSIS-SEX',
  'NHSA-DRUG-KINDS',
  'NHSA-DRUG-MAX-SUPPLY',
  'NHSA-DRUG-SAME-SUBGROUP',
  'NHSA-DRUG-SECOND-LINE',
  'NHSA-DRUG-VISIT-TYPE',
  'NHSA-INTERNET-DRUG',
  'NHSA-LOW-STANDARD-ADMISSION',
  'NHSA-PROCEDURE-SEX',
  'NHSA-SERVICE-AGE',
  'NHSA-SERVICE-COURSE',
  'NHSA-SETTLEMENT-LINE',
  'NHSA-SETTLEMENT-TOTALS',
  'NHSA-SURGERY-DISCOUNT',
  'NHSA-TCM-INCOMPATIBILITY',
  'NHSA-TCM-LARGE-PRESCRIPTION',
  'NHSA-UPLOAD-DELAY',
];

/**
 * The benchmark's floor: the rules of `HAND_WRITTEN_RULE_IDS` (the second-line one without history,
 * as the floor sees one claim) as plain TypeScript, no engine. Only the benchmark uses it; it
 * returns `ruleId:lines` keys so the run can check it finds exactly what the core finds.
 */
export function handWrittenScreen(claim: Claim, catalogue: CatalogueLookup): string[] {
  const hits: string[] = [];
  const hit = (ruleId: string, lines: number[]): void => {
    hits.push(`${ruleId}:${lines.join(',')}`);
  };
  const p = claim.patient;
  const visit = claim.visit.type;
  const level = claim.hospital.level;
  const internet = visit === 'internet';
  const groups = catalogue.diagnosisGroupsOf(claim.diagnoses.map((d) => d.code));
  const sexIndeterminate = groups.has('indeterminateSex');
  const childbirthCovered = groups.has('maternity') && p.insuranceType === 'employee';
  const outpatientLike =
    visit === 'outpatient' || visit === 'emergency' || visit === 'pharmacy' || visit === 'internet';
  const isDrug = (i: Item): boolean => i.category === 'drug';

  for (const item of claim.items) {
    const points = catalogue.pointsFor(item.code, item.serviceDate);
    if (outpatientLike && (isDrug(item) || item.category === 'tcm-herbal') && (item.daysSupply ?? 0) > 30) {
      hit('NHSA-DRUG-MAX-SUPPLY', [item.lineNo]);
    }
    if (Math.round(Math.abs(item.amount - item.quantity * item.unitPrice) * 100) / 100 > 0.01)
      hit('NHSA-SETTLEMENT-LINE', [item.lineNo]);
    if (!points) continue;
    const age = ageInYears(p.birthDate, item.serviceDate);
    const ageDays = epochDay(item.serviceDate) - epochDay(p.birthDate);
    const r = (cls: string) => points.get(cls)?.restriction;
    const sexCheck = (cls: string, ruleId: string, ok: boolean): void => {
      const x = r(cls);
      if (ok && !sexIndeterminate && x?.kind === 'sex' && x.sex !== p.sex) hit(ruleId, [item.lineNo]);
    };
    sexCheck('药品区分性别使用', 'GZ-DRUG-SEX', isDrug(item) || item.category === 'tcm-herbal');
    sexCheck('医疗服务项目区分性别使用', 'GZ-SERVICE-SEX', item.category === 'service');
    const ageCheck = (cls: string, ruleId: string, ok: boolean): void => {
      const x = r(cls);
      if (!ok || x?.kind !== 'age') return;
      if (
        (x.maxAgeYears !== undefined && age > x.maxAgeYears) ||
        (x.minAgeYears !== undefined && age < x.minAgeYears) ||
        (x.maxAgeDays !== undefined && ageDays > x.maxAgeDays)
      ) {
        hit(ruleId, [item.lineNo]);
      }
    };
    ageCheck('药品儿童专用', 'GZ-DRUG-CHILD-ONLY', isDrug(item) || item.category === 'tcm-herbal');
    ageCheck('医疗服务项目儿童专用', 'GZ-SERVICE-CHILD-ONLY', item.category === 'service');
    ageCheck('药品限儿童使用', 'GZ-DRUG-CHILD-LIMIT', isDrug(item));
    ageCheck('医疗服务项目限年龄', 'NHSA-SERVICE-AGE', item.category === 'service');
    for (const [cls, ruleId] of [
      ['药品限工伤保险', 'GZ-DRUG-WORK-INJURY'],
      ['药品限生育保险', 'GZ-DRUG-MATERNITY'],
    ] as const) {
      const x = r(cls);
      const spared = ruleId === 'GZ-DRUG-MATERNITY' && childbirthCovered;
      if (
        isDrug(item) &&
        !spared &&
        x?.kind === 'insuranceType' &&
        !x.insuranceTypes.includes(p.insuranceType)
      )
        hit(ruleId, [item.lineNo]);
    }
    const vt = r('药品限就医方式');
    if (isDrug(item) && vt?.kind === 'visitType' && !vt.visitTypes.includes(visit))
      hit('NHSA-DRUG-VISIT-TYPE', [item.lineNo]);
    const hl = r('药品限医疗机构级别');
    if (isDrug(item) && hl?.kind === 'hospitalLevel' && level < hl.minLevel)
      hit('GZ-DRUG-HOSPITAL-LEVEL', [item.lineNo]);
    if (item.category === 'tcm-herbal' && r('中药饮片单复方均不予支付')?.kind === 'tcmNotPayable') {
      hit('GZ-TCM-NOT-PAYABLE', [item.lineNo]);
    }
    // The bench screens without history: a second-line drug's class was used before only earlier in the claim.
    if (
      isDrug(item) &&
      r('药品限二线使用')?.kind === 'secondLine' &&
      pharmacologicalSubgroupOf(item.code) !== undefined &&
      !claim.items.some(
        (e) =>
          isDrug(e) &&
          e.serviceDate < item.serviceDate &&
          pharmacologicalSubgroupOf(e.code) === pharmacologicalSubgroupOf(item.code) &&
          genericOf(e.code) !== genericOf(item.code),
      )
    )
      hit('NHSA-DRUG-SECOND-LINE', [item.lineNo]);
    if (isDrug(item) && internet && points.has('超互联网医院药品支付范围'))
      hit('NHSA-INTERNET-DRUG', [item.lineNo]);
  }

  // The claim as a whole.
  const sum = Math.round(claim.items.reduce((s, i) => s + i.amount, 0) * 100) / 100;
  const t = claim.totals;
  const gap = (a: number, b: number) => Math.round(Math.abs(a - b) * 100) / 100 > 0.01;
  if (gap(t.amount, sum) || gap(t.fundPaid + t.selfPaid, t.amount)) hit('NHSA-SETTLEMENT-TOTALS', []);
  let first = claim.items[0]?.serviceDate ?? '';
  let last = first;
  for (const i of claim.items) {
    if (i.serviceDate < first) first = i.serviceDate;
    if (i.serviceDate > last) last = i.serviceDate;
  }
  const careEnd =
    claim.visit.dischargedAt && claim.visit.dischargedAt > last ? claim.visit.dischargedAt : last;
  const submitted = claim.submittedAt.slice(0, 10);
  if (submitted < last || epochDay(submitted) - epochDay(careEnd) > 30) hit('NHSA-UPLOAD-DELAY', []);
  for (const d of claim.diagnoses) {
    if (!/^(?:[A-Z]\d{2}(?:\.[0-9xX]{1,3}(?:x\d{3})?)?[+*†]?|M\d{4,5}\/\d)$/.test(d.code))
      hit('NHSA-DIAGNOSIS-CODE', []);
  }
  // The public reference rules: sex and age edits of diagnoses and procedures (age on the first service date).
  const ageAtFirst = ageInYears(p.birthDate, first);
  for (const d of claim.diagnoses) {
    for (const e of catalogue.diagnosisEditsOf(d.code)) {
      if (e.edit === 'sex' && e.sex !== p.sex && !sexIndeterminate) hit('NHSA-DIAGNOSIS-SEX', []);
      if (e.edit === 'age' && (ageAtFirst < (e.minAgeYears ?? 0) || ageAtFirst > (e.maxAgeYears ?? 150)))
        hit('NHSA-DIAGNOSIS-AGE', []);
    }
  }
  for (const pr of claim.procedures ?? []) {
    for (const e of catalogue.procedureEditsOf(pr.code))
      if (e.edit === 'sex' && e.sex !== p.sex && !sexIndeterminate) hit('NHSA-PROCEDURE-SEX', []);
  }
  // Claim-level groupings, written out by hand.
  const byDate = new Map<string, Item[]>();
  const byCode = new Map<string, Item[]>();
  for (const item of claim.items) {
    byDate.set(item.serviceDate, [...(byDate.get(item.serviceDate) ?? []), item]);
    byCode.set(item.code, [...(byCode.get(item.code) ?? []), item]);
  }
  const { admittedAt, dischargedAt } = claim.visit;
  for (const [date, items] of byDate) {
    const lines = items.map((i) => i.lineNo);
    if (visit === 'inpatient' && admittedAt && dischargedAt && (date < admittedAt || date > dischargedAt)) {
      hit('GZ-BILLING-OUTSIDE-STAY', lines);
    }
    if (p.deathDate && date > p.deathDate) hit('FG-AFTER-DEATH', lines);
    const pieces = items.filter((i) => i.category === 'tcm-herbal');
    if (pieces.length) {
      const amount = Math.round(pieces.reduce((s, i) => s + i.amount, 0) * 100) / 100;
      if (new Set(pieces.map((i) => i.code)).size > 30 || amount > 1000)
        hit(
          'NHSA-TCM-LARGE-PRESCRIPTION',
          pieces.map((i) => i.lineNo),
        );
    }
    const table = catalogue.tcmIncompatibility;
    if (table && pieces.length > 1) {
      const byPiece = new Map<string, number[]>();
      for (const i of pieces) {
        const piece = table.pieceOf(i.name);
        if (piece) byPiece.set(piece, [...(byPiece.get(piece) ?? []), i.lineNo]);
      }
      const known = [...byPiece.keys()];
      for (let a = 0; a < known.length; a++)
        for (let b = a + 1; b < known.length; b++)
          if (table.conflict(known[a] as string, known[b] as string))
            hit('NHSA-TCM-INCOMPATIBILITY', [
              ...(byPiece.get(known[a] as string) ?? []),
              ...(byPiece.get(known[b] as string) ?? []),
            ]);
    }
    const drugs = items.filter(isDrug);
    const bySubgroup = new Map<string, Set<string>>();
    const subgroupLines = new Map<string, number[]>();
    for (const d of drugs) {
      const sub = pharmacologicalSubgroupOf(d.code);
      if (sub === undefined) continue;
      bySubgroup.set(sub, (bySubgroup.get(sub) ?? new Set()).add(genericOf(d.code)));
      subgroupLines.set(sub, [...(subgroupLines.get(sub) ?? []), d.lineNo]);
    }
    for (const [sub, generics] of bySubgroup)
      if (generics.size > 1) hit('NHSA-DRUG-SAME-SUBGROUP', subgroupLines.get(sub) ?? []);
    if (
      (visit === 'outpatient' || visit === 'emergency' || visit === 'internet') &&
      new Set(drugs.map((i) => i.code.slice(0, 10))).size > 5
    )
      hit(
        'NHSA-DRUG-KINDS',
        drugs.map((i) => i.lineNo),
      );
    const alone = pieces.filter(
      (i) =>
        catalogue.pointsFor(i.code, i.serviceDate)?.get('中药饮片单方使用不予支付')?.restriction?.kind ===
        'tcmNotPayableAlone',
    );
    if (alone.length && alone.length === pieces.length)
      hit(
        'GZ-TCM-NOT-PAYABLE-ALONE',
        pieces.map((i) => i.lineNo),
      );
    const perCode = new Map<string, Item[]>();
    for (const i of items) perCode.set(i.code, [...(perCode.get(i.code) ?? []), i]);
    for (const [code, same] of perCode) {
      const f = catalogue.pointsFor(code, date)?.get('医疗服务项目限定频次')?.restriction;
      if (f?.kind === 'frequency' && same.reduce((s, i) => s + i.quantity, 0) > f.maxPerDay) {
        hit(
          'GZ-SERVICE-FREQUENCY',
          same.map((i) => i.lineNo),
        );
      }
    }
  }
  for (const [code, linesA] of byCode) {
    for (const a of linesA) {
      for (const kp of catalogue.pairsFor(code, '医疗服务项目重复收费', a.serviceDate)) {
        if (kp.restriction?.kind !== 'exclusivePair' || kp.restriction.codes[0] !== code) continue;
        for (const b of byCode.get(kp.restriction.codes[1]) ?? [])
          if (a.serviceDate === b.serviceDate) hit('GZ-SERVICE-DUPLICATE', [a.lineNo, b.lineNo]);
      }
    }
  }
  for (const [cls, ruleId, category] of [
    ['药品限支付疗程', 'GZ-DRUG-COURSE', undefined],
    ['医疗服务项目限支付疗程', 'NHSA-SERVICE-COURSE', 'service'],
  ] as const) {
    const courses = new Map<string, { max: number; items: Item[] }>();
    for (const item of claim.items) {
      if (category && item.category !== category) continue;
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(cls);
      if (kp?.restriction?.kind !== 'course' || kp.restriction.scope === 'span') continue;
      const c = courses.get(kp.kpId) ?? { max: kp.restriction.maxDays, items: [] };
      c.items.push(item);
      courses.set(kp.kpId, c);
    }
    for (const { max, items } of courses.values()) {
      const days = [...new Set(items.map((i) => i.serviceDate))].sort();
      const last = days[max - 1];
      if (days.length > max && last)
        hit(
          ruleId,
          items.filter((i) => i.serviceDate > last).map((i) => i.lineNo),
        );
    }
  }
  // 手术项目未按规定折价收费: a group's different surgeries on one day, dearest first; later ones billed whole.
  const surgeryGroups = new Map<string, Item[]>();
  for (const item of claim.items) {
    const x = catalogue.pointsFor(item.code, item.serviceDate)?.get('手术项目未按规定折价收费')?.restriction;
    if (item.category !== 'service' || x?.kind !== 'surgeryGroup') continue;
    const key = `${item.serviceDate}|${x.group}`;
    surgeryGroups.set(key, [...(surgeryGroups.get(key) ?? []), item]);
  }
  for (const items of surgeryGroups.values()) {
    const price = new Map<string, number>();
    for (const i of items)
      price.set(specItemOf(i.code), Math.max(price.get(specItemOf(i.code)) ?? 0, i.unitPrice));
    const order = [...price.keys()];
    const main = order.reduce((best, s) => ((price.get(s) ?? 0) > (price.get(best) ?? 0) ? s : best));
    const later = items.filter((i) => specItemOf(i.code) !== main && Number.isInteger(i.quantity));
    if (order.length > 1 && later.length)
      hit(
        'NHSA-SURGERY-DISCOUNT',
        later.map((i) => i.lineNo),
      );
  }
  if (visit === 'inpatient') {
    let examLab = 0;
    let treated = 0;
    for (const i of claim.items) {
      const c = i.category === 'service' ? catalogue.serviceClassOf(i.code, i.name) : undefined;
      if (c === 'exam' || c === 'lab' || c === 'ct' || c === 'mri') examLab += i.amount;
      else if (c === 'treatment' || c === 'surgery' || isDrug(i) || i.category === 'tcm-herbal')
        treated += i.amount;
    }
    if (sum > 0 && Math.round((examLab / sum) * 100) / 100 >= 0.8 && treated <= 0)
      hit(
        'NHSA-LOW-STANDARD-ADMISSION',
        claim.items.map((i) => i.lineNo),
      );
  }
  return hits;
}
