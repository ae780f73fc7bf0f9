import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * The HMAC key of an API's listing cursors (src/api/cursor.ts): a generated Secrets Manager secret,
 * `<name>CursorSecret` in `scope`. CloudFormation resolves it into the function's `CURSOR_SECRET`
 * at deploy time (a dynamic reference, never in the template), so every instance signs alike.
 */
export function cursorSecret(scope: Construct, name: string): { secret: Secret; value: string } {
  const secret = new Secret(scope, `${name}CursorSecret`, {
    description: 'FundGuard: HMAC key of the API listing cursors',
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
    // A lost key only ends the cursors in flight; a new one is generated with the stack.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Rotating the cursor key would only end the listing cursors in flight (clients start the listing ' +
      'again); it is rotated by replacing the secret, no rotation Lambda is worth that.',
  });
  return { secret, value: secret.secretValue.unsafeUnwrap() };
}
