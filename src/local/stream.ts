import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { claimEntry } from '../pipeline/claims-queue.ts';

export interface SentMessage {
  messageId: string;
  /** `performance.now()` when SQS accepted it. */
  sentAt: number;
}

export interface StreamOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Message bodies in the order to send (a stream of claims, poison included). */
  bodies: readonly string[];
  /** Messages per second; 0 sends as fast as SQS takes them. */
  rate: number;
  onSent?: (sent: readonly SentMessage[], indexes: readonly number[]) => void;
  /** Checked between ticks; true stops the stream early (Ctrl-C). */
  stopped?: () => boolean;
}

const TICK_MS = 100;
const BATCH = 10;

/**
 * Sends `bodies` to the queue at `rate` per second in ticks of 100 ms, ten to a SendMessageBatch
 * call, in order: a patient's earlier claim leaves before the later one. Resolves with each
 * message's id in body order. Throws if SQS refuses a message, so a stream never loses one quietly.
 */
export async function sendStream(options: StreamOptions): Promise<SentMessage[]> {
  const { sqs, queueUrl, bodies, rate } = options;
  const sent: SentMessage[] = new Array(bodies.length);
  const perTick = rate > 0 ? Math.max(1, Math.round((rate * TICK_MS) / 1000)) : BATCH * 8;
  const started = performance.now();
  let next = 0;
  for (let tick = 0; next < bodies.length && !options.stopped?.(); tick++) {
    const end = Math.min(bodies.length, next + perTick);
    const calls: Promise<void>[] = [];
    for (let from = next; from < end; from += BATCH) {
      const indexes = Array.from({ length: Math.min(BATCH, end - from) }, (_, k) => from + k);
      calls.push(sendBatch(sqs, queueUrl, bodies, indexes, sent, options.onSent));
    }
    await Promise.all(calls);
    next = end;
    if (rate > 0) {
      const due = started + (tick + 1) * TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  return sent.slice(0, next);
}

async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  indexes: number[],
  sent: SentMessage[],
  onSent: StreamOptions['onSent'],
): Promise<void> {
  const { Successful = [], Failed = [] } = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: indexes.map((i) => claimEntry(String(i), bodies[i] ?? '')),
    }),
  );
  if (Failed.length) {
    throw new Error(
      `SQS refused ${Failed.length} message(s): ${Failed.map((f) => `${f.Id}: ${f.Code} ${f.Message ?? ''}`).join('; ')}`,
    );
  }
  const sentAt = performance.now();
  const batch: SentMessage[] = [];
  for (const entry of Successful) {
    const message = { messageId: entry.MessageId ?? '', sentAt };
    sent[Number(entry.Id)] = message;
    batch.push(message);
  }
  onSent?.(
    batch,
    Successful.map((e) => Number(e.Id)),
  );
}
