import { Worker } from 'node:worker_threads';
import { fromWire, type WireError } from '../model/errors.js';
import { workerEntry } from '../worker-entry.js';
import type { LoadedConfig, LoadOptions } from './config.js';

type Answer = { loaded: LoadedConfig } | { error: WireError; stack?: string };

/**
 * loadConfig in a thread of its own, for the daemon: the validator (zod and the schema, a few MB of
 * heap and source text) is needed once at start, and a module loaded on the main thread is never
 * unloaded; a worker's heap goes when it ends. Resolves once the worker has ended; fails as
 * loadConfig would (a StartupError with the same message).
 */
export function loadConfigApart(opts: LoadOptions): Promise<LoadedConfig> {
  if (early?.key === keyOf(opts)) {
    const { answer } = early;
    early = null;
    return answer;
  }
  return inWorker(opts).answer;
}

const keyOf = (opts: LoadOptions): string => JSON.stringify([opts.file, opts.explicit, opts.testing]);
let early: { key: string; answer: Promise<LoadedConfig> } | null = null;

/**
 * Starts loadConfigApart now, for the next call with the same options to take: the daemon starts it
 * before its own modules load (cli.ts), so that the worker's start-up and zod's loading run beside them.
 * Resolves once the worker runs (its heap exists), or has ended.
 */
export function startLoadingConfigApart(opts: LoadOptions): Promise<void> {
  const { answer, running } = inWorker(opts);
  // Reported when taken; until then a failure must not count as an unhandled rejection.
  answer.catch(() => {});
  early = { key: keyOf(opts), answer };
  return running;
}

function inWorker(opts: LoadOptions): { answer: Promise<LoadedConfig>; running: Promise<void> } {
  const worker = new Worker(workerEntry('config/load-worker.js'), { workerData: opts });
  const running = new Promise<void>((resolve) => {
    worker.once('online', resolve);
    worker.once('exit', () => resolve());
  });
  const answer = new Promise<LoadedConfig>((resolve, reject) => {
    let reply: Answer | undefined;
    worker.once('message', (m: Answer) => (reply = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (reply === undefined) reject(new Error(`config worker ended (exit code ${code}) without an answer`));
      else if ('loaded' in reply) resolve(reply.loaded);
      else {
        const err = fromWire(reply.error);
        // Our own bug in there: keep its stack for the report.
        if (reply.error.kind === 'bug' && reply.stack) err.stack = reply.stack;
        reject(err);
      }
    });
  });
  return { answer, running };
}
