import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PROBLEM_TYPES, ProblemError, problem } from './problem.ts';

/** A draft order is a few KB; a whole inpatient stay of a thousand lines stays well under this. */
export const MAX_BODY_BYTES = 256 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * The JSON body of a request, or the problem that explains why there is none: 413 past
 * MAX_BODY_BYTES (checked before anything is parsed), 415 for another media type, 400 for text that
 * is not JSON, with the parser's reason.
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
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
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
