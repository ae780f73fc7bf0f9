/**
 * `npm start`: the whole pipeline on loopback. DynamoDB Local and local SQS with the tables and
 * queues of src/resources.ts, the in-process Lambda handler behind a Lambda-like poller, and a
 * demo stream of generated claims with a live summary. `npm start -- --help` lists the options.
 */
import { Console } from 'node:console';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildConsole } from '../../console/build.ts';
import { UsageError } from '../cli/usage.ts';
import type { Claim } from '../contracts/claim.ts';
import { loadCore } from '../core.ts';
import { generateClaims } from '../generator/generate.ts';
import { type LocalApi, startLocalApi } from './api.ts';
import { busiestMonth, runLocalAudit } from './audit.ts';
import { type LocalServices, localClientConfig, startLocalServices } from './emulators.ts';
import { applyEnvironment, lambdaEnvironment } from './lambda-env.ts';
import { type Poller, startPoller } from './poller.ts';
import { createResources } from './provisioning.ts';
import { type LocalReview, startLocalReview } from './review-server.ts';
import { sendStream } from './stream.ts';
import { AlertsConsumer, countItems, LiveSummary, queueDepth } from './summary.ts';

const USAGE = `usage: npm start [-- options]
  --no-demo                 keep the stack, the pre-event API and the console up without streaming claims (Ctrl-C stops it)
  --exit                    stop after the demo instead of keeping the console up with the demo's flags
  --rate N                  claims per second in the demo (default 300)
  --duration S              seconds of demo stream (default 60)
  --seed N                  generator seed (default: a new one each run, printed)
  --violation-rate R        share of claims with an injected violation (default 0.05)
  --data-dir DIR            keep DynamoDB data in DIR between runs (default: in memory)
  --visibility-timeout S    claims queue visibility timeout locally (default 5; AWS uses src/resources.ts)
  --audit YYYY-MM           audit this period (post-event) when the demo ends, or at once with --no-demo
                            (default: the demo's own period at its end)`;

const STAGE = 'local';
const STATE_DIR = resolve('.fundguard');

function options() {
  const { values } = parseArgs({
    options: {
      'no-demo': { type: 'boolean', default: false },
      exit: { type: 'boolean', default: false },
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '60' },
      seed: { type: 'string' },
      'violation-rate': { type: 'string', default: '0.05' },
      'data-dir': { type: 'string' },
      'visibility-timeout': { type: 'string', default: '5' },
      audit: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const number = (name: keyof typeof values, min: number, max: number): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${values[name]}"`);
    return n;
  };
  return {
    help: values.help,
    demo: !values['no-demo'],
    exit: values.exit,
    rate: number('rate', 1, 5_000),
    duration: number('duration', 1, 3_600),
    seed: values.seed === undefined ? Date.now() % 1_000_000 : number('seed', 0, 2 ** 31),
    violationRate: number('violation-rate', 0, 1),
    dataDir: values['data-dir'] ? resolve(values['data-dir']) : undefined,
    visibilityTimeout: number('visibility-timeout', 2, 43_200),
    audit: auditPeriod(values.audit),
  };
}

function auditPeriod(value: string | undefined): string | undefined {
  if (value !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(value))
    throw new RangeError(`--audit must be a period YYYY-MM, got "${value}"`);
  return value;
}

const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * Handler logs (Powertools, JSON) go to a file so the live summary stays readable; the reasons of
 * failed claims are kept for the summary. POWERTOOLS_DEV makes the logger use the global console,
 * which is replaced here before any function module is imported.
 */
function redirectLogs(file: string, summary: LiveSummary): void {
  const log = createWriteStream(file, { flags: 'a' });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log.write(chunk);
      summary.noteLog(chunk.toString('utf8'));
      done();
    },
  });
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  globalThis.console = new Console({ stdout: sink, stderr: sink });
}

