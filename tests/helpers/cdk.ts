import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** cdk-nag's AwsSolutions findings in `scope`, one line each (rule: description). */
export function nagViolations(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  const violations = report.violations.map((v) => `${v.ruleName}: ${v.description}`);
  if (!report.success && !violations.length) violations.push('cdk-nag failed without naming a violation');
  return violations;
}

/** Every rule acknowledged in `scope`, with the reason written for it: [rule id, reason]. */
export function acknowledgedRules(scope: IConstruct): [string, string][] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.entries(m.data as Record<string, string>));
}
