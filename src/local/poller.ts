/**
 * An SQS poller that stands in for Lambda's event source mapping on one machine: it receives
 * batches, hands them to the handler as a real `SQSEvent`, deletes what succeeded and leaves the
 * rest to reappear after the visibility timeout, so the queue's redrive policy sends a message
 * that keeps failing to its dead-letter queue.
 *
 * Redrive itself is the queue's: local-aws-sqs implements RedrivePolicy natively, moving a
 * message to the DLQ when the visibility timeout of its maxReceiveCount-th receive expires. The
 * poller only counts the failures that will be dead-lettered that way.
 *
 * On a FIFO queue (the claims queue) it plays Lambda's FIFO source: one batch per message group
 * at a time, in order, a failed message holding back the rest of its group (src/local/fifo-groups.ts),
 * which local-aws-sqs itself does not enforce.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { z } from 'zod';
import { parseJsonContract } from '../contracts/issues.ts';
import { type EventSourceDef, QUEUES } from '../resources.ts';
import { LOCAL_REGION } from './emulators.ts';
import { LocalServiceError } from './errors.ts';
import { MessageGroups } from './fifo-groups.ts';
import { lambdaContext } from './lambda-context.ts';

// biome-ignore lint/suspicious/noConfusingVoidType: the contract of aws-lambda's SQSHandler, which may return nothing
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerCounters {
  /** Messages handed to the handler (a redelivery counts again). */
  received: number;
  /** Messages that succeeded and were deleted. */
  succeeded: number;
  /** Messages reported in batchItemFailures or in a batch whose handler threw. */
  failed: number;
  /** Failed messages on their last allowed receive, which the queue moves to its DLQ. */
  deadLettered: number;
  /** Handler invocations that threw (every message of the batch failed). */
  handlerErrors: number;
}

export interface BatchOutcome {
  messageIds: string[];
  failedMessageIds: string[];
  deadLetteredMessageIds: string[];
  /** Set when the handler threw or returned an invalid response. */
  error?: Error;
}

export interface PollerLogger {
  warn(message: string, ...extra: unknown[]): void;
}

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /**
   * Batch size and batching window as the CDK event source has them; default the claims queue's
   * (src/resources.ts). A batch is one ReceiveMessage, so 1–10 (Lambda's larger batches are not
   * emulated); the window is how long a receive waits to fill it (local-aws-sqs answers when the
   * batch is full or the wait is over), always kept below the visibility timeout (see
   * {@link receiveWaitSeconds}). Lambda's maximum concurrency is `concurrency` here.
   */
  eventSource?: Pick<EventSourceDef, 'batchSize' | 'maxBatchingWindowSeconds'>;
  /** Concurrent receivers, each with at most one batch in flight. Default 5, as Lambda starts with. */
  concurrency?: number;
  functionName?: string;
  /** The handler's time budget reported by `context.getRemainingTimeInMillis()`; default the visibility timeout. */
  timeoutMs?: number;
  /** Called after each batch, for progress and tests. */
  onBatch?: (outcome: BatchOutcome) => void;
  logger?: PollerLogger;
}

export interface Poller {
  /** A snapshot of the counters so far. */
  readonly counters: Readonly<PollerCounters>;
  /** Stops receiving and resolves once in-flight receives and batches are done (and deleted). */
  stop(): Promise<void>;
}

interface BatchFailures {
  ids: Set<string>;
  deadLettered: Set<string>;
}

interface QueueSettings {
  arn: string;
  /** A FIFO queue: batches are formed per message group (src/local/fifo-groups.ts). */
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  /** Undefined without a redrive policy: then nothing is ever dead-lettered. */
  maxReceiveCount: number | undefined;
}

