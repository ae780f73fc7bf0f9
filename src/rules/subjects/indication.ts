import { z } from 'zod';
import { icd10Matches } from '../../catalogue/indications.ts';
import type { Restriction } from '../../catalogue/schema.ts';
import { ageInYears, epochDay } from '../../dates.ts';
import { claimKind, ItemFact, itemFact, lineOf, type Subject, single } from './kind.ts';

type Indication = Extract<Restriction, { kind: 'indication' }>;
type Alternative = Indication['alternatives'][number];

/** Completed months from `birthDate` to `date`. */
function ageInMonths(birthDate: string, date: string): number {
  const months =
    (Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4))) * 12 +
    Number(date.slice(5, 7)) -
    Number(birthDate.slice(5, 7));
  return date.slice(8, 10) < birthDate.slice(8, 10) ? months - 1 : months;
}

/** Whether the patient's age on `date` is within the alternative's band (no band: any age). */
function ageFits(alternative: Alternative, birthDate: string, date: string): boolean {
  const { minAge, maxAgeYears } = alternative;
  if (maxAgeYears !== undefined && ageInYears(birthDate, date) > maxAgeYears) return false;
  if (!minAge) return true;
  const age =
    minAge.unit === 'years'
      ? ageInYears(birthDate, date)
      : minAge.unit === 'months'
        ? ageInMonths(birthDate, date)
        : epochDay(date) - epochDay(birthDate);
  return age >= minAge.value;
}

/**
 * Each line of a drug limited to indications (药品限适应症) whose knowledge point was read into
 * ICD-10 codes, judged against every diagnosis of the claim: `diagnosisIndicated` when one falls
 * under a disease the text names, `indicated` when it does so in an alternative whose age condition
 * the patient meets on the line's date. A claim without diagnoses builds nothing: there is nothing
 * to match.
 */
export const indication = claimKind({
  name: 'indication',
  scope: 'item',
  ruleClass: 'required',
  fact: ItemFact.extend({
    /** The diseases the knowledge point names, as it spells them. */
    indication: z.string(),
    /** The claim's diagnosis codes, joined with 、. */
    diagnosisCodes: z.string(),
    diagnosisIndicated: z.boolean(),
    indicated: z.boolean(),
    /** What does not fit, in words an auditor reads; '' when indicated. */
    finding: z.string(),
  }),
  build({ claim, catalogue, ruleClass }) {
    const codes = claim.diagnoses.map((d) => d.code);
    if (codes.length === 0) return [];
    const subjects: Subject[] = [];
    for (const item of claim.items) {
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (kp?.restriction?.kind !== 'indication') continue;
      const { alternatives, label } = kp.restriction;
      const matching = alternatives.filter((a) =>
        a.icd10.some((key) => codes.some((c) => icd10Matches(key, c))),
      );
      const indicated = matching.some((a) => ageFits(a, claim.patient.birthDate, item.serviceDate));
      const ages = [...new Set(matching.map((a) => a.ageLabel).filter((l) => l !== undefined))];
      const finding = indicated
        ? ''
        : matching.length === 0
          ? `本次诊断（${codes.join('、')}）不在所列疾病的ICD-10范围内`
          : `诊断相符，但患者${ageInYears(claim.patient.birthDate, item.serviceDate)}岁不在限定人群（${ages.join('、')}）内`;
      subjects.push({
        kind: 'indication',
        fact: {
          ...itemFact(item),
          indication: label,
          diagnosisCodes: codes.join('、'),
          diagnosisIndicated: matching.length > 0,
          indicated,
          finding,
        },
        date: item.serviceDate,
        lines: [lineOf(item)],
        category: item.category,
        points: single(kp),
      });
    }
    return subjects;
  },
});
