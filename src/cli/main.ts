import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KeysFileError } from '../api/keys.ts';
import { diffCatalogue, formatDiff, readCommittedCatalogue } from '../catalogue/diff.ts';
import {
  CatalogueImportError,
  type ClassEvaluation,
  catalogueFileTexts,
  formatCoverage,
  importCatalogue,
  writeCatalogue,
} from '../catalogue/import.ts';
import {
  formatIndicationCoverage,
  indicationCoverage,
  loadIndicationDiseases,
} from '../catalogue/indications.ts';
import { CatalogueLoadError } from '../catalogue/read.ts';
import { Claim, DraftClaim } from '../contracts/claim.ts';
import { loadCore } from '../core.ts';
import { generateClaims } from '../generator/generate.ts';
import { writeGenerated } from '../generator/io.ts';
import { writeMonth } from '../generator/month.ts';
import { rulesWithoutInjector } from '../generator/violations.ts';
import { InMemoryHistoryStore } from '../history/memory.ts';
import { SequentialScreening } from '../pipeline/sequence.ts';
import { loadAuditCore } from '../post/audit.ts';
import { runPeriodFixtures } from '../post/fixtures.ts';
import { PolicyError } from '../post/policy.ts';
import { readBaseClaim, runFixtures } from '../rules/fixtures.ts';
import { ruleJsonSchema } from '../rules/json-schema.ts';
import { defaultRulesDir, RuleSetError, readRuleFiles } from '../rules/load.ts';
import { SUBJECT_KINDS } from '../rules/subjects/registry.ts';
import { StoredRuleSetError } from '../stores/rule-sets.ts';
import { audit } from './audit.ts';
import { BACKTEST_USAGE, backtest } from './backtest.ts';
import { readClaims } from './claims.ts';
import { KEYS_USAGE, keys } from './keys.ts';
import { REVIEW_USAGE, review } from './review.ts';
import { ScreeningSummary } from './summary.ts';
import { UsageError } from './usage.ts';
import { activeCore, listVersions, openVersions, publish, rollback, VERSIONS_USAGE } from './versions.ts';