/** Reads the queue's settings, then starts the receivers. */
export async function startPoller(options: PollerOptions): Promise<Poller> {
  const { batchSize, maxBatchingWindowSeconds } = options.eventSource ?? QUEUES.claims.eventSource;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new RangeError(`batchSize must be an integer from 1 to 10, got ${batchSize}`);
  }
  const concurrency = options.concurrency ?? 5;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const queue = await readQueueSettings(options.sqs, options.queueUrl);
  const waitSeconds = receiveWaitSeconds(maxBatchingWindowSeconds, queue.visibilityTimeoutSeconds);
  const logger = options.logger ?? console;
  const counters: PollerCounters = {
    received: 0,
    succeeded: 0,
    failed: 0,
    deadLettered: 0,
    handlerErrors: 0,
  };
  let running = true;

  const receiveLoop = async (): Promise<void> => {
    while (running) {
      const messages = await receive(options, batchSize, waitSeconds);
      if (!messages) continue;
      // Even when stopping, a received batch is processed: dropping it would hide its messages for
      // a visibility timeout and spend one of their receives.
      if (messages.length > 0) await processBatch(messages);
    }
  };

  const processBatch = async (messages: Message[]): Promise<BatchFailures> => {
    const records = messages.map((message) => toRecord(message, queue.arn));
    counters.received += records.length;
    const failedIds = new Set<string>();
    let error: Error | undefined;
    try {
      const response = await options.handler({ Records: records }, contextFor(options, queue));
      for (const id of failedItemIds(response, records)) failedIds.add(id);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (!(thrown instanceof InvalidBatchResponseError)) counters.handlerErrors++;
      for (const record of records) failedIds.add(record.messageId);
      logger.warn('poller: batch failed as a whole; every message will be retried', {
        queueUrl: options.queueUrl,
        messages: records.length,
        error,
      });
    }
    const succeeded = records.filter((r) => !failedIds.has(r.messageId));
    const failed = records.filter((r) => failedIds.has(r.messageId));
    const deadLettered = failed.filter(
      (r) =>
        queue.maxReceiveCount !== undefined &&
        Number(r.attributes.ApproximateReceiveCount) >= queue.maxReceiveCount,
    );
    await deleteMessages(succeeded);
    counters.succeeded += succeeded.length;
    counters.failed += failed.length;
    counters.deadLettered += deadLettered.length;
    options.onBatch?.({
      messageIds: records.map((r) => r.messageId),
      failedMessageIds: failed.map((r) => r.messageId),
      deadLetteredMessageIds: deadLettered.map((r) => r.messageId),
      ...(error ? { error } : {}),
    });
    return { ids: failedIds, deadLettered: new Set(deadLettered.map((r) => r.messageId)) };
  };

  const deleteMessages = async (records: SQSRecord[]): Promise<void> => {
    if (records.length === 0) return;
    try {
      const { Failed } = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (Failed?.length) {
        logger.warn('poller: some processed messages could not be deleted and will be redelivered', {
          queueUrl: options.queueUrl,
          failed: Failed,
        });
      }
    } catch (error) {
      // As in Lambda, a failed delete means at-least-once: the handler sees the message again.
      logger.warn('poller: DeleteMessageBatch failed; processed messages will be redelivered', {
        queueUrl: options.queueUrl,
        error,
      });
    }
  };

  /**
   * FIFO: one receiver feeds the message groups; up to `concurrency` batches run at once, never
   * two of one group (see MessageGroups). It receives only while the held messages fit in the
   * batches it can run, so a message waits for dispatch far less than its visibility timeout:
   * local-aws-sqs counts ChangeMessageVisibility as a receive, so visibility is never renewed.
   */
  const fifoLoop = async (): Promise<void> => {
    const groups = new MessageGroups();
    const inFlight = new Set<Promise<void>>();
    const visibilityMs = queue.visibilityTimeoutSeconds * 1_000;
    const dispatch = () => {
      while (inFlight.size < concurrency) {
        const batch = groups.nextBatch(batchSize, Date.now());
        if (!batch.length) return;
        const run: Promise<void> = processBatch(batch).then((failed) => {
          groups.done(batch, failed, Date.now(), visibilityMs);
          inFlight.delete(run);
          dispatch();
        });
        inFlight.add(run);
      }
    };
    while (running) {
      dispatch();
      if (groups.size >= batchSize * concurrency) {
        await Promise.race([...inFlight, sleep(50)]);
        continue;
      }
      const idle = inFlight.size === 0 && groups.size === 0;
      const messages = await receive(
        options,
        10,
        idle ? receiveWaitSeconds(1, queue.visibilityTimeoutSeconds) : 0,
      );
      if (!messages) continue;
      groups.add(messages);
      // Blocked groups unblock with time, not with a receive: look again soon.
      if (!messages.length) await sleep(20);
    }
    // As the standard loop does with a received batch: what was received is processed, not dropped.
    for (dispatch(); inFlight.size; dispatch()) await Promise.race(inFlight);
  };

  const loops = queue.fifo ? [fifoLoop()] : Array.from({ length: concurrency }, () => receiveLoop());
  let stopped: Promise<void> | undefined;
  return {
    get counters() {
      return { ...counters };
    },
    stop() {
      running = false;
      stopped ??= Promise.all(loops).then(() => undefined);
      return stopped;
    },
  };
}

