import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { REFERENCE_FILES } from '../catalogue/index.ts';
import { indexOf } from '../resources.ts';
import { contentVersion, type RuleSetContent } from '../rules/content.ts';

/** Largest chunk of gzipped content per item: DynamoDB's item limit is 400 KB, keys and attributes included. */
export const CHUNK_BYTES = 256 * 1024;
/** The pointer item's partition key; never a content hash (those start `rs-`). */
export const ACTIVE_KEY = '@active';
const LISTING = 'versions';
const byPublishedAt = indexOf('ruleSets', 'byPublishedAt');

/** What `rules versions` lists: who published a version, when and why. */
export const RuleSetManifest = z.strictObject({
  version: z.string().regex(/^rs-[0-9a-f]{16}$/),
  part: z.literal('manifest'),
  listing: z.literal(LISTING),
  publishedAt: z.iso.datetime(),
  author: z.string().min(1),
  message: z.string(),
  ruleIds: z.array(z.string()),
  exemptions: z.number().int().nonnegative(),
  chunks: z.number().int().positive(),
  bytes: z.number().int().positive(),
});
export type RuleSetManifest = z.infer<typeof RuleSetManifest>;

export const ActivePointer = z.strictObject({
  version: z.literal(ACTIVE_KEY),
  part: z.literal('pointer'),
  active: z.string().min(1),
  activatedAt: z.iso.datetime(),
  activatedBy: z.string().min(1),
});
export type ActivePointer = z.infer<typeof ActivePointer>;

const Content = z.strictObject({
  rules: z.record(z.string(), z.string()),
  exemptions: z.record(z.string(), z.string()),
  catalogue: z.strictObject({ 'knowledge-points.json': z.string(), 'rule-classes.json': z.string() }),
  reference: z.record(z.enum(REFERENCE_FILES), z.string()),
  policy: z.record(z.string(), z.string()),
  period: z.record(z.string(), z.string()),
});

/** A stored version that cannot be used: missing parts, not decodable, or content that no longer hashes to its name. */
export class StoredRuleSetError extends Error {
  override readonly name = 'StoredRuleSetError';
  constructor(
    readonly version: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`rule set ${version}: ${reason}`, options);
  }
}

const chunkKey = (i: number): string => `chunk#${String(i).padStart(3, '0')}`;

/**
 * The versions table (src/resources.ts `ruleSets`): immutable versions written once, and the
 * active pointer. The same code runs against DynamoDB Local and AWS.
 */
export class RuleSetVersions {
  constructor(
    readonly documents: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /**
   * Stores `content` as a new version, chunks first and the manifest last (a version is listed
   * only once it is whole). When that content is already published, writes nothing and returns
   * its manifest with `created: false`. Validating the content is the caller's job (`rules publish`).
   */
  async put(
    content: RuleSetContent,
    meta: { author: string; message: string; now: Date; ruleIds: readonly string[] },
  ): Promise<{ manifest: RuleSetManifest; created: boolean }> {
    const version = contentVersion(content);
    const existing = await this.manifest(version);
    if (existing) return { manifest: existing, created: false };
    const blob = gzipSync(JSON.stringify(content));
    const chunks: Buffer[] = [];
    for (let at = 0; at < blob.length; at += CHUNK_BYTES) chunks.push(blob.subarray(at, at + CHUNK_BYTES));
    for (const [i, data] of chunks.entries()) {
      await this.documents.send(
        new PutCommand({ TableName: this.table, Item: { version, part: chunkKey(i), data } }),
      );
    }
    const manifest: RuleSetManifest = {
      version,
      part: 'manifest',
      listing: LISTING,
      publishedAt: meta.now.toISOString(),
      author: meta.author,
      message: meta.message,
      ruleIds: [...meta.ruleIds].sort(),
      exemptions: Object.keys(content.exemptions).length,
      chunks: chunks.length,
      bytes: blob.length,
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: manifest,
          // Immutable: a manifest is never overwritten, even by a racing publish of the same content.
          ConditionExpression: 'attribute_not_exists(version)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { manifest: (await this.manifest(version)) ?? manifest, created: false };
    }
    return { manifest, created: true };
  }

  async manifest(version: string): Promise<RuleSetManifest | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { version, part: 'manifest' }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = RuleSetManifest.safeParse(Item);
    if (!parsed.success) throw new StoredRuleSetError(version, `manifest: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  /** Every published version, oldest first. */
  async list(): Promise<RuleSetManifest[]> {
    const out: RuleSetManifest[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: byPublishedAt.indexName,
          KeyConditionExpression: '#l = :l',
          ExpressionAttributeNames: { '#l': byPublishedAt.partitionKey.name },
          ExpressionAttributeValues: { ':l': LISTING },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(RuleSetManifest.parse(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** The pointer, read strongly consistent: one small GetItem is the cheap check a running function makes. */
  async active(): Promise<ActivePointer | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.table,
        Key: { version: ACTIVE_KEY, part: 'pointer' },
        ConsistentRead: true,
      }),
    );
    return Item ? ActivePointer.parse(Item) : undefined;
  }

  /** Points running functions at `version`, which must have a manifest. */
  async activate(version: string, by: string, now: Date): Promise<void> {
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: this.table,
              Key: { version, part: 'manifest' },
              ConditionExpression: 'attribute_exists(version)',
            },
          },
          {
            Put: {
              TableName: this.table,
              Item: {
                version: ACTIVE_KEY,
                part: 'pointer',
                active: version,
                activatedAt: now.toISOString(),
                activatedBy: by,
              } satisfies ActivePointer,
            },
          },
        ],
      }),
    );
  }

  /**
   * A version's content, checked: every chunk present, decodable, of the contract's shape, and
   * hashing to the version's name (anything else is tampering or corruption).
   *
   * @throws StoredRuleSetError saying which.
   */
  async content(version: string): Promise<RuleSetContent> {
    const manifest = await this.manifest(version);
    if (!manifest) throw new StoredRuleSetError(version, 'no such version');
    const chunks: Buffer[] = [];
    for (let i = 0; i < manifest.chunks; i++) {
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.table, Key: { version, part: chunkKey(i) }, ConsistentRead: true }),
      );
      const data = Item?.data;
      if (!(data instanceof Uint8Array)) throw new StoredRuleSetError(version, `${chunkKey(i)} is missing`);
      chunks.push(Buffer.from(data));
    }
    let json: unknown;
    try {
      json = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8'));
    } catch (error) {
      throw new StoredRuleSetError(version, `content cannot be decoded (${(error as Error).message})`, {
        cause: error,
      });
    }
    const parsed = Content.safeParse(json);
    if (!parsed.success)
      throw new StoredRuleSetError(version, `content: ${z.prettifyError(parsed.error)}`, {
        cause: parsed.error,
      });
    const hash = contentVersion(parsed.data);
    if (hash !== version)
      throw new StoredRuleSetError(
        version,
        `content hashes to ${hash}, not to its version: altered after publishing`,
      );
    return parsed.data;
  }
}
