import { Claim, serviceSpan } from '../../src/contracts/claim.ts';
import { deepMerge } from '../../src/rules/fixtures.ts';

type Json = Record<string, unknown>;

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * A settled claim from the fixture base claim and a patch, consistent as a hospital sends one: its
 * totals are its lines' sum (80% paid by the fund) and it is submitted the evening of its last service
 * date, unless the patch gives totals or submittedAt of its own. Without this a test claim whose lines
 * were patched would also break 结算明细信息异常 or 就诊数据非实时上传监管.
 */
export function settledClaim(base: Json, patch: Json): Claim {
  const merged = deepMerge(base, patch) as Json & { items: { amount: number; serviceDate: string }[] };
  const amount = round2(merged.items.reduce((s, i) => s + i.amount, 0));
  const fundPaid = round2(amount * 0.8);
  const [, last] = serviceSpan(merged);
  return Claim.parse({
    ...merged,
    totals: patch.totals ?? { amount, fundPaid, selfPaid: round2(amount - fundPaid) },
    submittedAt: patch.submittedAt ?? `${last}T18:00:00Z`,
  });
}
