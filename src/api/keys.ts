import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ContractError, parseContract } from '../contracts/issues.ts';
import { ApiError } from './errors.ts';

/**
 * API keys: each hospital calls with its own key. Only SHA-256 hashes are stored (the keys file of
 * the deployment and of the local stack); the plaintext is shown once, when the key is issued.
 */

/** Two per hospital: the current key and, during a rotation, the next one. */
export const MAX_KEYS_PER_HOSPITAL = 2;

/** Longer headers are refused before hashing; issued keys are 47 characters. */
const MAX_KEY_LENGTH = 256;

const KEY_PREFIX = 'fgk_';

export const KeyEntry = z.strictObject({
  keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1–64 letters, digits, ".", "_" or "-"'),
  hospitalId: z.string().min(1).max(64),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the lower-case hex SHA-256 of the key'),
});

export const KeysFile = z.strictObject({ keys: z.array(KeyEntry) }).superRefine(({ keys }, ctx) => {
  const ids = new Set<string>();
  const perHospital = new Map<string, number>();
  keys.forEach((entry, i) => {
    if (ids.has(entry.keyId))
      ctx.addIssue({ code: 'custom', path: ['keys', i, 'keyId'], message: `duplicate keyId ${entry.keyId}` });
    ids.add(entry.keyId);
    const count = (perHospital.get(entry.hospitalId) ?? 0) + 1;
    perHospital.set(entry.hospitalId, count);
    if (count > MAX_KEYS_PER_HOSPITAL)
      ctx.addIssue({
        code: 'custom',
        path: ['keys', i, 'hospitalId'],
        message: `${entry.hospitalId} has more than ${MAX_KEYS_PER_HOSPITAL} keys; revoke the old key of a rotation first`,
      });
  });
});

export type KeyEntry = z.infer<typeof KeyEntry>;
export type KeysFile = z.infer<typeof KeysFile>;

/** Who is calling: the hospital a key belongs to. */
export interface ApiIdentity {
  hospitalId: string;
  keyId: string;
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new random key (256 bits) and the entry that stores its hash. */
export function issueKey(hospitalId: string, keyId: string): { key: string; entry: KeyEntry } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, entry: parseContract(KeyEntry, 'key entry', { keyId, hospitalId, sha256: hashKey(key) }) };
}

/** The hashed keys of one deployment; `verify` is the one authentication rule of the API. */
export class Keyring {
  readonly #entries: { entry: KeyEntry; digest: Buffer }[];

  constructor(file: KeysFile) {
    this.#entries = file.keys.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /**
   * The hospital a presented key belongs to, or undefined. Every stored hash is compared in
   * constant time, with no early exit, so the answer's timing says nothing about the key.
   */
  verify(key: string | undefined): ApiIdentity | undefined {
    if (!key || key.length > MAX_KEY_LENGTH) return undefined;
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: KeyEntry | undefined;
    for (const { entry, digest: stored } of this.#entries) {
      if (timingSafeEqual(digest, stored)) found = entry;
    }
    return found && { hospitalId: found.hospitalId, keyId: found.keyId };
  }
}

/** A keys file that fails validation; the message names the file and each invalid path. */
export class KeysFileError extends ApiError {
  override readonly name = 'KeysFileError';
}

/** Read and validate a keys file (`{ "keys": [{ keyId, hospitalId, sha256 }] }`). */
export function readKeysFile(path: string): KeysFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KeysFileError(`keys file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseContract(KeysFile, 'keys file', json);
  } catch (error) {
    if (error instanceof ContractError)
      throw new KeysFileError(`keys file ${path}: ${error.problems.join('; ')}`, { cause: error });
    throw error;
  }
}

export const loadKeyring = (path: string): Keyring => new Keyring(readKeysFile(path));

/** A stage's hashed keys, as `cdk deploy` bundles them into the authorizer: `infra/api-keys/<stage>.json`. */
export const apiKeysFileFor = (stage: string): string =>
  fileURLToPath(new URL(`../../infra/api-keys/${encodeURIComponent(stage)}.json`, import.meta.url));
