import type { Message } from '@aws-sdk/client-sqs';

/**
 * Lambda's FIFO event source on one machine. SQS FIFO never hands out a message while an earlier
 * message of its group is in flight; local-aws-sqs does (it orders a group but does not lock it),
 * so the poller holds what it received per group and dispatches a group to one batch at a time,
 * in sequence order. A group whose message failed waits until that message is received again (or,
 * on its last receive, until the queue has moved it to the DLQ), as on AWS.
 */
export class MessageGroups {
  /** Received, not yet dispatched, per group, in sequence order. */
  readonly #held = new Map<string, Message[]>();
  /** Groups with a batch in flight. */
  readonly #busy = new Set<string>();
  /** Groups waiting for a failed message: its id, and when to stop waiting (ms). */
  readonly #blocked = new Map<string, { messageId: string; until: number }>();

  /** Takes received messages; a message received again (visibility expired) replaces its copy. */
  add(messages: readonly Message[]): void {
    for (const message of messages) {
      const group = groupOf(message);
      const block = this.#blocked.get(group);
      if (block?.messageId === message.MessageId) this.#blocked.delete(group);
      const list = (this.#held.get(group) ?? []).filter((m) => m.MessageId !== message.MessageId);
      list.push(message);
      list.sort((a, b) => compareSequence(sequenceOf(a), sequenceOf(b)));
      this.#held.set(group, list);
    }
  }

  /** The next batch: from groups neither in flight nor blocked, each group's messages in order. */
  nextBatch(batchSize: number, now: number): Message[] {
    const batch: Message[] = [];
    for (const [group, list] of this.#held) {
      if (batch.length >= batchSize) break;
      if (this.#busy.has(group) || this.#isBlocked(group, now)) continue;
      const taken = list.splice(0, batchSize - batch.length);
      batch.push(...taken);
      this.#busy.add(group);
      if (!list.length) this.#held.delete(group);
    }
    return batch;
  }

  /**
   * A batch is done. Each failed message blocks its group until it is received again, at the
   * latest `retryAfterMs` from now (its visibility timeout, after which SQS redelivers it or moves
   * it to the DLQ); the messages after it wait, as SQS FIFO keeps them.
   */
  done(
    batch: readonly Message[],
    failed: { ids: ReadonlySet<string>; deadLettered: ReadonlySet<string> },
    now: number,
    retryAfterMs: number,
  ): void {
    for (const message of batch) {
      const group = groupOf(message);
      const id = message.MessageId ?? '';
      this.#busy.delete(group);
      if (!failed.ids.has(id) || this.#blocked.has(group)) continue;
      // A dead-lettered message never comes back: its group moves on once the queue has moved it.
      // Any other comes back after its visibility timeout; the bound only covers one deleted meanwhile.
      const wait = failed.deadLettered.has(id) ? retryAfterMs : 3 * retryAfterMs;
      this.#blocked.set(group, { messageId: id, until: now + wait });
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.#held.values()) n += list.length;
    return n;
  }

  #isBlocked(group: string, now: number): boolean {
    const block = this.#blocked.get(group);
    if (!block) return false;
    if (now < block.until) return true;
    this.#blocked.delete(group);
    return false;
  }
}

export const groupOf = (message: Message): string => message.Attributes?.MessageGroupId ?? '';
const sequenceOf = (message: Message): string => message.Attributes?.SequenceNumber ?? '';

/** SQS sequence numbers are decimal strings of up to 128 digits: compare by length, then text. */
function compareSequence(a: string, b: string): number {
  return a.length - b.length || a.localeCompare(b);
}
