import { z } from 'zod';
import { genericOf, pharmacologicalSubgroupOf } from '../../catalogue/codes.ts';
import { claimKind, ItemFact, itemFact, lineOf, pastLines, type Subject, single } from './kind.ts';

/**
 * A second-line drug (药品限二线使用) and the patient's earlier use of its class: `firstLineUses`
 * counts the other generics of its pharmacological subgroup (`pharmacologicalSubgroupOf`, the ATC
 * third level in the NHSA code) billed before this line's date, in earlier claims or earlier in
 * this one. That a first-line drug was used is what the claims can show; that it failed or was not
 * tolerated they cannot. A drug without a subgroup (a Chinese patent drug) has no subject.
 */
export const historySecondLine = claimKind({
  name: 'historySecondLine',
  scope: 'history',
  ruleClass: 'required',
  fact: ItemFact.extend({ subgroup: z.string(), firstLineUses: z.number() }),
  build({ claim, catalogue, history, ruleClass }) {
    const earlier = [...pastLines(history, claim.claimId).map((p) => p.item), ...claim.items].filter(
      (i) => i.category === 'drug',
    );
    const subjects: Subject[] = [];
    for (const item of claim.items) {
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (item.category !== 'drug' || kp?.restriction?.kind !== 'secondLine') continue;
      const subgroup = pharmacologicalSubgroupOf(item.code);
      if (subgroup === undefined) continue;
      const generic = genericOf(item.code);
      const firstLine = new Set(
        earlier
          .filter(
            (e) =>
              e.serviceDate < item.serviceDate &&
              pharmacologicalSubgroupOf(e.code) === subgroup &&
              genericOf(e.code) !== generic,
          )
          .map((e) => genericOf(e.code)),
      );
      subjects.push({
        kind: 'historySecondLine',
        fact: { ...itemFact(item), subgroup, firstLineUses: firstLine.size },
        date: item.serviceDate,
        lines: [lineOf(item)],
        category: item.category,
        points: single(kp),
      });
    }
    return subjects;
  },
});
