/**
 * Clean-ups that must run however this process ends short of SIGKILL: on exit, or when stopped by
 * SIGINT, SIGTERM or SIGHUP. The local stack stops its emulators' process groups this way; a file
 * audit removes its spill files (1.5 GB for a million claims) when it is interrupted with Ctrl-C.
 * Handlers are installed only while there is something to clean up.
 */

const TERMINATING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const cleanups = new Set<() => void>();

function runAll(): void {
  for (const cleanup of [...cleanups]) cleanup();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  // An application that listens for the signal stops us in its own order (npm start reports, then
  // stops the services) and so ends what is registered here.
  if (process.listenerCount(signal) > 0) return;
  runAll();
  // Our listener replaced Node's default (exit); re-raise so the process still ends.
  process.kill(process.pid, signal);
}

/** Runs `cleanup` if the process ends before the returned function is called; that call unregisters it. */
export function cleanUpOnExit(cleanup: () => void): () => void {
  if (cleanups.size === 0) {
    process.on('exit', runAll);
    for (const signal of TERMINATING_SIGNALS) process.once(signal, onTerminatingSignal);
  }
  cleanups.add(cleanup);
  return () => {
    if (!cleanups.delete(cleanup) || cleanups.size > 0) return;
    process.off('exit', runAll);
    for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminatingSignal);
  };
}
