import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Aggregates } from '../post/aggregates.ts';
import type { PartialStore } from './audit-job.ts';

/** Partial aggregates in the audit bucket: too large for a Step Functions payload (256 KB). */
export class S3PartialStore implements PartialStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, aggregates: Aggregates): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(aggregates),
        ContentType: 'application/json',
      }),
    );
  }

  async get(key: string): Promise<Aggregates> {
    const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!Body) throw new Error(`s3://${this.bucket}/${key} is empty`);
    return JSON.parse(await Body.transformToString()) as Aggregates;
  }
}
