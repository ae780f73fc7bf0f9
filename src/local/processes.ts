/**
 * Child processes of the local stack that never outlive it: each runs under a watchdog shell in a
 * process group of its own, and is tracked so that however this process ends, it goes too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';

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
 * Runs `command args…` under the watchdog, in its own process group (so stopping it reaches the
 * shell, the command and the watchdog), tracked until it exits. Its stdio are pipes.
 */
export function spawnGuarded(
  name: string,
  command: string,
  args: readonly string[],
  cwd: string,
): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, name, command, ...args], {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  return child;
}

/** The last few KB of a child's output, drained continuously so a full pipe never blocks it. */
export function outputTail(child: ChildProcess): () => string {
  let tail = '';
  const append = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_096);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => tail.trim() || '(no output)';
}

export const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export const describeExit = (child: ChildProcess) =>
  child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode ?? 'none'}`;

export async function stopProcessGroup(child: ChildProcess): Promise<void> {
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

export async function freePort(): Promise<number> {
  // No host: DynamoDB Local binds every interface, so the port must be free on all of them.
  const server = createNetServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function listen(server: Server, port = 0, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
