/**
 * The CSV export of a listing larger than one page (the store pages by 500): streamed by the local
 * server, and on the Lambda's path written to S3 part by part and handed out as a presigned URL —
 * against s3rver, an S3 stand-in on loopback, as DynamoDB Local stands in for DynamoDB.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorSigner } from '../../src/api/cursor.ts';
import { loadCore } from '../../src/core.ts';
import { lambdaContext } from '../../src/local/lambda-context.ts';
import { s3ExportWriter } from '../../src/review/export.ts';
import { createReviewHandler } from '../../src/review/handler.ts';
import { loadReviewPolicy } from '../../src/review/policy.ts';
import { ReviewService } from '../../src/review/service.ts';
import type { Reviewer } from '../../src/review/states.ts';
import { DynamoReviewStore } from '../../src/review/store.ts';
import { sampleClaims, writeSampleClaims } from '../helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../helpers/review-stack.ts';

const BUCKET = 'fundguard-exports';
const BOM = [0xef, 0xbb, 0xbf];
let stack: ReviewStack;
let s3rver: S3rver;
let s3: S3Client;
let s3Dir: string;
// About 1,100 flags: three pages of the export's Queries.
const claims = sampleClaims(880, { stepMinutes: 90, start: '2026-10-01T08:00:00Z', prefix: 'EXP' });
const flags = claims.flatMap((c) => c.flags);
const now = () => new Date('2026-11-30T00:00:00Z');

const rowsOf = (bytes: Uint8Array): string[] => {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  return text.split('\r\n').filter(Boolean);
};

beforeAll(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'fundguard-s3-'));
  s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = (await s3rver.run()) as AddressInfo;
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  stack = await startReviewStack('export', now);
  await writeSampleClaims(stack.documents, stack.resources.tables, claims);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  s3?.destroy();
  await s3rver?.close();
  if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
});

describe('CSV export of more than one page', () => {
  it('streams every flag once from the local server, UTF-8 with a BOM', async () => {
    const response = await fetch(`${stack.review.url}/v1/review/flags/export`, {
      headers: { authorization: `Bearer ${stack.token('auditor-1')}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual(BOM);
    const [header, ...rows] = rowsOf(bytes);
    expect(header).toMatch(/^\ufeff标识 flagId,状态 status/);
    expect(rows.length).toBe(flags.length);
    expect(new Set(rows.map((r) => r.split(',')[0])).size).toBe(flags.length);
  });

  it('writes the export to S3 in parts on the Lambda path and redirects to a presigned URL', async () => {
    const auditor: Reviewer = { role: 'auditor', actorId: 'auditor-1' };
    const handler = createReviewHandler({
      service: new ReviewService({
        store: new DynamoReviewStore(stack.documents, stack.resources.tables),
        policy: loadReviewPolicy(),
        ruleSet: loadCore().ruleSet,
        now,
      }),
      authenticate: () => auditor,
      cursors: new CursorSigner(randomBytes(32)),
      logger: {
        error: (message, attributes) => stack.faults.push({ message, ...attributes }),
        debug: () => {},
      },
      // Small parts, to see several: a real part is 8 MiB.
      exports: s3ExportWriter(s3, BUCKET, { partBytes: 64 * 1024 }),
    });
    const event = (accept: string): APIGatewayProxyEventV2 =>
      ({
        version: '2.0',
        routeKey: 'GET /v1/review/flags/export',
        rawPath: '/v1/review/flags/export',
        rawQueryString: 'stage=in',
        queryStringParameters: { stage: 'in' },
        headers: { accept },
        isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path: '/v1/review/flags/export' } },
      }) as unknown as APIGatewayProxyEventV2;
    const redirected = await handler(event('text/csv'), lambdaContext('review-export-test', 25_000));
    expect(redirected.statusCode).toBe(303);
    const location = String(redirected.headers?.location);
    expect(location).toContain('X-Amz-Signature=');
    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="fundguard-flags.csv"');
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual(BOM);
    expect(JSON.parse(redirected.body).bytes).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(3 * 64 * 1024);
    const rows = rowsOf(bytes).slice(1);
    const inProcess = flags.filter((f) => f.stage === 'in');
    expect(rows.length).toBe(inProcess.length);
    expect(new Set(rows.map((r) => r.split(',')[0]))).toEqual(new Set(inProcess.map((f) => f.flagId)));

    const asJson = await handler(event('application/json'), lambdaContext('review-export-test', 25_000));
    expect(asJson.statusCode).toBe(200);
    expect(JSON.parse(asJson.body).url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fundguard-exports\/exports\//);
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'exports/' }));
    expect(objects.KeyCount).toBe(2);
    expect(stack.faults).toEqual([]);
  });
});