const USAGE = `usage: fundguard <command>
  screen --stage pre|in --input FILE.ndjson   flags as NDJSON on stdout, a summary on stderr
  audit --input FILE.ndjson [--period YYYY-MM] [--scores-out FILE.json|FILE.csv] [--in-flags FLAGS.ndjson]
                                              post-event flags as NDJSON on stdout, summary and scorecard on stderr
  rules lint                                  validate every rule file
  rules test                                  run every rule's fixtures
${BACKTEST_USAGE}
${VERSIONS_USAGE}
  rules list                                  the rules, their stages and basis
  rules schema                                write rules/schema/rule.schema.json from the zod schema
  generate --claims N [--seed S] [--violation-rate R] --out FILE.ndjson
                                              a realistic claim stream, ground truth in FILE.ndjson.truth.json
  generate --month YYYY-MM [--claims N] [--seed S] [--outliers 0-2] --out FILE.ndjson
                                              a city's month for the audit, injected period patterns in FILE.ndjson.truth.json
  catalogue import DIR [--out rules/catalogue] [--dry-run | --check]
                                              build the reference catalogues from the NHSA data; prints what
                                              changes against the committed catalogue first (--dry-run: only
                                              that; --check: only that, exit 1 if anything would change)
${KEYS_USAGE}
${REVIEW_USAGE}
exit codes: 0 ran (flags are not errors), 1 rules failed lint or fixtures (or catalogue import --check
found changes), 2 bad input`;

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const err = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'screen':
        return await screen([sub, ...rest].filter((a): a is string => a !== undefined));
      case 'audit':
        return await audit(
          [sub, ...rest].filter((a): a is string => a !== undefined),
          {
            out,
            err,
            usage: (m) => new UsageError(m),
          },
        );
      case 'rules':
        return await rules(sub, rest);
      case 'catalogue':
        return catalogue(sub, rest);
      case 'generate':
        return await generate([sub, ...rest].filter((a): a is string => a !== undefined));
      case 'keys':
        return keys(sub, rest, { out, err });
      case 'review':
        return await review(sub, rest, { out, err });
      case undefined:
      case '--help':
      case 'help':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`fundguard: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (
      error instanceof RuleSetError ||
      error instanceof StoredRuleSetError ||
      error instanceof PolicyError
    ) {
      err(`fundguard: ${error.message}`);
      return 1;
    }
    // parseArgs' own errors (an unknown option, a missing value), a bad keys file and unusable NHSA
    // data or committed catalogue are bad input too.
    if (
      error instanceof KeysFileError ||
      error instanceof CatalogueImportError ||
      error instanceof CatalogueLoadError ||
      isParseArgsError(error)
    ) {
      err(`fundguard: ${(error as Error).message}`);
      return 2;
    }
    if (isUnreachable(error)) {
      err(
        `fundguard: cannot reach the ${command === 'review' ? 'flags' : 'rule set versions'} table (${(error as Error).message}); is the local stack running?`,
      );
      return 2;
    }
    throw error;
  }
}

/** The table a command reads (flags for `review`, rule set versions otherwise) is not there: the local stack stopped (refused connection) or another stage's table. */
const isUnreachable = (error: unknown): boolean =>
  (error as Error)?.name === 'ResourceNotFoundException' ||
  (error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED' ||
  (error as { cause?: NodeJS.ErrnoException })?.cause?.code === 'ECONNREFUSED';

const isParseArgsError = (error: unknown): boolean =>
  typeof (error as { code?: unknown })?.code === 'string' &&
  (error as { code: string }).code.startsWith('ERR_PARSE_ARGS_');

async function screen(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { stage: { type: 'string' }, input: { type: 'string' }, rules: { type: 'string' } },
    strict: true,
  });
  const stage = values.stage;
  if (stage !== 'pre' && stage !== 'in') throw new UsageError('--stage must be pre or in');
  if (!values.input) throw new UsageError('--input FILE.ndjson is required');
  const { screener } = loadCore(values.rules);
  // Claims earlier in the file are the patient's history, as they would be in the pipeline.
  const sequence = new SequentialScreening(screener, stage, new InMemoryHistoryStore());
  const summary = new ScreeningSummary();
  const schema = stage === 'pre' ? DraftClaim : Claim;
  const malformed = (problem: string): void => {
    summary.malformed += 1;
    err(problem);
  };
  for await (const claim of readClaims(values.input, schema, malformed)) {
    const { flags, decision } = await sequence.screen(claim);
    for (const flag of flags) out(JSON.stringify(flag));
    summary.addClaim(decision.outcome, flags);
  }
  err(summary.format());
  return summary.malformed ? 2 : 0;
}

async function rules(sub: string | undefined, args: string[]): Promise<number> {
  const io = { out, err, now: () => new Date() };
  switch (sub) {
    case 'backtest': {
      const opened = lazyVersions();
      try {
        return await backtest(args, {
          out,
          err,
          working: (dir) => loadCore(dir ?? defaultRulesDir()),
          baseline: async (which) => {
            if (which === 'published') return activeCore(opened.versions);
            if (!existsSync(which))
              throw new UsageError(`--baseline: ${which} is neither "published" nor a rules directory`);
            return loadCore(which);
          },
        });
      } finally {
        opened.close();
      }
    }
    case 'publish':
    case 'versions':
    case 'rollback': {
      const opened = openVersions();
      try {
        if (sub === 'publish') return await publish(args, rulesDirOption(args), opened.versions, io);
        if (sub === 'versions') return await listVersions(opened.versions, io);
        return await rollback(args, opened.versions, io);
      } finally {
        opened.close();
      }
    }
  }
  const { values } = parseArgs({ args, options: { rules: { type: 'string' } }, strict: true });
  const dir = values.rules ?? defaultRulesDir();
  switch (sub) {
    case 'lint': {
      const { ruleSet, periodRules } = loadAuditCore(dir);
      out(
        `${ruleSet.rules.length} rules valid (rule set ${ruleSet.version}), ${periodRules.rules.length} period rules and the post-event policy valid`,
      );
      // A warning, not a failure: a new rule is valid before the generator can exercise it.
      const untested = rulesWithoutInjector(ruleSet.rules.map((r) => r.file.id));
      if (untested.length)
        err(`warning: no generator injector for ${untested.join(', ')}: generated streams never break them`);
      return 0;
    }
    case 'list': {
      const { ruleSet } = loadCore(dir);
      for (const { file } of ruleSet.rules) {
        const actions = file.stages.map((s) => `${s}:${file.action[s]}`).join(' ');
        out(
          `${file.id.padEnd(26)} v${file.version}  ${file.basis.code.padEnd(17)} ${file.basis.ruleClass}  [${actions}] ${file.severity}/${file.result}`,
        );
      }
      return 0;
    }
    case 'schema': {
      const path = join(dir, 'schema', 'rule.schema.json');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, ruleJsonSchema());
      out(`written ${path}`);
      return 0;
    }
    case 'test': {
      const { ruleSet, catalogue, periodRules, policy } = loadAuditCore(dir);
      const results = [
        ...(await runFixtures(ruleSet, catalogue, readBaseClaim(dir))),
        ...(await runPeriodFixtures(periodRules, policy, readBaseClaim(dir))),
      ];
      let failed = 0;
      for (const r of results) {
        if (r.passed) out(`ok    ${r.ruleId}  ${r.expect}: ${r.fixture}`);
        else {
          failed += 1;
          out(`FAIL  ${r.ruleId}  ${r.expect}: ${r.fixture} — ${r.problem}`);
        }
      }
      out(`${results.length - failed} passed, ${failed} failed`);
      return failed ? 1 : 0;
    }
    default:
      throw new UsageError(
        `rules needs lint, test, list, schema, backtest, publish, versions or rollback, got "${sub ?? ''}"`,
      );
  }
}

/** Opened on first use, so a backtest against a directory needs no local stack. */
function lazyVersions(): ReturnType<typeof openVersions> {
  let opened: ReturnType<typeof openVersions> | undefined;
  return {
    get versions() {
      opened ??= openVersions();
      return opened.versions;
    },
    close: () => opened?.close(),
  };
}

/** `--rules DIR` among a subcommand's own options, else the project's rules. */
function rulesDirOption(args: readonly string[]): string {
  const i = args.indexOf('--rules');
  return (i >= 0 ? args[i + 1] : undefined) ?? defaultRulesDir();
}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${name} must be a non-negative number, got "${value}"`);
  return n;
}

