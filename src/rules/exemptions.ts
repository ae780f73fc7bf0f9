import { join } from 'node:path';
import type { DraftClaim } from '../contracts/claim.ts';
import { type Exemption, ExemptionFile } from '../contracts/exemption.ts';
import { EXEMPTIONS_DIR } from './content.ts';
import { parseJsonProblems, RuleSetError } from './load.ts';

/**
 * Validate the exemption files (`rules/exemptions/*.json`) against the rule set: schema, ids unique
 * across files, rules that exist. Returns them by rule id.
 *
 * @throws RuleSetError naming the file and path of each problem.
 */
export function parseExemptions(
  files: Record<string, string>,
  where: string,
  ruleIds: ReadonlySet<string>,
): Map<string, Exemption[]> {
  const problems: string[] = [];
  const byRule = new Map<string, Exemption[]>();
  const seen = new Map<string, string>();
  for (const [name, text] of Object.entries(files)) {
    const source = join(where, EXEMPTIONS_DIR, name);
    const file = parseJsonProblems(source, text, ExemptionFile, problems);
    if (file === undefined) continue;
    file.exemptions.forEach((exemption, i) => {
      const other = seen.get(exemption.id);
      if (other) problems.push(`${source}: exemptions[${i}].id: ${exemption.id} is also used in ${other}`);
      seen.set(exemption.id, source);
      if (!ruleIds.has(exemption.ruleId))
        problems.push(`${source}: exemptions[${i}].ruleId: no rule "${exemption.ruleId}" in the set`);
      byRule.set(exemption.ruleId, [...(byRule.get(exemption.ruleId) ?? []), exemption]);
    });
  }
  if (problems.length) throw new RuleSetError(problems);
  return byRule;
}

/**
 * The first of a rule's exemptions that covers a hit: every field of its scope matches (an item
 * code on one of the hit's lines, an ICD-10 prefix on one of the claim's diagnoses) and the hit's
 * service date is on or before its expiry.
 */
export function exemptionFor(
  exemptions: readonly Exemption[],
  claim: DraftClaim,
  lineNos: readonly number[],
  serviceDate: string,
): Exemption | undefined {
  for (const exemption of exemptions) {
    const { scope } = exemption;
    if (serviceDate > exemption.expires) continue;
    if (scope.hospitalId && scope.hospitalId !== claim.hospital.hospitalId) continue;
    if (scope.doctorId && scope.doctorId !== claim.doctorId) continue;
    if (scope.insuredId && scope.insuredId !== claim.patient.insuredId) continue;
    if (scope.itemCode && !claim.items.some((i) => i.code === scope.itemCode && lineNos.includes(i.lineNo)))
      continue;
    const prefix = scope.icd10Prefix;
    if (prefix && !claim.diagnoses.some((d) => d.code.startsWith(prefix))) continue;
    return exemption;
  }
  return undefined;
}
