import { isUtf8 } from 'node:buffer';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PROBLEM_TYPES, ProblemError, problem } from './problem.ts';

/** A draft order is a few KB; a whole inpatient stay of a thousand lines stays well under this. */
export const MAX_BODY_BYTES = 256 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** Fatal: JSON text is UTF-8 (RFC 8259 §8.1), and bytes that are not must be refused, never replaced. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function utf8Text(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new ProblemError(
      problem(
        PROBLEM_TYPES.invalidJson,
        400,
        'Invalid JSON',
        `the body is not valid UTF-8 (from byte ${firstInvalidByte(bytes)}); send JSON encoded as UTF-8`,
      ),
      {},
      { cause: error },
    );
  }
}

/** Where the first byte sequence that is not UTF-8 begins: the longest prefix that decodes. */
function firstInvalidByte(bytes: Buffer): number {
  let low = 0;
  let high = bytes.length;
  // Any prefix of valid UTF-8 decodes in streaming mode (a cut character waits for its tail).
  const decodes = (end: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      return true;
    } catch (error) {
      if (error instanceof TypeError) return false;
      throw error;
    }
  };
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (decodes(mid)) low = mid;
    else high = mid - 1;
  }
  // The prefix may end in the unfinished start of the bad sequence (0xC3 before an ASCII byte): report where it starts.
  if (isUtf8(bytes.subarray(0, low))) return low;
  let start = low;
  while (start > 0 && low - start < 3 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start--;
  return start > 0 && (bytes[start - 1] ?? 0) >= 0xc0 ? start - 1 : low;
}

/**
 * The JSON body of a request, or the problem that explains why there is none: 413 past
 * MAX_BODY_BYTES (checked before anything is parsed), 415 for another media type, 400 for bytes that
 * are not UTF-8 (API Gateway passes those base64-encoded) and for text that is not JSON, with the
 * parser's reason.
 */
export function readJsonBody(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded' | 'headers'>,
): unknown {
  const raw = event.body ?? '';
  // Base64 grows by a third; the limit is on the bytes the client sent.
  const bytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new ProblemError(
      problem(
        PROBLEM_TYPES.payloadTooLarge,
        413,
        'Payload too large',
        `the body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / 1024} KiB)`,
      ),
    );
  }
  const mediaType = (event.headers?.['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ProblemError(
      problem(
        PROBLEM_TYPES.unsupportedMediaType,
        415,
        'Unsupported media type',
        `send the draft claim as application/json${mediaType ? `, not ${mediaType}` : ' (the content-type header is missing)'}`,
      ),
    );
  }
  const text = event.isBase64Encoded ? utf8Text(Buffer.from(raw, 'base64')) : raw;
  if (!text.trim()) {
    throw new ProblemError(
      problem(
        PROBLEM_TYPES.invalidJson,
        400,
        'Invalid JSON',
        'the body is empty; send a draft claim as JSON',
      ),
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ProblemError(
      problem(PROBLEM_TYPES.invalidJson, 400, 'Invalid JSON', `the body is not valid JSON: ${error.message}`),
      {},
      { cause: error },
    );
  }
}
