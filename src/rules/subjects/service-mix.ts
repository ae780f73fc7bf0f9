import { z } from 'zod';
import { SERVICE_CLASSES_FILE } from '../../catalogue/reference.ts';
import { claimKind, lineOf, round2 } from './kind.ts';

/**
 * What a claim's charges were spent on, by the service classes of rules/reference/service-classes.json
 * (the structure of the national service code): 无指征住院（低标准入院） is a stay whose charges are
 * almost all examinations and tests, with no treatment. `treatedAmount` is what went on treatment,
 * surgery and medicines (drugs and TCM pieces); `examLabShare` is examinations and tests over all
 * charges. One subject per claim, covering every line.
 */
export const serviceMix = claimKind({
  name: 'serviceMix',
  scope: 'claim',
  ruleClass: 'optional',
  reference: [SERVICE_CLASSES_FILE],
  fact: z.object({
    totalAmount: z.number(),
    examAmount: z.number(),
    labAmount: z.number(),
    examLabShare: z.number(),
    treatedAmount: z.number(),
  }),
  line: z.object({ serviceClass: z.string().nullable() }),
  build({ claim, catalogue }) {
    let total = 0;
    let exam = 0;
    let lab = 0;
    let treated = 0;
    const lines = claim.items.map((item) => {
      const serviceClass =
        item.category === 'service' ? catalogue.serviceClassOf(item.code, item.name) : undefined;
      total += item.amount;
      if (serviceClass === 'exam' || serviceClass === 'ct' || serviceClass === 'mri') exam += item.amount;
      else if (serviceClass === 'lab') lab += item.amount;
      else if (serviceClass === 'treatment' || serviceClass === 'surgery') treated += item.amount;
      if (item.category === 'drug' || item.category === 'tcm-herbal') treated += item.amount;
      return { ...lineOf(item), serviceClass: serviceClass ?? null };
    });
    const first = claim.items[0];
    if (!first) return [];
    return [
      {
        kind: 'serviceMix',
        fact: {
          totalAmount: round2(total),
          examAmount: round2(exam),
          labAmount: round2(lab),
          examLabShare: total > 0 ? round2((exam + lab) / total) : 0,
          treatedAmount: round2(treated),
        },
        date: first.serviceDate,
        lines,
      },
    ];
  },
});
