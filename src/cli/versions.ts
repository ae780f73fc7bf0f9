import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { type Core, coreFromContent } from '../core.ts';
import { auditCoreFromContent } from '../post/audit.ts';
import { runPeriodFixtures } from '../post/fixtures.ts';
import { PolicyError } from '../post/policy.ts';
import { readRuleSetContent } from '../rules/content.ts';
import { readBaseClaim, runFixtures } from '../rules/fixtures.ts';
import { RuleSetError } from '../rules/load.ts';
import { documentClient } from '../stores/dynamo.ts';
import { RuleSetVersions, StoredRuleSetError } from '../stores/rule-sets.ts';
import { commandTable } from './local-table.ts';
import { UsageError } from './usage.ts';

export const VERSIONS_USAGE = `  rules publish [--message "…"] [--author NAME]   validate, run every fixture, store a content-hashed version and activate it
  rules versions                              published versions, the active one marked *
  rules rollback VERSION                      reactivate an earlier version (checked before it is activated)
      (the versions table: .fundguard/local.json from npm start, or RULE_SETS_TABLE and the SDK's AWS settings)`;

export interface VersionsIo {
  out(s: string): void;
  err(s: string): void;
  now(): Date;
}

/** The versions table the CLI talks to: `RULE_SETS_TABLE`, else the local stack's (commandTable). */
export function openVersions(
  env: NodeJS.ProcessEnv = process.env,
  stateDir = '.fundguard',
): {
  versions: RuleSetVersions;
  close(): void;
} {
  const { client, table } = commandTable('ruleSets', 'RULE_SETS_TABLE', 'versions table', env, stateDir);
  return { versions: new RuleSetVersions(documentClient(client), table), close: () => client.destroy() };
}

/** The active published version, validated as a running function would before using it. */
export async function activeCore(versions: RuleSetVersions): Promise<Core> {
  const pointer = await versions.active();
  if (!pointer) throw new UsageError('no rule set is published yet: publish one, or pass --baseline DIR');
  return coreFromContent(await versions.content(pointer.active), pointer.active);
}

export async function publish(
  args: string[],
  rulesDir: string,
  versions: RuleSetVersions,
  io: VersionsIo,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      message: { type: 'string', default: '' },
      author: { type: 'string' },
      rules: { type: 'string' },
    },
    strict: true,
  });
  const content = readRuleSetContent(rulesDir);
  // Throws RuleSetError or PolicyError (exit 1) naming each problem: an invalid set is never stored.
  const core = auditCoreFromContent(content, rulesDir);
  // Every fixture the set carries: the claim rules' and the period rules' (published with it).
  const base = readBaseClaim(rulesDir);
  const results = [
    ...(await runFixtures(core.ruleSet, core.catalogue, base)),
    ...(await runPeriodFixtures(core.periodRules, core.policy, base)),
  ];
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    for (const r of failed) io.out(`FAIL  ${r.ruleId}  ${r.expect}: ${r.fixture} — ${r.problem}`);
    throw new RuleSetError([`${failed.length} of ${results.length} fixtures fail: not published`]);
  }
  const author = values.author ?? process.env.FUNDGUARD_AUTHOR ?? userInfo().username;
  const { manifest, created } = await versions.put(content, {
    author,
    message: values.message,
    now: io.now(),
    ruleIds: core.ruleSet.rules.map((r) => r.file.id),
  });
  await versions.activate(manifest.version, author, io.now());
  io.out(
    created
      ? `published ${manifest.version}: ${manifest.ruleIds.length} rules, ${manifest.exemptions} exemption files, ${results.length} fixtures passed, ${manifest.chunks} chunks (${manifest.bytes} bytes gzipped)`
      : `${manifest.version} was already published (${manifest.publishedAt} by ${manifest.author}): nothing stored`,
  );
  io.out(`active: ${manifest.version} (running functions pick it up at their next check)`);
  return 0;
}

export async function listVersions(versions: RuleSetVersions, io: VersionsIo): Promise<number> {
  const [list, pointer] = await Promise.all([versions.list(), versions.active()]);
  if (!list.length) io.out('no rule set published yet');
  for (const m of list) {
    const mark = m.version === pointer?.active ? '*' : ' ';
    io.out(
      `${mark} ${m.version}  ${m.publishedAt}  ${m.author.padEnd(12)} ${m.ruleIds.length} rules  ${m.message}`,
    );
  }
  if (pointer) io.out(`active: ${pointer.active} since ${pointer.activatedAt} (by ${pointer.activatedBy})`);
  return 0;
}

export async function rollback(args: string[], versions: RuleSetVersions, io: VersionsIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    options: { author: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const version = positionals[0];
  if (!version) throw new UsageError('rollback needs a VERSION (see rules versions)');
  try {
    // Checked as a running function would check it: a version that would be refused is not activated.
    auditCoreFromContent(await versions.content(version), version);
  } catch (error) {
    if (
      error instanceof StoredRuleSetError ||
      error instanceof RuleSetError ||
      error instanceof PolicyError
    ) {
      io.err(`fundguard: cannot roll back to ${version}: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const by = values.author ?? process.env.FUNDGUARD_AUTHOR ?? userInfo().username;
  await versions.activate(version, by, io.now());
  io.out(`active: ${version} (running functions pick it up at their next check)`);
  return 0;
}
