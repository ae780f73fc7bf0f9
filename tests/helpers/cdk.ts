import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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

export interface Synthesized<S extends Stack> {
  stack: S;
  template: Template;
  /** The cloud assembly directory (bundles are here); the test file removes it after its tests. */
  outdir: string;
}

/** Synthesises the stack `build` makes into a fresh temporary cloud assembly directory. */
export function synthesize<S extends Stack>(
  prefix: string,
  build: (app: App, outdir: string) => S,
): Synthesized<S> {
  const outdir = mkdtempSync(join(tmpdir(), prefix));
  const app = new App({ outdir });
  const stack = build(app, outdir);
  return { stack, template: Template.fromJSON(app.synth().getStackByName(stack.stackName).template), outdir };
}

/** The logical id a construct's CloudFormation resource has in `stack`'s template. */
export const logicalIdIn = (stack: Stack) => (construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** `Fn::GetAtt [id, Arn]` of a construct's resource, as the template references it. */
export const arnIn = (stack: Stack) => (construct: IConstruct) => ({
  'Fn::GetAtt': [logicalIdIn(stack)(construct), 'Arn'],
});
