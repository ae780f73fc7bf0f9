/**
 * Where `fundguard review recount` and `fundguard rules publish|versions|rollback` find their table:
 * a broken or missing `.fundguard/local.json` is a usage error naming the file and what is wrong,
 * never a crash.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandTable } from '../../src/cli/local-table.ts';
import { UsageError } from '../../src/cli/usage.ts';

let stateDir: string;
beforeEach(() => {
  stateDir = join(mkdtempSync(join(tmpdir(), 'fundguard-cli-')), '.fundguard');
  mkdirSync(stateDir);
});
afterEach(() => rmSync(join(stateDir, '..'), { recursive: true, force: true }));

const flags = () => commandTable('flags', 'FLAGS_TABLE', 'flags table', {}, stateDir);

describe('the table a command works on', () => {
  it('takes the name from the environment first', () => {
    const { client, table } = commandTable(
      'flags',
      'FLAGS_TABLE',
      'flags table',
      { FLAGS_TABLE: 'prod-flags' },
      stateDir,
    );
    client.destroy();
    expect(table).toBe('prod-flags');
  });

  it("takes the local stack's table and endpoint from local.json", async () => {
    writeFileSync(
      join(stateDir, 'local.json'),
      JSON.stringify({
        region: 'us-east-1',
        endpoints: { dynamodb: 'http://127.0.0.1:8000' },
        tables: { flags: 'fundguard-local-flags', ruleSets: 'fundguard-local-rule-sets' },
      }),
    );
    const { client, table } = flags();
    expect(table).toBe('fundguard-local-flags');
    expect(String((await client.config.endpoint?.())?.hostname)).toBe('127.0.0.1');
    client.destroy();
  });

  it('says to start the stack or name the table when there is no local.json', () => {
    expect(flags).toThrow(UsageError);
    expect(flags).toThrow(/no flags table: start the local stack .* or set FLAGS_TABLE/);
  });

  it('names the file when local.json is not JSON', () => {
    writeFileSync(join(stateDir, 'local.json'), '{bad');
    expect(flags).toThrow(UsageError);
    expect(flags).toThrow(/local\.json: not JSON .*restart npm start/);
  });

  it('names the missing field when local.json lacks the table', () => {
    writeFileSync(
      join(stateDir, 'local.json'),
      JSON.stringify({ region: 'us-east-1', endpoints: { dynamodb: 'http://127.0.0.1:8000' }, tables: {} }),
    );
    expect(() => commandTable('ruleSets', 'RULE_SETS_TABLE', 'versions table', {}, stateDir)).toThrow(
      /tables\.ruleSets/,
    );
  });
});
