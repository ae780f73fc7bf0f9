import { z } from 'zod';

/**
 * Primary diagnoses whose readmission is a planned cycle (chemotherapy, dialysis), not a split
 * admission: `rules/policy/planned-cycles.json`, which the post-event policy loads and the
 * period subject kinds read.
 */
export const PlannedCycles = z.strictObject({
  $comment: z.string().optional(),
  entries: z
    .array(
      z.strictObject({
        /** ICD-10 category or subcategory prefix, e.g. `Z51`. */
        prefix: z.string().regex(/^[A-Z]\d{2}(\.\d{0,3})?$/, 'expected an ICD-10 prefix like Z51'),
        name: z.string().min(1),
        reason: z.string().min(1),
        source: z.string().min(1),
      }),
    )
    .min(1),
});
export type PlannedCycles = z.infer<typeof PlannedCycles>;

/** The planned-cycle entry a diagnosis code falls under, if any. */
export function plannedCycleFor(
  cycles: PlannedCycles,
  code: string | undefined,
): PlannedCycles['entries'][number] | undefined {
  if (!code) return undefined;
  return cycles.entries.find((e) => code.startsWith(e.prefix));
}
