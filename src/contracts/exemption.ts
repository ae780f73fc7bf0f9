import { z } from 'zod';
import { isoDate } from './fields.ts';

/**
 * What an exemption covers: every field given must match the hit (hospital, doctor, patient, one of
 * the hit's item codes, one of the claim's diagnoses by ICD-10 prefix); at least one is required,
 * so an exemption never silently switches a rule off for everyone.
 */
export const ExemptionScope = z
  .strictObject({
    hospitalId: z.string().min(1).optional(),
    doctorId: z.string().min(1).optional(),
    insuredId: z.string().min(1).optional(),
    itemCode: z.string().min(1).optional(),
    /** An ICD-10 code prefix, `C61` or `E11.9`: any diagnosis of the claim starting with it. */
    icd10Prefix: z
      .string()
      .regex(/^[A-Z]\d{2}(\.\d{0,4})?$/, 'expected an ICD-10 prefix like C61 or E11.9')
      .optional(),
  })
  .refine(
    (s) => Object.keys(s).length > 0,
    'name at least one of hospitalId, doctorId, insuredId, itemCode, icd10Prefix',
  );

/** One expert-approved exemption from one rule. */
export const Exemption = z.strictObject({
  /** Stable id the flags cite: `EX-…`. */
  id: z.string().regex(/^EX-[A-Za-z0-9-]+$/, 'expected an id like EX-2026-001'),
  ruleId: z.string().min(1),
  scope: ExemptionScope,
  reason: z.string().min(1),
  approver: z.string().min(1),
  /** Claims served on or before this date are exempted; later ones are flagged again. */
  expires: isoDate,
});

/** A file under `rules/exemptions/`: a list, so a review's exemptions can live together. */
export const ExemptionFile = z.strictObject({
  exemptions: z.array(Exemption).max(10_000),
});

export type Exemption = z.infer<typeof Exemption>;
export type ExemptionFile = z.infer<typeof ExemptionFile>;
