/**
 * Issue or revoke a hospital's API key in a stage's hashed keys file (`infra/api-keys/<stage>.json`
 * unless --file says otherwise), which `cdk deploy` bundles into the authorizer. The key is printed
 * once and stored nowhere; only its SHA-256 goes into the file.
 *
 *   node --import tsx src/api/issue-key.ts --stage prod --hospital H3001
 *   node --import tsx src/api/issue-key.ts --stage prod --revoke H3001-2026-11-23-ab12
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ContractError, parseContract } from '../contracts/issues.ts';
import {
  apiKeysFileFor,
  issueKey,
  KeysFile,
  KeysFileError,
  MAX_KEYS_PER_HOSPITAL,
  readKeysFile,
} from './keys.ts';

const USAGE =
  'usage: node --import tsx src/api/issue-key.ts (--stage STAGE | --file PATH) (--hospital ID | --revoke KEY_ID)';

/** Exit code 2 with the reason on stderr, as the fundguard CLI does for bad input. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

function run(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string' },
      hospital: { type: 'string' },
      revoke: { type: 'string' },
      file: { type: 'string' },
    },
    strict: true,
  });
  const file = values.file ?? (values.stage ? apiKeysFileFor(values.stage) : undefined);
  if (!file || Boolean(values.hospital) === Boolean(values.revoke)) throw new UsageError(USAGE);
  const current: KeysFile = existsSync(file) ? readKeysFile(file) : { keys: [] };

  if (values.revoke) {
    const keys = current.keys.filter((k) => k.keyId !== values.revoke);
    if (keys.length === current.keys.length) throw new UsageError(`${file}: no key ${values.revoke}`);
    write(file, { keys });
    process.stderr.write(
      `revoked ${values.revoke} in ${file}; after cdk deploy it stops working once the authorizer cache expires (5 min)\n`,
    );
    return;
  }

  const hospitalId = values.hospital ?? '';
  if (current.keys.filter((k) => k.hospitalId === hospitalId).length >= MAX_KEYS_PER_HOSPITAL)
    throw new UsageError(
      `${hospitalId} already has ${MAX_KEYS_PER_HOSPITAL} keys: revoke the old key of the last rotation first`,
    );
  const keyId = `${hospitalId}-${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
  const { key, entry } = issueKey(hospitalId, keyId);
  write(file, { keys: [...current.keys, entry] });
  process.stderr.write(
    `issued ${keyId} for ${hospitalId} in ${file}; hand the hospital this key, shown only now:\n`,
  );
  process.stdout.write(`${key}\n`);
}

function write(file: string, keys: KeysFile): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(parseContract(KeysFile, 'keys file', keys), null, 2)}\n`);
}

try {
  run(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError || error instanceof ContractError || error instanceof KeysFileError))
    throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
