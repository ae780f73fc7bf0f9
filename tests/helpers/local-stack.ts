import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Flag } from '../../src/contracts/flag.ts';
import { parseContract } from '../../src/contracts/issues.ts';
import { type LocalServices, localClientConfig, startLocalServices } from '../../src/local/emulators.ts';
import { applyEnvironment, lambdaEnvironment } from '../../src/local/lambda-env.ts';
import { createResources, type LocalResources, type QueueOverrides } from '../../src/local/provisioning.ts';
import { documentClient } from '../../src/stores/dynamo.ts';

/** DynamoDB Local and local SQS for one test file, with clients; `stop()` ends them (the JVM included). */
export interface TestStack {
  services: LocalServices;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** The tables and queues of src/resources.ts under `stage`, queues shortened by `queues`. */
  provision(stage: string, queues?: QueueOverrides): Promise<LocalResources>;
  /**
   * Sets the environment the in-process function reads for `resources` (src/config.ts), quiet:
   * no metrics, errors only in the logs. Import a function module after it.
   */
  configureFunctions(resources: LocalResources): void;
  stop(): Promise<void>;
}

export async function startTestStack(): Promise<TestStack> {
  const services = await startLocalServices();
  const dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  const sqs = new SQSClient(localClientConfig(services.endpoints.sqs));
  return {
    services,
    dynamodb,
    documents: documentClient(dynamodb),
    sqs,
    provision: (stage, queues) =>
      createResources(services.endpoints, stage, { dynamodb, sqs, ...(queues ? { queues } : {}) }),
    configureFunctions: (resources) =>
      applyEnvironment({
        ...lambdaEnvironment(services.endpoints, resources),
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      }),
    stop: async () => {
      sqs.destroy();
      dynamodb.destroy();
      await services.stop();
    },
  };
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every item of a table, unmarshalled. */
export async function scan(client: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A stored flag item as the Flag contract: the index keys the store adds, and any review state, are not part of it. */
export function storedFlag(item: Record<string, unknown>): Flag {
  const flag = Object.fromEntries(Object.entries(item).filter(([name]) => name in Flag.shape));
  return parseContract(Flag, 'stored flag', flag);
}
