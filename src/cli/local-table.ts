import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { UsageError } from './usage.ts';

/**
 * The DynamoDB table a command works on: its name from `envName` in the environment (AWS, or any
 * endpoint the SDK's `AWS_ENDPOINT_URL_DYNAMODB` names), else from the local stack's
 * `.fundguard/local.json` (what `npm start` writes: where DynamoDB is and the tables' names).
 */
export function commandTable(
  table: 'flags' | 'ruleSets',
  envName: string,
  what: string,
  env: NodeJS.ProcessEnv,
  stateDir: string,
): { client: DynamoDBClient; table: string } {
  const named = env[envName];
  if (named) return { client: new DynamoDBClient({}), table: named };
  const localFile = join(stateDir, 'local.json');
  if (!existsSync(localFile))
    throw new UsageError(
      `no ${what}: start the local stack (npm start writes ${localFile}) or set ${envName}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(localFile, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `${localFile}: not JSON (${(error as Error).message}); restart npm start to rewrite it`,
    );
  }
  const parsed = z
    .object({
      region: z.string(),
      endpoints: z.object({ dynamodb: z.url() }),
      tables: z.object({ [table]: z.string().min(1) }),
    })
    .safeParse(json);
  if (!parsed.success)
    throw new UsageError(`${localFile}: ${z.prettifyError(parsed.error)} (restart npm start to rewrite it)`);
  const local = parsed.data;
  return {
    table: local.tables[table] as string,
    client: new DynamoDBClient({
      region: local.region,
      endpoint: local.endpoints.dynamodb,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  };
}
