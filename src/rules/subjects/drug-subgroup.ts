import { z } from 'zod';
import { genericOf, pharmacologicalSubgroupOf } from '../../catalogue/codes.ts';
import type { Item } from '../../contracts/claim.ts';
import { claimKind, groupBy, lineOf, type Subject } from './kind.ts';

/** `genericNo`: the line's generic, counted in claim order within the subgroup (1 = the first one billed). */
export const DrugSubgroupLine = z.object({ genericNo: z.number() });

/**
 * The western drugs of one pharmacological subgroup (the ATC-like class in the NHSA code, see
 * `pharmacologicalSubgroupOf`) billed on one day of a claim: drugs prescribed together
 * (重复开药, 同时开具两种及以上药理作用相似的药品). One day, not the whole claim, because a stay that
 * switches from one drug to another of its class over its days prescribes them one after the other.
 * `generics` counts distinct generics, so two specs of one drug are one.
 */
export const drugSubgroup = claimKind({
  name: 'drugSubgroup',
  scope: 'claim',
  ruleClass: 'optional',
  fact: z.object({ date: z.string(), subgroup: z.string(), generics: z.number(), names: z.string() }),
  line: DrugSubgroupLine,
  build({ claim }) {
    const subjects: Subject[] = [];
    const grouped = new Map<string, { date: string; subgroup: string; items: Item[] }>();
    for (const item of claim.items) {
      const subgroup = item.category === 'drug' ? pharmacologicalSubgroupOf(item.code) : undefined;
      if (subgroup === undefined) continue;
      const key = `${item.serviceDate} ${subgroup}`;
      const group = grouped.get(key);
      if (group) group.items.push(item);
      else grouped.set(key, { date: item.serviceDate, subgroup, items: [item] });
    }
    for (const { date, subgroup, items } of grouped.values()) {
      const generics = [...groupBy(items, (i) => genericOf(i.code)).keys()];
      const genericNo = new Map(generics.map((g, i) => [g, i + 1]));
      subjects.push({
        kind: 'drugSubgroup',
        fact: {
          date,
          subgroup,
          generics: generics.length,
          names: [...new Set(items.map((i) => i.name))].join('、'),
        },
        date,
        lines: items.map((i) => ({ ...lineOf(i), genericNo: genericNo.get(genericOf(i.code)) ?? 1 })),
        category: 'drug',
      });
    }
    return subjects;
  },
});
