import { parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../model/errors.js';
import { loadConfig, type LoadOptions } from './config.js';

// Worker of load-apart.ts: one answer, then the thread ends (nothing keeps it) and zod goes with it.
try {
  parentPort!.postMessage({ loaded: loadConfig(workerData as LoadOptions) });
} catch (err) {
  parentPort!.postMessage({ error: toWire(err), stack: err instanceof Error ? err.stack : undefined });
}