/**
 * The receive wait, kept below the visibility timeout: local-aws-sqs returns the same message
 * twice from one receive if it becomes visible again while the receive is still waiting.
 */
export function receiveWaitSeconds(batchingWindowSeconds: number, visibilityTimeoutSeconds: number): number {
  return Math.max(0, Math.min(Math.floor(batchingWindowSeconds), visibilityTimeoutSeconds - 1));
}

/** SQS's RedrivePolicy attribute (JSON); AWS writes maxReceiveCount as a string, local-aws-sqs as a number. */
/** One ReceiveMessage with every attribute; undefined (logged, after a second's pause) when it fails. */
async function receive(
  options: PollerOptions,
  maxMessages: number,
  waitSeconds: number,
): Promise<Message[] | undefined> {
  try {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        // local-aws-sqs reads only the deprecated AttributeNames; AWS accepts both.
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return received.Messages ?? [];
  } catch (error) {
    (options.logger ?? console).warn('poller: ReceiveMessage failed; retrying in 1 s', {
      queueUrl: options.queueUrl,
      error,
    });
    await sleep(1_000);
    return undefined;
  }
}

const Redrive = z.looseObject({ maxReceiveCount: z.coerce.number().int().positive() });

async function readQueueSettings(sqs: SQSClient, queueUrl: string): Promise<QueueSettings> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['QueueArn', 'VisibilityTimeout', 'RedrivePolicy', 'FifoQueue'],
    }),
  );
  const { QueueArn, VisibilityTimeout, RedrivePolicy, FifoQueue } = Attributes;
  if (!QueueArn || !VisibilityTimeout) {
    throw new LocalServiceError(`queue ${queueUrl} did not report its ARN and visibility timeout`);
  }
  const redrive = RedrivePolicy ? parseJsonContract(Redrive, 'redrive policy', RedrivePolicy) : undefined;
  return {
    arn: QueueArn,
    fifo: FifoQueue === 'true' || queueUrl.endsWith('.fifo'),
    visibilityTimeoutSeconds: Number(VisibilityTimeout),
    maxReceiveCount: redrive?.maxReceiveCount,
  };
}

/** The handler's answer is malformed; Lambda then treats the whole batch as failed, and so do we. */
class InvalidBatchResponseError extends LocalServiceError {
  override readonly name = 'InvalidBatchResponseError';
}

function failedItemIds(response: unknown, records: SQSRecord[]): string[] {
  if (response === undefined || response === null) return [];
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) throw new InvalidBatchResponseError('batchItemFailures is not an array');
  const ids = new Set(records.map((r) => r.messageId));
  return failures.map((failure: { itemIdentifier?: unknown }) => {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) {
      throw new InvalidBatchResponseError(`batchItemFailures names ${String(id)}, which is not in the batch`);
    }
    return id;
  });
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = (message.Attributes ?? {}) as Record<string, string | undefined>;
  const recordAttributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? '',
    SenderId: attributes.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
  };
  for (const name of [
    'AWSTraceHeader',
    'SequenceNumber',
    'MessageGroupId',
    'MessageDeduplicationId',
    'DeadLetterQueueSourceArn',
  ] as const) {
    const value = attributes[name];
    if (value !== undefined) recordAttributes[name] = value;
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: recordAttributes,
    messageAttributes: toMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] || LOCAL_REGION,
  };
}

/** Lambda's spelling: camel-case keys, binary values base64, empty list values. */
function toMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
    };
  }
  return result;
}

function contextFor(options: PollerOptions, queue: QueueSettings): Context {
  const timeoutMs = options.timeoutMs ?? queue.visibilityTimeoutSeconds * 1_000;
  return lambdaContext(options.functionName ?? 'fundguard-local', timeoutMs, queue.arn.split(':')[4]);
}
