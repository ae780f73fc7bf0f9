/**
 * The one source of truth for FundGuard's tables and queues. The CDK stack (infra/) and the local
 * stack (src/local/) both create them from these definitions, and the code addresses them by
 * these logical names, so a key or index is never spelled twice.
 */

export type KeyType = 'S' | 'N';
export interface KeyDef {
  name: string;
  type: KeyType;
}
export interface IndexDef {
  indexName: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  /**
   * What the index copies of each item: every attribute (the default), or only the keys, where
   * readers fetch the items themselves and every write should not pay for a second full copy.
   */
  projection?: 'ALL' | 'KEYS_ONLY';
}
export interface TableDef {
  /** Logical name; the physical name gets a stack/stage prefix. */
  name: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  indexes: IndexDef[];
  /** Attribute holding an epoch-seconds expiry, where items age out. */
  ttlAttribute?: string;
  /** Why the table exists, for docs and the CDK description. */
  purpose: string;
}

const S = (name: string): KeyDef => ({ name, type: 'S' });

export const TABLES = {
  /**
   * Claims history. pk `insuredId`, sk `firstServiceDate#claimId`: a patient's claims by service date
   * for history facts. GSI byHospitalPeriod: a hospital's claims by month, for post-event audits;
   * keys only, since every settled claim writes it and a full copy doubled the item's write cost
   * (docs/in-process.md, "Where a claim's CPU goes").
   */
  claims: {
    name: 'claims',
    partitionKey: S('insuredId'),
    sortKey: S('sk'),
    indexes: [
      {
        indexName: 'byHospitalPeriod',
        partitionKey: S('hospitalPeriod'),
        sortKey: S('claimId'),
        projection: 'KEYS_ONLY',
      },
    ],
    purpose: "Settled claims in compact form: a patient's history and a hospital's period",
  },
  /** One decision per claim (pass / hold / reject lines). pk `claimId`. */
  decisions: {
    name: 'decisions',
    partitionKey: S('claimId'),
    indexes: [],
    purpose: 'The in-process decision for each claim',
  },
  /**
   * Flags. pk `flagId` (deterministic, so a redelivered claim cannot add a second one).
   * GSIs: by claim; by hospital and time (hospital alerts); open ones by status (the review queue);
   * by rule (rule authors and backtests).
   */
  flags: {
    name: 'flags',
    partitionKey: S('flagId'),
    indexes: [
      { indexName: 'byClaim', partitionKey: S('claimId'), sortKey: S('flagId') },
      { indexName: 'byHospital', partitionKey: S('hospitalId'), sortKey: S('createdAtFlagId') },
      { indexName: 'byStatus', partitionKey: S('status'), sortKey: S('createdAtFlagId') },
      { indexName: 'byRule', partitionKey: S('ruleId'), sortKey: S('createdAtFlagId') },
      // The review API's filters (docs/review.md): each key filter of a listing has its index.
      { indexName: 'byDoctor', partitionKey: S('doctorId'), sortKey: S('createdAtFlagId') },
      { indexName: 'byRuleClass', partitionKey: S('ruleClass'), sortKey: S('createdAtFlagId') },
      { indexName: 'byMonth', partitionKey: S('createdMonth'), sortKey: S('createdAtFlagId') },
      { indexName: 'byStatusEntered', partitionKey: S('status'), sortKey: S('enteredAtFlagId') },
    ],
    purpose: 'Flags raised by every stage, with their review state',
  },
  /** Cost-quality scores. pk `subject` (`hospital#H-…` or `doctor#D-…`), sk `period` (YYYY-MM). */
  scores: {
    name: 'scores',
    partitionKey: S('subject'),
    sortKey: S('period'),
    // Every subject of one period: peers on the scorecard, a hospital's doctors.
    indexes: [{ indexName: 'byPeriod', partitionKey: S('period'), sortKey: S('subject') }],
    purpose: 'Cost-quality scores per hospital and doctor per period',
  },
  /**
   * Published rule sets, immutable. pk `version` (the content hash, `rs-…`), sk `part`: a
   * `manifest` (author, time, changelog, size) and the content gzipped in `chunk#NNN` items of at
   * most 256 KiB (DynamoDB items are 400 KB at most; the catalogue alone is ~3 MB as JSON). The
   * item `version = "@active"`, `part = "pointer"` names the version running functions load.
   * GSI byPublishedAt: manifests only (sparse on `listing`), newest last, for `rules versions`.
   */
  ruleSets: {
    name: 'rule-sets',
    partitionKey: S('version'),
    sortKey: S('part'),
    indexes: [{ indexName: 'byPublishedAt', partitionKey: S('listing'), sortKey: S('publishedAt') }],
    purpose: 'Published, content-hashed rule set versions and the active pointer',
  },
  /** Powertools idempotency records: pk `id`, expiring by `expiration`. */
  idempotency: {
    name: 'idempotency',
    partitionKey: S('id'),
    indexes: [],
    ttlAttribute: 'expiration',
    purpose: 'Powertools idempotency records for claim processing',
  },
} as const satisfies Record<string, TableDef>;

