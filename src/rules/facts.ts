import { z } from 'zod';
import { Restriction } from '../catalogue/schema.ts';
import type { FACT_NAMES } from '../contracts/rule.ts';
import type { SubjectKind } from './subjects/kind.ts';
import { LineFact } from './subjects/kind.ts';

/** The `patient` fact: who the patient is on the subject's date (age taken on that date). */
export const PatientFact = z.object({
  sex: z.string(),
  /** A diagnosis in rules/reference indeterminateSex: outside every sex rule (NHSA note to the sex rules). */
  sexIndeterminate: z.boolean(),
  insuranceType: z.string(),
  ageYears: z.number(),
  ageDays: z.number(),
  deathDate: z.string().nullable(),
});

/** The `hospital` fact. */
export const HospitalFact = z.object({ level: z.number(), internet: z.boolean() });

/** The `visit` fact; `stayDays` counts admission and discharge days, null outside a stay. */
export const VisitFact = z.object({
  type: z.string(),
  /** A diagnosis in rules/reference maternity (ICD-10 O00–O99, Z30–Z39): childbirth or pregnancy care. */
  maternityDiagnosis: z.boolean(),
  admittedAt: z.string().nullable(),
  dischargedAt: z.string().nullable(),
  stayDays: z.number().nullable(),
});

export type PatientFact = z.infer<typeof PatientFact>;
export type HospitalFact = z.infer<typeof HospitalFact>;
export type VisitFact = z.infer<typeof VisitFact>;

type Schema = z.core.$ZodType;

/** Every path into a schema's objects, as dotted keys (`a`, `a.lineNo`); arrays are leaves. */
export function pathsOf(schema: Schema, prefix = '', out = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return pathsOf(schema.unwrap() as Schema, prefix, out);
  }
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options) pathsOf(option as Schema, prefix, out);
    return out;
  }
  if (schema instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(schema.shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      pathsOf(child as Schema, path, out);
    }
  }
  return out;
}

/** The fact paths a rule of `kind` may read, by fact name; `params` are the rule's own. */
export function factPaths(
  kind: SubjectKind,
  params: Record<string, unknown>,
): Record<(typeof FACT_NAMES)[number], ReadonlySet<string>> {
  return {
    subject: pathsOf(kind.fact),
    restriction: RESTRICTION_PATHS,
    patient: PATIENT_PATHS,
    hospital: HOSPITAL_PATHS,
    visit: VISIT_PATHS,
    params: new Set(Object.keys(params)),
  };
}

/** The line fact paths `atRisk` may select on for `kind`. */
export const linePaths = (kind: SubjectKind): Set<string> => pathsOf(LineFact.extend(kind.line.shape));

const RESTRICTION_PATHS = pathsOf(Restriction);
const PATIENT_PATHS = pathsOf(PatientFact);
const HOSPITAL_PATHS = pathsOf(HospitalFact);
const VISIT_PATHS = pathsOf(VisitFact);
