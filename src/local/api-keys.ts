/**
 * The local stack's API keys: random per state directory, hashed like the deployment's, standing in
 * for the authorizer (the local server checks them itself).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { hashKey, issueKey, Keyring, type KeysFile, KeysFileError, readKeysFile } from '../api/keys.ts';
import { ContractError, parseJsonContract } from '../contracts/issues.ts';
import { HOSPITALS } from '../generator/world.ts';

/** The plaintext keys, kept for the local stack only (the state directory is git-ignored). */
const PlaintextKeys = z.strictObject({
  note: z.string(),
  keys: z.array(z.strictObject({ keyId: z.string(), hospitalId: z.string(), key: z.string() })),
});
type PlaintextKeys = z.infer<typeof PlaintextKeys>;

export interface LocalKeys {
  keyring: Keyring;
  /** hospitalId → its API key. */
  keys: Record<string, string>;
  /** The hashed keys file, in the format the deployment's authorizer reads. */
  keysFile: string;
  plaintextFile: string;
  /** True when this call made new keys (first use of the directory, or files that no longer matched). */
  created: boolean;
}

/**
 * One random API key per hospital of the generator's world, made on first use of a state
 * directory and reused after: `api-keys.json` holds the hashes (what the handler checks),
 * `api-keys.local.json` the plaintext to call with. A pair that no longer matches is replaced.
 */
export function ensureLocalKeys(
  stateDir: string,
  hospitalIds: readonly string[] = HOSPITALS.map((h) => h.hospitalId),
): LocalKeys {
  const keysFile = join(stateDir, 'api-keys.json');
  const plaintextFile = join(stateDir, 'api-keys.local.json');
  const existing = readLocalKeys(keysFile, plaintextFile, hospitalIds);
  if (existing) return { ...existing, keysFile, plaintextFile, created: false };

  const issued = hospitalIds.map((hospitalId) => ({
    hospitalId,
    ...issueKey(hospitalId, `local-${hospitalId}`),
  }));
  const hashed: KeysFile = { keys: issued.map((i) => i.entry) };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(keysFile, `${JSON.stringify(hashed, null, 2)}\n`);
  writeFileSync(
    plaintextFile,
    `${JSON.stringify(
      {
        note: 'Local API keys of the FundGuard pre-event API; api-keys.json holds their hashes. Never deploy these.',
        keys: issued.map((i) => ({ keyId: i.entry.keyId, hospitalId: i.hospitalId, key: i.key })),
      },
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );
  return {
    keyring: new Keyring(hashed),
    keys: Object.fromEntries(issued.map((i) => [i.hospitalId, i.key])),
    keysFile,
    plaintextFile,
    created: true,
  };
}

/** The keys of an earlier run, or undefined when they are missing, unreadable or no longer match. */
function readLocalKeys(
  keysFile: string,
  plaintextFile: string,
  hospitalIds: readonly string[],
): Pick<LocalKeys, 'keyring' | 'keys'> | undefined {
  if (!existsSync(keysFile) || !existsSync(plaintextFile)) return undefined;
  let hashed: KeysFile;
  let plaintext: PlaintextKeys;
  try {
    hashed = readKeysFile(keysFile);
    plaintext = parseJsonContract(PlaintextKeys, 'local keys file', readFileSync(plaintextFile, 'utf8'));
  } catch (error) {
    // Local state only: a damaged pair is replaced by new keys (ensureLocalKeys reports `created`).
    if (error instanceof KeysFileError || error instanceof ContractError) return undefined;
    throw error;
  }
  const keys: Record<string, string> = {};
  for (const { keyId, hospitalId, key } of plaintext.keys) {
    const entry = hashed.keys.find((k) => k.keyId === keyId);
    if (entry?.hospitalId !== hospitalId || entry.sha256 !== hashKey(key)) return undefined;
    keys[hospitalId] = key;
  }
  if (!hospitalIds.every((id) => keys[id])) return undefined;
  return { keyring: new Keyring(hashed), keys };
}
