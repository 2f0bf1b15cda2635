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
  return inWorker(opts);
}

const keyOf = (opts: LoadOptions): string => JSON.stringify([opts.file, opts.explicit, opts.testing]);
let early: { key: string; answer: Promise<LoadedConfig> } | null = null;

/**
 * Starts loadConfigApart now, for the next call with the same options to take: the daemon starts it
 * before its own modules load (cli.ts), so that the worker's start-up and zod's loading run beside them.
 * `online`: called once the worker runs (its heap exists).
 */
export function startLoadingConfigApart(opts: LoadOptions, online?: () => void): void {
  const answer = inWorker(opts, online);
  // Reported when taken; until then a failure must not count as an unhandled rejection.
  answer.catch(() => {});
  early = { key: keyOf(opts), answer };
}

/** `online`: called once the worker runs (its heap exists). */
function inWorker(opts: LoadOptions, online?: () => void): Promise<LoadedConfig> {
  return new Promise((resolve, reject) => {
    let answer: Answer | undefined;
    const worker = new Worker(workerEntry('config/load-worker.js'), { workerData: opts });
    if (online) worker.once('online', online);
    worker.once('message', (m: Answer) => (answer = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (answer === undefined) reject(new Error(`config worker ended (exit code ${code}) without an answer`));
      else if ('loaded' in answer) resolve(answer.loaded);
      else {
        const err = fromWire(answer.error);
        // Our own bug in there: keep its stack for the report.
        if (answer.error.kind === 'bug' && answer.stack) err.stack = answer.stack;
        reject(err);
      }
    });
  });
}
