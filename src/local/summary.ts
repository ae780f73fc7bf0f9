import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { compareWithTruth, formatTruthComparison, ScreeningSummary } from '../cli/summary.ts';
import { HospitalAlertMessage } from '../contracts/alert.ts';
import { parseJsonContract } from '../contracts/issues.ts';
import type { InjectedViolation } from '../generator/claims.ts';
import type { PollerCounters } from './poller.ts';

/** The in-process handler's log entry for a claim that failed (functions/in-process.ts), with its reason. */
const FailedClaimLog = z.looseObject({ message: z.literal('claim failed'), reason: z.string().min(1) });

/** Items in a table (the decisions table, for the loss check): a paginated COUNT scan. */
export async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** Messages waiting in a queue (the DLQ's depth, for the summary and the loss check). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * What the demo shows while it runs. Decisions and flags are counted from the hospital alerts
 * queue, as a hospital would see them, and passes from the poller: the summary reads the pipeline's
 * outputs, not its internals.
 */
export class LiveSummary {
  readonly alerted = new ScreeningSummary();
  readonly #reasons = new Map<string, number>();
  readonly #flags = new Map<
    string,
    { claimId: string; ruleId: string; lineNos: number[]; ruleClass: string }
  >();
  #total = 0;
  #sent = 0;
  #started = performance.now();

  start(total: number): void {
    this.#total = total;
    this.#started = performance.now();
  }

  sent(n: number): void {
    this.#sent += n;
  }

  get sentCount(): number {
    return this.#sent;
  }

  addAlert(alert: HospitalAlertMessage): void {
    this.alerted.addClaim(alert.outcome, alert.flags);
    // By flag id: what the hospitals were told, each flag once, for the comparison with the truth.
    for (const flag of alert.flags)
      this.#flags.set(flag.flagId, {
        claimId: alert.claimId,
        ruleId: flag.ruleId,
        lineNos: flag.lineNos,
        ruleClass: flag.basis.ruleClass,
      });
  }

  /** A handler log line (Powertools JSON); failed claims' reasons are kept for the report. */
  noteLog(text: string): void {
    if (!text.includes('claim failed')) return;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch (error) {
      // A log line that is not one JSON document (the logger split it) carries no reason to count.
      if (error instanceof SyntaxError) return;
      throw error;
    }
    const failed = FailedClaimLog.safeParse(entry);
    if (failed.success)
      this.#reasons.set(failed.data.reason, (this.#reasons.get(failed.data.reason) ?? 0) + 1);
  }

  progressLine(counters: PollerCounters, dlq: number): string {
    const seconds = (performance.now() - this.#started) / 1000;
    const { decisions } = this.alerted;
    return [
      `[${seconds.toFixed(0).padStart(3)}s] sent ${this.#sent}/${this.#total}`,
      `decided ${counters.succeeded} (${Math.round(counters.succeeded / Math.max(seconds, 1e-9))}/s)`,
      `hold ${decisions.hold} reject ${decisions.reject}`,
      `flags ${this.alerted.flagCount}`,
      `at risk ${this.alerted.amountAtRisk.toFixed(2)} 元`,
      `retries ${counters.failed}`,
      `DLQ ${dlq}`,
    ].join(' · ');
  }

  /**
   * `queued`: messages left in the claims queue, which only an interrupted demo has. `generated`:
   * the demo stream's ground truth and claim count, compared with the flags the hospitals received.
   */
  finalReport(
    counters: PollerCounters,
    dlq: number,
    decided: number,
    queued: number,
    generated?: { truth: readonly InjectedViolation[]; claims: number },
  ): string {
    const seconds = (performance.now() - this.#started) / 1000;
    const { decisions } = this.alerted;
    const lost = this.#sent - decided - dlq;
    const reasons = [...this.#reasons.entries()].map(([reason, n]) => `    ${n}× ${reason}`);
    return [
      '',
      `done in ${seconds.toFixed(1)} s: ${this.#sent} messages sent, ${decided} claims decided (decisions table), ${dlq} in the dead-letter queue`,
      `decisions: pass ${decided - decisions.hold - decisions.reject}, hold ${decisions.hold}, reject ${decisions.reject}; ${this.alerted.flagCount} flags, ${this.alerted.amountAtRisk.toFixed(2)} 元 at risk; ${this.alerted.claims} hospital alerts`,
      `poller: ${counters.received} deliveries, ${counters.failed} failed attempts (retried or dead-lettered), ${counters.handlerErrors} handler errors`,
      queued
        ? `interrupted before the queue drained (about ${queued} messages left in it): no loss check`
        : lost === 0
          ? `loss check: sent ${this.#sent} = decided ${decided} + dead-lettered ${dlq} ✓`
          : `loss check FAILED: sent ${this.#sent} ≠ decided ${decided} + dead-lettered ${dlq} (${lost} unaccounted)`,
      ...(reasons.length
        ? ['why deliveries failed (function logs; a message is tried maxReceiveCount times):', ...reasons]
        : []),
      '',
      this.alerted.ruleTable(),
      ...(generated
        ? [
            '',
            formatTruthComparison(
              compareWithTruth(generated.truth, [...this.#flags.values()], generated.claims),
            ),
          ]
        : []),
    ].join('\n');
  }
}

/** Plays the hospitals' side: drains the alerts queue into the summary. */
export class AlertsConsumer {
  #running = true;
  #inFlight = 0;
  #lastReceived = 0;
  readonly #loop: Promise<void>;

  private constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly summary: LiveSummary,
  ) {
    this.#loop = this.#run();
  }

  static start(sqs: SQSClient, queueUrl: string, summary: LiveSummary): AlertsConsumer {
    return new AlertsConsumer(sqs, queueUrl, summary);
  }

  /** Nothing received for a second and nothing being handled: the alerts so far are counted. */
  idle(): boolean {
    return this.#inFlight === 0 && performance.now() - this.#lastReceived > 1_000;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          AttributeNames: ['All'],
        }),
      );
      if (!Messages.length) continue;
      this.#inFlight += 1;
      this.#lastReceived = performance.now();
      try {
        for (const message of Messages)
          this.summary.addAlert(
            parseJsonContract(HospitalAlertMessage, 'hospital alert', message.Body ?? ''),
          );
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      } finally {
        this.#inFlight -= 1;
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}
