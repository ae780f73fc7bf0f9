/**
 * Signed cursors, for every listing of both HTTP APIs (a hospital's alerts, the review API's
 * flags). A listing's own cursor says where a page ended; this module seals it with an HMAC over
 * who asked and which listing (route and filters) it belongs to, so a cursor is accepted only back
 * from the caller it was issued to, on the listing it was issued for. A forged position, another
 * caller's cursor or one replayed with other filters fails the same check and is refused alike:
 * the refusal tells nothing about other callers.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiError } from './errors.ts';

/** Who asked and which listing: the cursor is bound to both. */
export interface CursorScope {
  /** The caller as the API authenticated it, e.g. `hospital:H3001` or `auditor:A1`. */
  caller: string;
  /** The route and every filter that shapes the listing (not the page size). */
  listing: string;
}

/** A cursor that is not one FundGuard issued for this caller and listing. */
export class CursorError extends ApiError {
  override readonly name = 'CursorError';
}

/** HMAC-SHA256's key: at least its output's 32 bytes. */
export const CURSOR_SECRET_BYTES = 32;
const VERSION = 'c1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** One answer to every cursor refused, garbage or another caller's: it tells nothing about others. */
const REFUSAL =
  'the cursor was not issued to this caller for this listing and filters; start again without it';

/** Seals and opens cursors with one secret (the same in every instance of a function). */
export class CursorSigner {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.length < CURSOR_SECRET_BYTES)
      throw new RangeError(`a cursor secret has at least ${CURSOR_SECRET_BYTES} bytes, not ${secret.length}`);
    this.#secret = Buffer.from(secret);
  }

  /** `position` (a listing's own base64url cursor) sealed for `scope`. */
  seal(scope: CursorScope, position: string): string {
    if (!BASE64URL.test(position)) throw new TypeError('a cursor position is base64url text');
    return `${VERSION}.${position}.${this.#mac(scope, position)}`;
  }

  /** The position inside `cursor`, if FundGuard sealed it for exactly `scope`; else a CursorError. */
  open(scope: CursorScope, cursor: string): string {
    const [version, position, mac, ...rest] = cursor.split('.');
    if (version !== VERSION || !position || !mac || rest.length || !BASE64URL.test(position))
      throw new CursorError(REFUSAL);
    const expected = Buffer.from(this.#mac(scope, position));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new CursorError(REFUSAL);
    return position;
  }

  #mac(scope: CursorScope, position: string): string {
    // Lengths first, so no caller and listing can be shifted into each other.
    const message = [
      VERSION,
      scope.caller.length,
      scope.caller,
      scope.listing.length,
      scope.listing,
      position,
    ];
    return createHmac('sha256', this.#secret).update(message.join('\n')).digest('base64url');
  }
}

/** A listing's scope from its route and filters, in one canonical order (the order of the query string does not matter). */
export function listingScope(route: string, filters: Record<string, unknown>): string {
  const entries = Object.entries(filters)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${route}?${JSON.stringify(entries)}`;
}

/** A cursor secret is at least this many characters of configuration (a generated password, or base64 of random bytes). */
export const MIN_CURSOR_SECRET_CHARS = 32;

/** The secret as configuration carries it: its text is the HMAC key. */
export function cursorSecretFrom(text: string): Buffer {
  const secret = text.trim();
  if (secret.length < MIN_CURSOR_SECRET_CHARS)
    throw new RangeError(
      `the cursor secret is ${secret.length} characters; it needs at least ${MIN_CURSOR_SECRET_CHARS}`,
    );
  return Buffer.from(secret, 'utf8');
}

/** The local stack's cursor secret, in its state directory (`.fundguard/`). */
export const CURSOR_SECRET_FILE = 'cursor-secret';

/**
 * The local stack's cursor secret, kept in `file` (under `.fundguard/`, owner-only) so cursors
 * stay valid across restarts; generated on first use.
 */
export function localCursorSecret(file: string): Buffer {
  if (existsSync(file)) return cursorSecretFrom(readFileSync(file, 'utf8'));
  mkdirSync(dirname(file), { recursive: true });
  const text = randomBytes(CURSOR_SECRET_BYTES).toString('base64url');
  try {
    writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process of the stack wrote it first: theirs is the one every server must share.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return cursorSecretFrom(readFileSync(file, 'utf8'));
    throw error;
  }
  chmodSync(file, 0o600);
  return cursorSecretFrom(text);
}
