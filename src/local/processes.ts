/**
 * Child processes of the local stack that never outlive it: each runs under a watchdog shell in a
 * process group of its own, and is tracked so that however this process ends, it goes too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';
import { cleanUpOnExit } from '../on-exit.ts';

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
// watchdog pipe covers): each is stopped by its own clean-up until it exits.
const running = new Map<ChildProcess, () => void>();

function track(child: ChildProcess): void {
  running.set(
    child,
    cleanUpOnExit(() => killGroup(child, 'SIGTERM')),
  );
  child.once('exit', () => untrack(child));
}

function untrack(child: ChildProcess): void {
  running.get(child)?.();
  running.delete(child);
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
