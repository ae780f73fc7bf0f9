import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { AlertSender, HospitalAlert } from '../../src/pipeline/in-process.ts';

/**
 * Alerts go to the hospital alerts queue once per claim. The claim's writes are idempotent by
 * their own conditions; the alert is the one side effect outside that transaction, so Powertools
 * idempotency (keyed by alertId) keeps a redelivered claim from alerting twice.
 */
export function sqsAlertSender(options: {
  sqs: SQSClient;
  queueUrl: string;
  dynamo: DynamoDBClient;
  idempotencyTable: string;
}): AlertSender & { registerContext(context: Context): void } {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: options.dynamo,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'alertId', expiresAfterSeconds: 7 * 24 * 3600 });
  const send = makeIdempotent(
    async (alert: HospitalAlert) => {
      const { MessageId } = await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(alert),
          MessageAttributes: {
            hospitalId: { DataType: 'String', StringValue: alert.hospitalId },
            // A correction that raised no flag has no severity; subscribers filter it as `none`.
            severity: { DataType: 'String', StringValue: alert.highestSeverity ?? 'none' },
          },
        }),
      );
      return { messageId: MessageId ?? null };
    },
    { persistenceStore, config },
  );
  return {
    send: async (alert) => {
      await send(alert);
    },
    // The in-progress record's expiry follows the invocation's remaining time, as in Lambda.
    registerContext: (context) => config.registerLambdaContext(context),
  };
}
