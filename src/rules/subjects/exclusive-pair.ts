import { z } from 'zod';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import { epochDay } from '../../dates.ts';
import { type CatalogueLookup, type ClaimSubjectKind, EVERY_STAGE, groupBy, lineOf, single } from './kind.ts';

const PairLine = z.object({
  lineNo: z.number(),
  code: z.string(),
  name: z.string(),
  serviceDate: z.string(),
});

/**
 * Pairs of lines whose codes form an exclusive pair (医疗服务项目重复收费: A's price already
 * contains B). Line `a` has `role` "a", line `b` "b": a rule names the duplicate charge by role.
 */
export const exclusivePair: ClaimSubjectKind = {
  name: 'exclusivePair',
  scope: 'claim',
  ruleClass: 'required',
  history: false,
  stages: EVERY_STAGE,
  fact: z.object({ a: PairLine, b: PairLine.extend({ amount: z.number() }), daysApart: z.number() }),
  line: z.object({ role: z.enum(['a', 'b']) }),
  build({ claim, catalogue, ruleClass }) {
    const byCode = groupBy(claim.items, (i) => i.code);
    const subjects = [];
    const seen = new Set<string>();
    for (const [code, linesA] of byCode) {
      const kp = catalogue.pointsFor(code)?.get(ruleClass);
      if (kp?.restriction?.kind !== 'exclusivePair') continue;
      // A code may sit in several pairs; the catalogue keeps each pair as its own knowledge point.
      for (const pair of pairsOf(catalogue, code, ruleClass)) {
        const [codeA, codeB] = pair.codes;
        if (codeA !== code || seen.has(pair.kp.kpId)) continue;
        const linesB = byCode.get(codeB);
        if (!linesB) continue;
        seen.add(pair.kp.kpId);
        for (const a of linesA) {
          for (const b of linesB) {
            subjects.push({
              kind: 'exclusivePair',
              fact: {
                a: { lineNo: a.lineNo, code: a.code, name: a.name, serviceDate: a.serviceDate },
                b: {
                  lineNo: b.lineNo,
                  code: b.code,
                  name: b.name,
                  serviceDate: b.serviceDate,
                  amount: b.amount,
                },
                daysApart: Math.abs(epochDay(a.serviceDate) - epochDay(b.serviceDate)),
              },
              date: b.serviceDate,
              lines: [
                { ...lineOf(a), role: 'a' },
                { ...lineOf(b), role: 'b' },
              ],
              category: 'service' as const,
              points: single(pair.kp),
            });
          }
        }
      }
    }
    return subjects;
  },
};

/** Catalogues that know several pairs per code expose them through `pairsFor`. */
interface PairLookup {
  pairsFor(code: string, ruleClass: string): readonly KnowledgePoint[];
}

function pairsOf(
  catalogue: CatalogueLookup,
  code: string,
  ruleClass: string,
): { kp: KnowledgePoint; codes: [string, string] }[] {
  const lookup = catalogue as Partial<PairLookup> & CatalogueLookup;
  const points = lookup.pairsFor
    ? lookup.pairsFor(code, ruleClass)
    : [catalogue.pointsFor(code)?.get(ruleClass)];
  const out: { kp: KnowledgePoint; codes: [string, string] }[] = [];
  for (const kp of points) {
    if (kp?.restriction?.kind === 'exclusivePair') out.push({ kp, codes: kp.restriction.codes });
  }
  return out;
}
