/**
 * The CSV export on AWS: the review API runs behind an HTTP API, which answers a Lambda's whole
 * response at once (6 MB at most; HTTP APIs cannot stream a Lambda's response), so the export is
 * written to S3 while the listing is paged — a multipart upload, one part in memory at a time — and
 * the caller is sent to a presigned URL of the object (303, or the URL as JSON for the console).
 * Locally the server streams the same chunks straight to the socket (src/local/review-server.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportAnswer } from './contracts.ts';

/** Bytes a part holds: S3 takes parts of 5 MiB at least (but the last); 10,000 parts make 80 GiB. */
export const EXPORT_PART_BYTES = 8 * 1024 * 1024;
/** How long the download link works: long enough to follow it, short enough not to be passed around. */
export const EXPORT_URL_SECONDS = 300;
/** Exports are kept under this prefix, which the bucket's lifecycle rule empties after a day. */
export const EXPORT_PREFIX = 'exports/';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
export const CSV_DISPOSITION = 'attachment; filename="fundguard-flags.csv"';

/** Writes an export's chunks somewhere a browser can download them from, and says where. */
export type ExportWriter = (chunks: AsyncIterable<string>) => Promise<ExportAnswer>;

/** Base of the export's errors. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

export interface S3ExportOptions {
  /** Bytes a part holds (tests use small parts to see several). */
  partBytes?: number;
  now?: () => Date;
}

/** An ExportWriter on an S3 bucket: parts of EXPORT_PART_BYTES while the chunks come, then a presigned URL. */
export function s3ExportWriter(
  client: S3Client,
  bucket: string,
  options: S3ExportOptions = {},
): ExportWriter {
  const partBytes = options.partBytes ?? EXPORT_PART_BYTES;
  const now = options.now ?? (() => new Date());
  return async (chunks) => {
    const started = now();
    const key = `${EXPORT_PREFIX}${started.toISOString().slice(0, 10)}/${randomUUID()}.csv`;
    const object = { Bucket: bucket, Key: key };
    const headers = { ...object, ContentType: CSV_CONTENT_TYPE, ContentDisposition: CSV_DISPOSITION };
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let bytes = 0;

    const flush = async (): Promise<void> => {
      if (uploadId === undefined) {
        const created = await client.send(new CreateMultipartUploadCommand(headers));
        if (!created.UploadId) throw new ExportError(`S3 gave no upload id for s3://${bucket}/${key}`);
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      const { ETag } = await client.send(
        new UploadPartCommand({ ...object, UploadId: uploadId, PartNumber, Body: Buffer.concat(pending) }),
      );
      if (!ETag) throw new ExportError(`S3 gave no ETag for part ${PartNumber} of s3://${bucket}/${key}`);
      parts.push({ ETag, PartNumber });
      pending = [];
      pendingBytes = 0;
    };

    try {
      for await (const chunk of chunks) {
        const buffer = Buffer.from(chunk, 'utf8');
        pending.push(buffer);
        pendingBytes += buffer.length;
        bytes += buffer.length;
        if (pendingBytes >= partBytes) await flush();
      }
      if (uploadId === undefined)
        // Smaller than one part: a single put.
        await client.send(new PutObjectCommand({ ...headers, Body: Buffer.concat(pending) }));
      else {
        if (pendingBytes > 0) await flush();
        await client.send(
          new CompleteMultipartUploadCommand({
            ...object,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      }
    } catch (error) {
      // An upload left open keeps its parts (and their cost) until aborted.
      if (uploadId !== undefined)
        await client.send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId }));
      throw error;
    }
    const signedAt = now();
    const url = await getSignedUrl(client, new GetObjectCommand(object), { expiresIn: EXPORT_URL_SECONDS });
    return { url, expiresAt: new Date(signedAt.getTime() + EXPORT_URL_SECONDS * 1000).toISOString(), bytes };
  };
}
