// Worker threads do not inherit the main thread's tsx loader; this registers it, then loads the
// TypeScript worker named in workerData (see src/post/file.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
