import { z } from 'zod';
import { serviceSpan } from '../../contracts/claim.ts';
import { claimKind } from './kind.ts';

/**
 * ICD-10 as the settlement list writes it: a category (E11), optionally a subcategory and the national
 * clinical edition's extension (E11.900, C61.x00, E34.500x001), a dagger or asterisk mark; or an
 * ICD-O morphology code (M81400/3).
 */
const ICD10_FORM = /^(?:[A-Z]\d{2}(?:\.[0-9xX]{1,3}(?:x\d{3})?)?[+*†]?|M\d{4,5}\/\d)$/;

/** The `subject` fields of one coded entry of the settlement list (a diagnosis, a procedure). */
export const CodedEntryFact = {
  /** 1 for the claim's first diagnosis (or procedure). */
  index: z.number(),
  code: z.string(),
  primary: z.boolean(),
};

/** Each diagnosis of the claim, with whether its code has the ICD-10 form (疾病诊断编码异常); it covers no line. */
export const diagnosis = claimKind({
  name: 'diagnosis',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({ ...CodedEntryFact, icd10Form: z.boolean() }),
  build({ claim }) {
    const [first] = serviceSpan(claim);
    return claim.diagnoses.map((d, i) => ({
      kind: 'diagnosis',
      fact: { index: i + 1, code: d.code, primary: d.primary, icd10Form: ICD10_FORM.test(d.code) },
      date: first,
      lines: [],
    }));
  },
});
