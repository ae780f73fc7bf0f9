import { claimKind, ItemFact, itemFact, lineOf, num } from './kind.ts';

/** Each item, with the knowledge points its code carries. */
export const item = claimKind({
  name: 'item',
  scope: 'item',
  ruleClass: 'optional',
  fact: ItemFact,
  build({ claim, catalogue }) {
    return claim.items.map((i) => {
      const points = catalogue.pointsFor(i.code, i.serviceDate);
      return {
        kind: 'item',
        fact: itemFact(i),
        date: i.serviceDate,
        lines: [lineOf(i)],
        category: i.category,
        ...(points ? { points } : {}),
      };
    });
  },
  /** With a supply limit in the rule's params: the largest quantity that stays within it. */
  suggest(subject, { params }) {
    const max = num(params.maxDaysSupply);
    const days = num(subject.fact.daysSupply);
    const quantity = num(subject.fact.quantity);
    if (max === undefined || !days || quantity === undefined) return undefined;
    return `按每日用量计，最多可开${Math.floor((quantity * max) / days)}（${max}天用量）`;
  },
});
