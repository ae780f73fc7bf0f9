import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { apiKeysFileFor, issueKey, KeysFile, MAX_KEYS_PER_HOSPITAL, readKeysFile } from '../api/keys.ts';
import { parseContract } from '../contracts/issues.ts';
import { UsageError } from './usage.ts';

export const KEYS_USAGE = `  keys issue --hospital ID (--stage STAGE | --file PATH)
                                              a new API key for a hospital, printed once; its hash goes into
                                              infra/api-keys/STAGE.json, which cdk deploy bundles
  keys revoke KEY_ID (--stage STAGE | --file PATH)
                                              remove a key (after deploy it stops once the authorizer cache expires)
  keys list (--stage STAGE | --file PATH)     key id and hospital of every key, never a key`;

interface Io {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `fundguard keys issue|revoke|list`: a stage's hashed keys file (`infra/api-keys/<stage>.json`
 * unless --file names another). A key is printed once and stored nowhere; only its SHA-256 is kept.
 */
export function keys(sub: string | undefined, args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args,
    options: { stage: { type: 'string' }, file: { type: 'string' }, hospital: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const file = values.file ?? (values.stage ? apiKeysFileFor(values.stage) : undefined);
  if (!file) throw new UsageError('keys needs --stage STAGE or --file PATH');
  const current: KeysFile = existsSync(file) ? readKeysFile(file) : { keys: [] };
  switch (sub) {
    case 'issue': {
      const hospitalId = values.hospital;
      if (!hospitalId) throw new UsageError('keys issue needs --hospital ID');
      if (current.keys.filter((k) => k.hospitalId === hospitalId).length >= MAX_KEYS_PER_HOSPITAL)
        throw new UsageError(
          `${hospitalId} already has ${MAX_KEYS_PER_HOSPITAL} keys: revoke the old key of the last rotation first`,
        );
      const keyId = `${hospitalId}-${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
      const { key, entry } = issueKey(hospitalId, keyId);
      write(file, { keys: [...current.keys, entry] });
      io.err(`issued ${keyId} for ${hospitalId} in ${file}; hand the hospital this key, shown only now:`);
      io.out(key);
      return 0;
    }
    case 'revoke': {
      const [keyId, ...extra] = positionals;
      if (!keyId || extra.length) throw new UsageError('keys revoke needs exactly one KEY_ID');
      const kept = current.keys.filter((k) => k.keyId !== keyId);
      if (kept.length === current.keys.length) throw new UsageError(`${file}: no key ${keyId}`);
      write(file, { keys: kept });
      io.err(
        `revoked ${keyId} in ${file}; after cdk deploy it stops working once the authorizer cache expires (5 min)`,
      );
      return 0;
    }
    case 'list':
      for (const { keyId, hospitalId } of current.keys) io.out(`${keyId}\t${hospitalId}`);
      io.err(`${current.keys.length} keys in ${file}`);
      return 0;
    default:
      throw new UsageError(`keys needs issue, revoke or list, got "${sub ?? ''}"`);
  }
}

function write(file: string, keysFile: KeysFile): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(parseContract(KeysFile, 'keys file', keysFile), null, 2)}\n`);
}
