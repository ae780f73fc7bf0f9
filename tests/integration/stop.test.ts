/**
 * `npm start` stops everything on SIGTERM or SIGINT, whether the signal reaches npm's process or
 * node's: no node, no DynamoDB Local JVM (nor its watchdog shell) outlives it. Local SQS runs inside
 * node, so node gone is SQS gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** pid → parent pid of every process now. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(entry), ppid);
    } catch (error) {
      // Gone between the listing and the read.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return out;
}

function descendants(root: number): number[] {
  const tree = parents();
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next = [...tree].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    // A zombie still answers until its parent reaps it; it runs nothing.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'ENOENT') return false;
    throw error;
  }
};

let started: { npm: ChildProcess; tree: number[] } | undefined;

afterEach(() => {
  // Whatever a failed test left running of what it started, by pid.
  for (const pid of started?.tree ?? []) if (alive(pid)) process.kill(pid, 'SIGKILL');
  started = undefined;
});

async function startStack(): Promise<{ npm: ChildProcess; tree: number[] }> {
  const npm = spawn('npm', ['start', '--', '--no-demo'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  npm.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const deadline = Date.now() + 150_000;
  while (!output.includes('the stack stays up')) {
    if (npm.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start did not come up:\n${output.slice(-2_000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = npm.pid ?? 0;
  started = { npm, tree: [pid, ...descendants(pid)] };
  return started;
}

async function survivorsAfter(tree: number[]): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 250));
  return tree.filter(alive).map((pid) => `${pid} ${commandOf(pid).slice(0, 120)}`);
}

describe('stopping npm start', () => {
  it.each([
    ['SIGTERM', "npm's process"],
    ['SIGINT', "node's process"],
  ] as const)(
    'stops node, DynamoDB Local’s JVM and local SQS on %s to %s',
    async (signal, target) => {
      const { npm, tree } = await startStack();
      const commands = tree.map(commandOf);
      expect(commands.some((c) => c.startsWith('java ') && c.includes('DynamoDBLocal'))).toBe(true);
      const node = tree.find(
        (_pid, i) => commands[i]?.includes('src/local/main.ts') && commands[i]?.startsWith('node'),
      );
      expect(node).toBeDefined();
      process.kill(target === "npm's process" ? (npm.pid ?? 0) : (node ?? 0), signal);
      expect(await survivorsAfter(tree)).toEqual([]);
    },
    240_000,
  );
});