async function main(): Promise<number> {
  const opts = options();
  if (opts.help) {
    print(USAGE);
    return 0;
  }
  mkdirSync(join(STATE_DIR, 'logs'), { recursive: true });
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const summary = new LiveSummary();
  const logFile = join(STATE_DIR, 'logs', 'functions.log');
  redirectLogs(logFile, summary);

  let stopping = false;
  let services: LocalServices | undefined;
  let poller: Poller | undefined;
  let alerts: AlertsConsumer | undefined;
  let api: LocalApi | undefined;
  let review: LocalReview | undefined;
  const shutdown = async (): Promise<void> => {
    await review?.stop();
    await api?.stop();
    await poller?.stop();
    await alerts?.stop();
    await services?.stop();
  };
  const done = new Promise<void>((resolveDone) => {
    // Persistent listeners: with none left, the local services' own handler would re-raise the
    // signal and end the process before the clean shutdown below. A second signal ends it at once
    // (the JVM's watchdog pipe still takes DynamoDB Local down with us).
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      print(`\n${signal}: stopping the API, the poller, DynamoDB Local and SQS…`);
      resolveDone();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Whoever started us (npm, a shell) died without passing a signal on: stop as if it had.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent && !stopping) onSignal('SIGHUP');
    }, 1_000).unref();
  });

  const started = performance.now();
  print('FundGuard local stack: starting DynamoDB Local (Java) and local SQS on loopback…');
  services = await startLocalServices({ dynamodb: opts.dataDir ? { dataDir: opts.dataDir } : {} });
  try {
    const resources = await createResources(services.endpoints, STAGE, {
      queues: { claims: { visibilityTimeoutSeconds: opts.visibilityTimeout } },
    });
    const env = lambdaEnvironment(services.endpoints, resources);
    applyEnvironment(env);
    // Imported only now: the handler reads its tables and endpoints from the environment at cold start.
    const { handler } = await import('../../functions/in-process.ts');
    const sqs = new SQSClient(localClientConfig(services.endpoints.sqs));
    const dynamodb = new DynamoDBClient(localClientConfig(services.endpoints.dynamodb));
    poller = await startPoller({
      sqs,
      queueUrl: resources.queues.claims.url,
      handler,
      concurrency: 8,
      functionName: `${STAGE}-in-process`,
    });
    alerts = AlertsConsumer.start(sqs, resources.queues.alerts.url, summary);
    api = await startLocalApi({
      endpoints: services.endpoints,
      tables: resources.tables,
      stateDir: STATE_DIR,
    });
    await buildConsole();
    review = await startLocalReview({
      endpoints: services.endpoints,
      tables: resources.tables,
      stateDir: STATE_DIR,
    });

    const local = {
      region: env.AWS_REGION,
      endpoints: services.endpoints,
      tables: resources.tables,
      queues: resources.queues,
      api: { url: api.url, keysFile: join(STATE_DIR, 'api-keys.local.json') },
      consoleUrl: review.url,
      review: {
        url: `${review.url}/v1/review`,
        openapi: `${review.url}/openapi.json`,
        tokensFile: review.tokensFile,
      },
      dataDir: opts.dataDir ?? null,
      logs: logFile,
    };
    writeFileSync(join(STATE_DIR, 'local.json'), `${JSON.stringify(local, null, 2)}\n`);
    print(
      `ready in ${((performance.now() - started) / 1000).toFixed(1)} s — written to .fundguard/local.json:`,
    );
    print(
      `  DynamoDB Local  ${services.endpoints.dynamodb}  (listens on all interfaces: it has no bind option)`,
    );
    print(`  SQS             ${services.endpoints.sqs}`);
    for (const [name, table] of Object.entries(resources.tables))
      print(`  table ${name.padEnd(12)} ${table}`);
    for (const [name, q] of Object.entries(resources.queues))
      print(`  queue ${name.padEnd(12)} ${q.url}  (DLQ ${q.dlqUrl})`);
    print(`  function logs   ${logFile}`);
    print(`  pre-event API   ${api.url}  (a key per hospital in .fundguard/api-keys.local.json)`);
    print(
      `  console         ${review.url}  (OpenAPI: ${review.url}/openapi.json; tokens in ${review.tokensFile})`,
    );
    print(`\ntry it (a draft order for hospital H3001):\n${api.curlExample}\n${api.alertsCurlExample}`);
    print(loginLines(review));

    const audit = (period: string) =>
      runLocalAudit({
        dynamodbEndpoint: services?.endpoints.dynamodb ?? '',
        tables: resources.tables,
        period,
        print,
      });
    if (!opts.demo) {
      if (opts.audit) await audit(opts.audit);
      print('\nno demo: the stack stays up until Ctrl-C.');
      await done;
      return 0;
    }

    const core = loadCore();
    const count = Math.round(opts.rate * opts.duration);
    const generated = await generateClaims(
      {
        seed: opts.seed,
        claims: count,
        violationRate: opts.violationRate,
        ruleIds: core.ruleSet.rules.map((r) => r.file.id),
      },
      core,
    );
    const bodies = withPoison(generated.claims);
    const poison = bodies.length - generated.claims.length;
    print(
      `\ndemo: ${generated.claims.length} generated claims (seed ${opts.seed}, ${generated.truth.length} with injected violations) and ${poison} malformed messages, at ${opts.rate}/s`,
    );
    summary.start(bodies.length);
    const ticker = setInterval(async () => {
      const dlq = await queueDepth(sqs, resources.queues.claims.dlqUrl);
      if (poller) print(summary.progressLine(poller.counters, dlq));
    }, 2_000);
    try {
      await sendStream({
        sqs,
        queueUrl: resources.queues.claims.url,
        bodies,
        rate: opts.rate,
        onSent: (sent) => summary.sent(sent.length),
        stopped: () => stopping,
      });
      // Drained: every message decided or in the DLQ (poison needs maxReceiveCount receives first),
      // and none left in the queue, visible or in flight: a message delivered twice (its visibility
      // ran out while it was decided) counts twice in `succeeded`, so that sum alone can run ahead.
      while (!stopping) {
        const dlq = await queueDepth(sqs, resources.queues.claims.dlqUrl);
        if (
          poller.counters.succeeded + dlq >= summary.sentCount &&
          (await queueDepth(sqs, resources.queues.claims.url)) === 0 &&
          alerts.idle()
        )
          break;
        await Promise.race([done, new Promise((r) => setTimeout(r, 250))]);
      }
    } finally {
      clearInterval(ticker);
    }
    // Stop consuming first, so nothing moves between the queue, the DLQ and the table while counted.
    await poller.stop();
    const dlq = await queueDepth(sqs, resources.queues.claims.dlqUrl);
    const queued = await queueDepth(sqs, resources.queues.claims.url);
    const decided = await countItems(dynamodb, resources.tables.decisions);
    print(
      summary.finalReport(poller.counters, dlq, decided, queued, {
        truth: generated.truth,
        claims: generated.claims.length,
      }),
    );
    if (!stopping) await audit(opts.audit ?? busiestMonth(generated.claims));
    sqs.destroy();
    dynamodb.destroy();
    if (!opts.exit && !stopping) {
      print(`\nthe demo's flags stay in the tables: the console is up until Ctrl-C.${loginLines(review)}`);
      await done;
    }
    return 0;
  } finally {
    await shutdown();
    print('stopped: DynamoDB Local, SQS and the poller are down.');
  }
}

