/**
 * The local HTTP server in front of the API handlers (src/local/api-server.ts): what a client sends
 * on the wire reaches the handler as API Gateway would pass it, so the handler's refusals hold
 * locally too — no parameter is lost to the query object's prototype, no byte silently replaced.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorSigner } from '../../src/api/cursor.ts';
import { createApiHandler } from '../../src/api/handler.ts';
import { byApiKey } from '../../src/api/identity.ts';
import { issueKey, Keyring } from '../../src/api/keys.ts';
import { loadCore } from '../../src/core.ts';
import { InMemoryHistoryStore } from '../../src/history/memory.ts';
import { type ApiServer, startApiServer } from '../../src/local/api-server.ts';
import { draft, type Json, metformin } from '../helpers/claims.ts';

const HOSPITAL = 'H3001';
const key = issueKey(HOSPITAL, 'test-server');
let server: ApiServer;

beforeAll(async () => {
  server = await startApiServer({
    handler: createApiHandler({
      screener: loadCore().screener,
      history: new InMemoryHistoryStore(),
      alerts: { listForHospital: async () => ({ flags: [] }) },
      authenticate: byApiKey(new Keyring({ keys: [key.entry] })),
      cursors: new CursorSigner(randomBytes(32)),
      logger: { error: () => {}, debug: () => {} },
    }),
  });
});

afterAll(async () => {
  await server?.stop();
});

/** One request with exactly these bytes (fetch would re-encode a body it is given as text). */
function send(
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; type: string; body: Json }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        headers: {
          'x-api-key': key.key,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type']),
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the local API server passes the request on as API Gateway would', () => {
  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'foo'])(
    'hands ?%s=1 to the handler, which refuses it by name',
    async (name) => {
      const answer = await send('GET', `/v1/hospitals/${HOSPITAL}/alerts?${name}=1&limit=5`);
      expect(answer.status).toBe(400);
      expect(answer.type).toBe('application/problem+json');
      expect(answer.body.errors).toEqual([{ path: `query.${name}`, message: 'unknown field' }]);
    },
  );

  it('hands a body that is not UTF-8 over as bytes, which the handler refuses with 400 instead of answering 200', async () => {
    const valid = Buffer.from(JSON.stringify(draft({ items: [metformin()] })), 'utf8');
    expect((await send('POST', '/v1/prescreen', valid)).status).toBe(200);
    const broken = Buffer.concat([valid.subarray(0, 20), Buffer.from([0xff]), valid.subarray(21)]);
    const answer = await send('POST', '/v1/prescreen', broken);
    expect(answer.status).toBe(400);
    expect(answer.type).toBe('application/problem+json');
    expect(answer.body).toMatchObject({
      type: 'urn:fundguard:problem:invalid-json',
      detail: 'the body is not valid UTF-8 (from byte 20); send JSON encoded as UTF-8',
    });
  });
});
