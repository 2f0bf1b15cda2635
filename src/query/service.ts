import { Piscina } from 'piscina';
import { fromWire, InputError, Timeout } from '../model/errors.js';
import type { Logger } from '../log.js';
import { parseRequest } from './run.js';
import type { WorkerReply } from './worker.js';

export { runQuery, parseRequest } from './run.js';
export { memorySource, SqliteSource, type QuerySource, type BucketSummary } from './source.js';

export interface QueryService {
  /** Runs a raw POST /api/0/query/ body; resolves to one result per timeperiod. Rejects with InputError. */
  run(body: unknown): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface QueryServiceOptions {
  dbFile: string;
  /** Worker threads (default 2). */
  threads?: number;
  /** Per-request budget; the worker running an over-budget query is terminated (default 30 s). */
  timeoutMs?: number;
  /** Heap limit per worker; a query exceeding it fails instead of taking the process down (default 1024). */
  maxHeapMb?: number;
  /**
   * A request run once on each worker at start, in the background, so the web UI's first question
   * finds its events cached (errors are ignored).
   */
  warmUp?: () => unknown;
  log?: Logger;
}

/** The compiled worker: next to this file in dist/, or dist/query/worker.js when running from src (vitest). */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../dist/query/worker.js', here);
  return new URL('./worker.js', here);
}

export function createQueryService(opts: QueryServiceOptions): QueryService {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const threads = Math.max(1, opts.threads ?? 2);
  const pool = new Piscina({
    filename: workerUrl().href,
    // Workers stay: each holds a cache of the events it loaded (see source.ts).
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    workerData: { dbFile: opts.dbFile },
    resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 1024 },
  });
  // A terminated worker (time-out) is replaced by piscina; nothing to do but not crash on the event.
  pool.on('error', (err: unknown) => opts.log?.warn({ err }, 'query worker error'));
  let closed = false;
  const warm = opts.warmUp?.();
  if (warm !== undefined && warm !== null) {
    // One per worker: an idle worker takes each as it comes.
    for (let i = 0; i < threads; i++) void pool.run({ body: warm }, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {});
  }

  return {
    async run(body) {
      if (closed) throw new Error('query service is closed');
      // Cheap shape check here so bad requests never occupy a worker.
      parseRequest(body);
      const signal = AbortSignal.timeout(timeoutMs);
      const started = Date.now();
      let reply: WorkerReply;
      try {
        reply = (await pool.run({ body }, { signal })) as WorkerReply;
      } catch (err) {
        if (signal.aborted) {
          opts.log?.warn({ ms: Date.now() - started }, 'query timed out; worker terminated');
          throw new Timeout(`query timed out after ${timeoutMs} ms and was stopped`);
        }
        const code = (err as { code?: string }).code;
        if (code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(String((err as Error).message))) {
          throw new InputError('query ran out of memory and was stopped', 400);
        }
        throw err;
      }
      for (const line of reply.printed) opts.log?.info({ query_print: line }, 'query print()');
      if (!reply.ok) throw fromWire(reply.error);
      opts.log?.debug({ ms: Date.now() - started, periods: reply.result.length }, 'query done');
      return reply.result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.destroy();
    },
  };
}