/** Where to sign into the console as an auditor and as a hospital. */
function loginLines(review: LocalReview): string {
  const first = (predicate: (t: LocalReview['tokens'][number]) => boolean) => review.tokens.find(predicate);
  const lines = [
    first((t) => t.actorId === 'auditor-1'),
    first((t) => t.actorId === 'auditor-2'),
    first((t) => t.role === 'rule-author'),
    first((t) => t.hospitalId === 'H3001'),
  ]
    .filter((t) => t !== undefined)
    .map((t) => `  ${t.name.padEnd(22)} ${review.loginUrl(t.token)}`);
  return `\nconsole: sign in as\n${lines.join('\n')}`;
}

/** The claims as messages, with a few malformed ones among them, as real feeds have: they must land in the DLQ, alone. */
function withPoison(claims: readonly Claim[]): string[] {
  const out: string[] = [];
  const every = Math.max(50, Math.floor(claims.length / 6));
  claims.forEach((claim, i) => {
    const body = JSON.stringify(claim);
    out.push(body);
    if (i % every !== every - 1) return;
    const kind = Math.floor(i / every) % 3;
    const [first] = claim.items;
    if (kind === 0) out.push(body.slice(0, body.length / 2));
    else if (kind === 1 && first)
      out.push(
        JSON.stringify({
          ...claim,
          claimId: `${claim.claimId}-X`,
          items: [{ ...first, quantity: String(first.quantity) }],
        }),
      );
    else out.push(JSON.stringify({ ...claim, claimId: `${claim.claimId}-Y`, patient: undefined }));
  });
  return out;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const badArgs =
      error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`fundguard local: ${reason}\n${badArgs ? `${USAGE}\n` : ''}`);
    process.exit(badArgs ? 2 : 1);
  },
);
