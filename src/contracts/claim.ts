import { z } from 'zod';
import { isoDate, isoTimestamp, yuan } from './fields.ts';

export const SEXES = ['M', 'F'] as const;
export const INSURANCE_TYPES = ['employee', 'resident', 'work-injury', 'maternity'] as const;
export const VISIT_TYPES = ['outpatient', 'emergency', 'inpatient', 'pharmacy', 'internet'] as const;
export const ITEM_CATEGORIES = ['drug', 'tcm-herbal', 'service', 'consumable'] as const;

/**
 * Limits a claim must meet to be storable (DESIGN.md: bounded by construction). Keys: DynamoDB
 * allows 2,048 bytes in a partition key and 1,024 in a sort key, counted in UTF-8. The claim id is
 * the claims table's sort key after `YYYY-MM-DD#`, the insured id its partition key, the hospital
 * id the partition key of `hospitalId#YYYY-MM` (src/resources.ts). Size: a claim's stored items
 * (its history item, its decision) must fit DynamoDB's 400 KB item limit, so the claim as JSON is
 * held to 256 KiB, which is also SQS's classic message limit. Lines, diagnoses, procedures: the
 * work and the answer of a screen grow with them (the procedure rules judge each procedure), so
 * they are capped where a real settlement list ends.
 */
export const CLAIM_LIMITS = {
  claimIdBytes: 1024 - 'YYYY-MM-DD#'.length,
  insuredIdBytes: 2048,
  hospitalIdBytes: 2048 - '#YYYY-MM'.length,
  doctorIdBytes: 2048 - 'doctor#'.length,
  claimBytes: 256 * 1024,
  lines: 2000,
  /** Diagnoses and procedures: a settlement list carries a handful, a long stay a few dozen. */
  diagnoses: 100,
  procedures: 100,
} as const;

const utf8 = new TextEncoder();
const byteLength = (s: string): number => utf8.encode(s).length;

/** A string that is part of a DynamoDB key: non-empty and at most `bytes` in UTF-8. */
const keyString = (bytes: number, key: string) =>
  z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      // Characters never exceed bytes, so most ids skip the encoding.
      if (s.length * 3 <= bytes) return;
      const n = byteLength(s);
      if (n > bytes)
        ctx.addIssue({
          code: 'custom',
          message: `at most ${bytes} bytes in UTF-8, got ${n}: it is part of ${key}, which DynamoDB limits`,
        });
    });

export const Patient = z.strictObject({
  insuredId: keyString(CLAIM_LIMITS.insuredIdBytes, "the claims table's partition key (2,048 bytes)"),
  sex: z.enum(SEXES),
  birthDate: isoDate,
  insuranceType: z.enum(INSURANCE_TYPES),
  deathDate: isoDate.nullable().optional(),
});

export const Hospital = z.strictObject({
  hospitalId: keyString(CLAIM_LIMITS.hospitalIdBytes, 'the partition key hospitalId#YYYY-MM (2,048 bytes)'),
  level: z.union([z.literal(1), z.literal(2), z.literal(3)], {
    message: 'expected hospital level 1, 2 or 3',
  }),
  region: z.string().regex(/^\d{6}$/, 'expected a 6-digit region code'),
  internet: z.boolean(),
});

export const Visit = z.strictObject({
  visitId: z.string().min(1),
  type: z.enum(VISIT_TYPES),
  department: z.string().min(1),
  admittedAt: isoDate.optional(),
  dischargedAt: isoDate.nullable().optional(),
});

export const Diagnosis = z.strictObject({
  code: z.string().min(3),
  primary: z.boolean(),
});

/**
 * ICD-9-CM-3 as the settlement list writes it: a two-digit chapter code and optional subcategory
 * (68.4, 68.41), with the national clinical edition's extension (68.4901, 74.1x00, 36.0700x004).
 */
const ICD9CM3_FORM = /^\d{2}(?:\.(?:\d[\dx]\d{2}(?:x\d{3})?|\d{1,2}))?$/;

/** A procedure of the settlement list (医保结算清单 手术及操作); optional on Claim v1. */
export const Procedure = z.strictObject({
  code: z.string().regex(ICD9CM3_FORM, 'expected an ICD-9-CM-3 code like 68.4901 or 74.1x00'),
  primary: z.boolean(),
  date: isoDate,
});

/** NHSA code shapes per category (DESIGN.md): a wrong shape usually means a mis-keyed line. */
const CODE_SHAPES: Record<(typeof ITEM_CATEGORIES)[number], { re: RegExp; text: string }> = {
  drug: { re: /^[XZ][A-Z0-9]{19,22}$/, text: 'a drug code of 20–23 characters starting with X or Z' },
  'tcm-herbal': { re: /^T[0-9A-Z]{5,}$/, text: 'a TCM piece code starting with T' },
  service: { re: /^\d{15}$/, text: 'a 15-digit service item code' },
  consumable: { re: /^C[0-9A-Z]{5,}$/, text: 'a consumable code starting with C' },
};

export const Item = z
  .strictObject({
    lineNo: z.number().int().positive(),
    code: z.string().min(1),
    name: z.string().min(1),
    category: z.enum(ITEM_CATEGORIES),
    quantity: z.number().finite().positive(),
    unitPrice: yuan,
    amount: yuan,
    serviceDate: isoDate,
    daysSupply: z.number().int().positive().optional(),
  })
  .superRefine((item, ctx) => {
    const shape = CODE_SHAPES[item.category];
    if (!shape.re.test(item.code)) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: `expected ${shape.text}, got "${item.code}"` });
    }
  });

export const Totals = z.strictObject({ amount: yuan, fundPaid: yuan, selfPaid: yuan });

