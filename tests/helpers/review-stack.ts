/** The local stack with the review API on it, for the review integration and browser tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type LocalServices, localClientConfig, startLocalServices } from '../../src/local/emulators.ts';
import { createResources, type LocalResources } from '../../src/local/provisioning.ts';
import { type LocalReview, startLocalReview } from '../../src/local/review-server.ts';
import type { TokenEntry } from '../../src/review/identity.ts';

export interface ReviewStack {
  services: LocalServices;
  resources: LocalResources;
  documents: DynamoDBDocumentClient;
  review: LocalReview;
  /** What the API logged as its own faults: tests expect none. */
  faults: Record<string, unknown>[];
  token(actorId: string): string;
  /** The token of a hospital's account. */
  hospitalToken(hospitalId: string): string;
  stop(): Promise<void>;
}

export async function startReviewStack(stage: string, now?: () => Date): Promise<ReviewStack> {
  const services = await startLocalServices();
  const resources = await createResources(services.endpoints, stage);
  const dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'fundguard-review-'));
  const faults: Record<string, unknown>[] = [];
  const review = await startLocalReview({
    endpoints: services.endpoints,
    tables: resources.tables,
    stateDir,
    logger: { error: (message, attributes) => faults.push({ message, ...attributes }), debug: () => {} },
    ...(now ? { now } : {}),
  });
  const find = (predicate: (t: TokenEntry) => boolean, what: string): string => {
    const entry = review.tokens.find(predicate);
    if (!entry) throw new Error(`no local token for ${what}`);
    return entry.token;
  };
  return {
    services,
    resources,
    documents,
    review,
    faults,
    token: (actorId) => find((t) => t.actorId === actorId, actorId),
    hospitalToken: (hospitalId) => find((t) => t.hospitalId === hospitalId, hospitalId),
    stop: async () => {
      await review.stop();
      dynamodb.destroy();
      await services.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
