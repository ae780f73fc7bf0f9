import { z } from 'zod';

/** What happens to a line, and to a claim (the strictest of its lines). */
export const LINE_ACTIONS = ['pass', 'hold', 'reject'] as const;

/** The in-process outcome for a claim: what happens to each line, and to the claim. */
export const Decision = z.strictObject({
  /** The claim's id; a pre-event draft without one is keyed `draft:<visitId>`. */
  claimId: z.string().min(1),
  outcome: z.enum(LINE_ACTIONS),
  lines: z.array(
    z.strictObject({
      lineNo: z.number().int().positive(),
      action: z.enum(LINE_ACTIONS),
      /** The rules that hold or reject the line; empty for a line that passes. */
      ruleIds: z.array(z.string().min(1)),
    }),
  ),
  /** The rule set that decided it. */
  ruleSetVersion: z.string().min(1),
});

export type Decision = z.infer<typeof Decision>;
export type LineAction = (typeof LINE_ACTIONS)[number];
