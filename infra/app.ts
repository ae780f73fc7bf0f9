import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FundGuardStack } from './stack.ts';

const app = new App();
const stage: string = app.node.tryGetContext('stage') ?? 'dev';
// Environment-agnostic on purpose: synth needs no account, no lookups and no network.
new FundGuardStack(app, `FundGuard-${stage}`, {
  stage,
  inProcessEntry: app.node.tryGetContext('inProcessEntry'),
  description: `FundGuard (${stage}): claims supervision pipeline`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