export type TableName = keyof typeof TABLES;

export interface QueueDef {
  /** Logical name; a FIFO queue's ends in `.fifo`, as SQS requires. */
  name: string;
  /**
   * FIFO: messages of one group (for claims, one patient) are delivered in order and never two
   * batches of a group at once; deduplication by content (docs/in-process.md).
   */
  fifo?: boolean;
  /** Seconds a received message stays invisible; longer than the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Seconds a message (or a dead letter) is kept. */
  retentionSeconds: number;
  /** How a function consumes the queue, where one does: the CDK event source and the local poller. */
  eventSource?: EventSourceDef;
  purpose: string;
}

export interface EventSourceDef {
  /** Messages per invocation (SQS allows 10 without a batching window; the local poller receives 10 at most). */
  batchSize: number;
  /** Seconds the event source waits to fill a batch. */
  maxBatchingWindowSeconds: number;
  /** Concurrent invocations at most, in AWS; it bounds the write rate and the alerts a burst raises at once. */
  maxConcurrency: number;
}

export const QUEUES = {
  /**
   * Settled claims, one Claim v1 JSON per message, consumed by the in-process function. FIFO with
   * the patient as message group (src/pipeline/claims-queue.ts): a patient's claims are decided one
   * after another, in the order sent. Lambda allows no batching window on a FIFO source.
   */
  claims: {
    name: 'claims.fifo',
    fifo: true,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 3,
    retentionSeconds: 4 * 24 * 3600,
    eventSource: { batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 20 },
    purpose: 'Settled claims for in-process controls',
  },
  /** One alert per flagged claim, for the hospital's systems (attributes: hospitalId, severity). */
  alerts: {
    name: 'alerts',
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    retentionSeconds: 4 * 24 * 3600,
    purpose: 'Real-time alerts to hospitals',
  },
} as const satisfies Record<string, QueueDef>;

export type QueueName = keyof typeof QUEUES;

/** Every queue has a dead-letter queue named after it; dead letters are kept for 14 days. */
export const deadLetterQueueName = (queue: QueueName): string => {
  const def: QueueDef = QUEUES[queue];
  // A FIFO queue's dead letters go to a FIFO queue, whose name must end in `.fifo` too.
  return def.fifo ? `${def.name.replace(/\.fifo$/, '')}-dlq.fifo` : `${def.name}-dlq`;
};
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/** Physical names: `fundguard-<stage>-<logical>`, the same in AWS and on loopback. */
export const physicalName = (stage: string, logical: string): string => `fundguard-${stage}-${logical}`;

/** An index of a table by its name; the name is checked against the definitions at compile time. */
export function indexOf<T extends TableName>(
  table: T,
  indexName: (typeof TABLES)[T]['indexes'][number]['indexName'],
): Required<IndexDef> {
  const found = (TABLES[table].indexes as readonly IndexDef[]).find((i) => i.indexName === indexName);
  if (!found?.sortKey) throw new Error(`src/resources.ts defines no sorted index ${indexName} on ${table}`);
  return found as Required<IndexDef>;
}