async function generate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      month: { type: 'string' },
      outliers: { type: 'string' },
      claims: { type: 'string' },
      seed: { type: 'string' },
      'violation-rate': { type: 'string' },
      out: { type: 'string' },
      rules: { type: 'string' },
    },
    strict: true,
  });
  if (!values.out) throw new UsageError('--out FILE.ndjson is required');
  const rate = positiveNumber(values['violation-rate'], '--violation-rate', 0.05);
  if (rate > 1) throw new UsageError(`--violation-rate must be between 0 and 1, got ${rate}`);
  const core = loadCore(values.rules);
  if (values.month !== undefined) {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month))
      throw new UsageError(`--month must be YYYY-MM, got "${values.month}"`);
    const month = await writeMonth(
      values.out,
      {
        seed: positiveNumber(values.seed, '--seed', 1),
        period: values.month,
        claims: positiveNumber(values.claims, '--claims', 20_000),
        outlierHospitals: positiveNumber(values.outliers, '--outliers', 1),
      },
      core,
    );
    err(
      `${month.claims} claims of ${values.month} written to ${values.out}, ${month.truth.length} injected patterns (${values.out}.truth.json)`,
    );
    return 0;
  }
  const result = await generateClaims(
    {
      seed: positiveNumber(values.seed, '--seed', 1),
      claims: positiveNumber(values.claims, '--claims', 1000),
      violationRate: rate,
      ruleIds: core.ruleSet.rules.map((r) => r.file.id),
    },
    core,
  );
  writeGenerated(values.out, result);
  err(
    `${result.claims.length} claims written to ${values.out}, ${result.truth.length} with injected violations (${values.out}.truth.json)`,
  );
  return 0;
}

function catalogue(sub: string | undefined, args: string[]): number {
  if (sub !== 'import') throw new UsageError(`catalogue needs import, got "${sub ?? ''}"`);
  const { values, positionals } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      'child-max-age': { type: 'string' },
      'dry-run': { type: 'boolean' },
      check: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const source = positionals[0];
  if (!source) throw new UsageError('catalogue import needs the NHSA data directory');
  if (values['dry-run'] && values.check)
    throw new UsageError('catalogue import takes --dry-run or --check, not both');
  const childMaxAge = values['child-max-age'];
  const imported = importCatalogue(
    source,
    childMaxAge ? { childMaxAgeYears: Number(childMaxAge) } : undefined,
  );
  const outDir = values.out ?? `${defaultRulesDir()}/catalogue`;
  // What the import changes, before anything is written, so the author sees it first.
  out(formatDiff(diffCatalogue(readCommittedCatalogue(outDir), imported.catalogue), outDir));
  const stale = Object.entries(catalogueFileTexts(imported))
    .filter(([name, text]) => readTextOrUndefined(join(outDir, name)) !== text)
    .map(([name]) => name);
  out(formatCoverage(imported.catalogue, evaluatedRuleClasses(), imported.ruleClasses.ruleClasses));
  const diseases = loadIndicationDiseases(`${defaultRulesDir()}/reference`);
  out(`\n${formatIndicationCoverage(indicationCoverage(imported.catalogue.knowledgePoints, diseases))}`);
  if (values['dry-run'] || values.check) {
    out(stale.length === 0 ? `${outDir} is up to date` : `would rewrite ${stale.join(', ')} in ${outDir}`);
    return values.check && stale.length > 0 ? 1 : 0;
  }
  if (stale.length === 0) {
    out(`${outDir} is up to date: nothing written`);
    return 0;
  }
  writeCatalogue(imported, outDir);
  out(`written to ${outDir}`);
  return 0;
}

/** A file's text, or undefined when it does not exist yet. */
function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Rule class → the rule files naming it and the reference tables their subject kinds read, so the
 * import reports what is evaluated, and from what, not only what is parsed. A rule set that does
 * not validate is reported and the column left out: the import itself does not depend on the rules.
 */
function evaluatedRuleClasses(): Map<string, ClassEvaluation> | undefined {
  try {
    const byClass = new Map<string, ClassEvaluation>();
    for (const { file } of readRuleFiles(defaultRulesDir())) {
      const seen = byClass.get(file.basis.ruleClass) ?? { ruleIds: [], reference: [] };
      const reference = SUBJECT_KINDS.get(file.subject)?.reference ?? [];
      byClass.set(file.basis.ruleClass, {
        ruleIds: [...seen.ruleIds, file.id],
        reference: [...new Set([...seen.reference, ...reference])],
      });
    }
    return byClass;
  } catch (error) {
    if (!(error instanceof RuleSetError)) throw error;
    err(
      `the rule set does not validate, so coverage omits what rules evaluate:\n  ${error.problems.join('\n  ')}`,
    );
    return undefined;
  }
}
