import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { documentClient } from '../../src/stores/dynamo.ts';

// Created once per container. Endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables, so
// the local stack points the same code at DynamoDB Local and local SQS without a code path of its own.
export const dynamo = new DynamoDBClient({});
export const documents = documentClient(dynamo);
export const sqs = new SQSClient({});