const claimShape = {
  claimId: keyString(
    CLAIM_LIMITS.claimIdBytes,
    "the claims table's sort key YYYY-MM-DD#claimId (1,024 bytes)",
  ),
  submittedAt: isoTimestamp,
  patient: Patient,
  hospital: Hospital,
  doctorId: keyString(
    CLAIM_LIMITS.doctorIdBytes,
    "the scores table's partition key doctor#doctorId (2,048 bytes)",
  ),
  visit: Visit,
  diagnoses: z
    .array(Diagnosis)
    .max(CLAIM_LIMITS.diagnoses, `at most ${CLAIM_LIMITS.diagnoses} diagnoses in one claim`),
  /** Absent on claims that carry no settlement-list procedures (outpatient visits, older senders). */
  procedures: z
    .array(Procedure)
    .max(CLAIM_LIMITS.procedures, `at most ${CLAIM_LIMITS.procedures} procedures in one claim`)
    .optional(),
  items: z
    .array(Item)
    .min(1, 'a claim needs at least one item')
    .max(CLAIM_LIMITS.lines, `at most ${CLAIM_LIMITS.lines} lines in one claim`),
  totals: Totals,
};

type ClaimLike = {
  visit: z.infer<typeof Visit>;
  items: z.infer<typeof Item>[];
  patient: z.infer<typeof Patient>;
};

/** Cross-field checks shared by settled claims and drafts. */
function checkClaim(claim: ClaimLike, ctx: z.RefinementCtx, settled: boolean): void {
  const { visit } = claim;
  if (visit.type === 'inpatient') {
    if (!visit.admittedAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['visit', 'admittedAt'],
        message: 'required for an inpatient stay',
      });
    }
    if (settled && !visit.dischargedAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['visit', 'dischargedAt'],
        message: 'required for a settled inpatient stay',
      });
    }
    if (visit.admittedAt && visit.dischargedAt && visit.dischargedAt < visit.admittedAt) {
      ctx.addIssue({ code: 'custom', path: ['visit', 'dischargedAt'], message: 'is before admittedAt' });
    }
  } else {
    for (const key of ['admittedAt', 'dischargedAt'] as const) {
      if (visit[key]) {
        ctx.addIssue({
          code: 'custom',
          path: ['visit', key],
          message: `only for inpatient stays, visit type is ${visit.type}`,
        });
      }
    }
  }
  const seen = new Set<number>();
  claim.items.forEach((item, i) => {
    if (seen.has(item.lineNo)) {
      ctx.addIssue({
        code: 'custom',
        path: ['items', i, 'lineNo'],
        message: `duplicate lineNo ${item.lineNo}`,
      });
    }
    seen.add(item.lineNo);
    if (item.serviceDate < claim.patient.birthDate) {
      ctx.addIssue({
        code: 'custom',
        path: ['items', i, 'serviceDate'],
        message: 'is before the patient was born',
      });
    }
  });
}

/** The whole claim within CLAIM_LIMITS.claimBytes as JSON, so its stored items fit DynamoDB's item limit. */
function checkSize(claim: unknown, ctx: z.RefinementCtx): void {
  const bytes = byteLength(JSON.stringify(claim));
  if (bytes > CLAIM_LIMITS.claimBytes)
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `the claim is ${bytes} bytes as JSON; at most ${CLAIM_LIMITS.claimBytes} (256 KiB), so its stored items fit DynamoDB's 400 KB item limit`,
    });
}

/**
 * Claim v1 but for the size limit: for a reader that has bounded the claim's JSON already
 * (`claimJsonWithinLimit`), so a million-claim audit does not serialise every claim again.
 */
export const ClaimOfBoundedJson = z
  .strictObject(claimShape)
  .superRefine((c, ctx) => checkClaim(c, ctx, true));

/** Claim v1, the settled claim of DESIGN.md. Unknown fields are rejected. */
export const Claim = ClaimOfBoundedJson.superRefine(checkSize);

/**
 * Whether JSON text of `bytes` UTF-8 bytes parses to a claim within CLAIM_LIMITS.claimBytes as
 * JSON, without serialising it: re-serialising never lengthens strings, keys or literals, and
 * lengthens a number at most 5.25 times (`1e20` → 21 digits), so text of a sixth of the limit fits.
 */
export const claimJsonWithinLimit = (bytes: number): boolean => bytes * 6 <= CLAIM_LIMITS.claimBytes;

/** A pre-event draft: the same shape, but `claimId`, `submittedAt` and `totals` may be absent. */
export const DraftClaim = z
  .strictObject({
    ...claimShape,
    claimId: claimShape.claimId.optional(),
    submittedAt: claimShape.submittedAt.optional(),
    totals: claimShape.totals.optional(),
  })
  .superRefine((c, ctx) => checkClaim(c, ctx, false));

/** First and last service dates of a claim's lines (`['', '']` for none). */
export function serviceSpan(claim: { items: readonly { serviceDate: string }[] }): [string, string] {
  let first = claim.items[0]?.serviceDate ?? '';
  let last = first;
  for (const item of claim.items) {
    if (item.serviceDate < first) first = item.serviceDate;
    if (item.serviceDate > last) last = item.serviceDate;
  }
  return [first, last];
}

export type Claim = z.infer<typeof Claim>;
export type DraftClaim = z.infer<typeof DraftClaim>;
export type Item = z.infer<typeof Item>;
export type Procedure = z.infer<typeof Procedure>;
export type Patient = z.infer<typeof Patient>;
export type Sex = (typeof SEXES)[number];
export type InsuranceType = (typeof INSURANCE_TYPES)[number];
export type VisitType = (typeof VISIT_TYPES)[number];
export type ItemCategory = (typeof ITEM_CATEGORIES)[number];
