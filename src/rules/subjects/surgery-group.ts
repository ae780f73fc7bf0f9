import { z } from 'zod';
import { specItemOf } from '../../catalogue/codes.ts';
import type { KnowledgePoint } from '../../catalogue/schema.ts';
import type { Item } from '../../contracts/claim.ts';
import { claimKind, lineOf, type Subject, single } from './kind.ts';

/**
 * `surgeryNo`: the line's surgery in the group's order of price (1 = the main surgery, billed in
 * full); `billedWhole`: its quantity is a whole number, so the line shows no discount (a surgery
 * billed at part of its price is billed as a fraction of one, e.g. 0.5).
 */
export const SurgeryGroupLine = z.object({ surgeryNo: z.number(), billedWhole: z.boolean() });

/**
 * The surgeries of one surgery group (手术项目未按规定折价收费: 胃肠手术组, 肝胆手术组, …) billed on one
 * day of a claim. The points say: 经同一切口进行的两种及以上不同的手术，第二及以后的手术未按规定折价计收.
 * A claim carries neither the incision nor the list price, so the subject measures what it can:
 * `surgeries` counts different surgeries — distinct 9-digit codes of the national price
 * specification, so the variants of one surgery (阑尾切除术(单纯性), 阑尾切除术(化脓性)) are one —
 * ranked by unit price, the dearest being the main one; `laterBilledWhole` counts the lines of the
 * second and later surgeries billed at a whole quantity. The subject cites the point of the
 * dearest later surgery.
 */
export const surgeryGroup = claimKind({
  name: 'surgeryGroup',
  scope: 'claim',
  ruleClass: 'required',
  fact: z.object({
    date: z.string(),
    group: z.string(),
    surgeries: z.number(),
    names: z.string(),
    laterBilledWhole: z.number(),
  }),
  line: SurgeryGroupLine,
  build({ claim, catalogue, ruleClass }) {
    const groups = new Map<
      string,
      { date: string; group: string; items: Item[]; points: KnowledgePoint[] }
    >();
    for (const item of claim.items) {
      if (item.category !== 'service') continue;
      const kp = catalogue.pointsFor(item.code, item.serviceDate)?.get(ruleClass);
      if (kp?.restriction?.kind !== 'surgeryGroup') continue;
      const key = `${item.serviceDate} ${kp.restriction.group}`;
      let g = groups.get(key);
      if (!g) {
        g = { date: item.serviceDate, group: kp.restriction.group, items: [], points: [] };
        groups.set(key, g);
      }
      g.items.push(item);
      g.points.push(kp);
    }
    const subjects: Subject[] = [];
    for (const { date, group, items, points } of groups.values()) {
      // Different surgeries, dearest first; on a tie the one billed first is the main one.
      const surgeries = [...new Set(items.map(surgeryOf))];
      const price = (s: string) =>
        Math.max(...items.filter((i) => surgeryOf(i) === s).map((i) => i.unitPrice));
      const ranked = surgeries
        .map((s, order) => ({ s, order, price: price(s) }))
        .sort((a, b) => b.price - a.price || a.order - b.order);
      const surgeryNo = new Map(ranked.map(({ s }, k) => [s, k + 1]));
      const lines = items.map((i) => ({
        ...lineOf(i),
        surgeryNo: surgeryNo.get(surgeryOf(i)) ?? 1,
        billedWhole: Number.isInteger(i.quantity),
      }));
      const second = ranked[1]?.s;
      const cited = points[items.findIndex((i) => surgeryOf(i) === second)] ?? points[0];
      if (!cited) continue;
      subjects.push({
        kind: 'surgeryGroup',
        fact: {
          date,
          group,
          surgeries: surgeries.length,
          names: [...new Set(items.map((i) => i.name))].join('、'),
          laterBilledWhole: lines.filter((l) => l.surgeryNo > 1 && l.billedWhole).length,
        },
        date,
        lines,
        category: 'service',
        points: single(cited),
      });
    }
    return subjects;
  },
});

/** The surgery a line bills: its item of the national price specification. */
const surgeryOf = (item: Item): string => specItemOf(item.code);
