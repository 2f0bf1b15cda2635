import { Piscina } from 'piscina';
import { fromWire, InputError, Timeout } from '../model/errors.js';
import type { Logger } from '../log.js';
import { openReadonly } from '../storage/open.js';
import { workerEntry } from '../worker-entry.js';
import { parseRequest } from './run.js';
import type { WorkerReply } from './worker.js';

export { runQuery } from './run.js';
export { memorySource, SqliteSource } from './source.js';

export interface QueryService {
  /** Runs a raw POST /api/0/query/ body; resolves to one result per timeperiod. Rejects with InputError. */
  run(body: unknown): Promise<unknown[]>;
  /** `run`, answered as the JSON text of the result list (what the HTTP API sends). */
  runJson(body: unknown): Promise<string>;
  /** Requests answered so far: by a worker, and from recent results; warm-up steps finished. */
  stats(): { ran: number; cached: number; warmUpSteps: number };
  /** Starts the workers (and their warm-up) now, if they are not running yet. */
  prepare(): void;
  close(): Promise<void>;
}

export interface QueryServiceOptions {
  dbFile: string;
  /** Worker threads (default 1). */
  threads?: number;
  /** Per-request budget; the worker running an over-budget query is terminated (default 30 s). */
  timeoutMs?: number;
  /** Heap limit per worker; a query exceeding it fails instead of taking the process down (default 1024). */
  maxHeapMb?: number;
  /**
   * Run on each worker at start, in the background, so the web UI's first question finds its events
   * cached and the engine compiled (errors are ignored): a request, or a list of requests run one
   * after another (warm.ts). The next step starts only while no question is waiting or running,
   * so questions never queue behind more than the one step in progress.
   */
  warmUp?: () => unknown;
  /**
   * After a question is answered, warm-up steps wait this long (default 1 s) before going on: the
   * page that asked is drawing its answer now, and on a machine with few cores a step would slow
   * that down.
   */
  warmUpPauseMs?: number;
  /**
   * Start the workers on first use (`prepare` or `run`) rather than at once: a daemon nobody asks
   * holds no worker threads (each costs ≈ 9 MB before it caches anything).
   */
  lazy?: boolean;
  /** Events each worker keeps cached (see span-cache.ts); default EVENT_CACHE_MAX. */
  cacheEvents?: number;
  /** Bytes of scratch arrays each worker keeps between queries (see arena.ts); default scratchBytesFor(64). */
  scratchBytes?: number;
  /**
   * Bytes of recent results (as JSON) kept to answer the same request again while the database is
   * unchanged — a view reloaded, or revisited (default 8 MiB; 0: none).
   */
  resultCacheBytes?: number;
  log?: Logger;
}

/**
 * Young generation of a query worker: a query makes a lot of short-lived garbage (clipped and
 * filtered lists, new events), and a young generation too small for it promotes much of it and
 * collects it again in the old one. 48 MB is V8's own default for a main thread; V8 grows it only
 * under such load. Against 12 MB: a year's activity query ≈ 20 % faster, a month's answer held
 * ≈ 7 MiB more (docs/performance.md, sixth session).
 */
const YOUNG_GENERATION_MB = 48;

export function createQueryService(opts: QueryServiceOptions): QueryService {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const threads = Math.max(1, opts.threads ?? 1);
  let pool: Piscina | null = null;
  let closed = false;
  const start = (): Piscina => {
    if (pool) return pool;
    pool = new Piscina({
      filename: workerEntry('query/worker.js').href,
      // Workers stay: each holds a cache of the events it loaded (see source.ts).
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      workerData: { dbFile: opts.dbFile, cacheEvents: opts.cacheEvents, scratchBytes: opts.scratchBytes },
      resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 1024, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    // A terminated worker (time-out) is replaced by piscina; nothing to do but not crash on the event.
    pool.on('error', (err: unknown) => opts.log?.warn({ err }, 'query worker error'));
    const warm = opts.warmUp?.();
    if (warm !== undefined && warm !== null) steps.push(...(Array.isArray(warm) ? warm : [warm]));
    nextStep();
    return pool;
  };
  /** Warm-up steps still to run; `stepping` while one runs, `asking` while questions are in flight. */
  const steps: unknown[] = [];
  let stepping = false;
  let warmUpSteps = 0;
  let asking = 0;
  const pauseMs = opts.warmUpPauseMs ?? 1_000;
  let answeredAt = -Infinity;
  let resume: NodeJS.Timeout | null = null;
  const nextStep = (): void => {
    if (stepping || asking > 0 || closed || !pool || steps.length === 0) return;
    const wait = answeredAt + pauseMs - performance.now();
    if (wait > 0) {
      resume ??= setTimeout(() => {
        resume = null;
        nextStep();
      }, wait).unref();
      return;
    }
    stepping = true;
    const body = steps.shift();
    const p = pool;
    // One per worker: an idle worker takes each as it comes.
    const runs = Array.from({ length: threads }, () => p.run({ body }, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {}));
    void Promise.all(runs).then(() => {
      warmUpSteps++;
      stepping = false;
      nextStep();
    });
  };
  if (!opts.lazy) start();
  const results = resultCache(opts.dbFile, opts.resultCacheBytes ?? 8 * 1024 * 1024);

  let ran = 0, cached = 0;
  const runJson = async (body: unknown): Promise<string> => {
    if (closed) throw new Error('query service is closed');
    // Cheap shape check here so bad requests never occupy a worker.
    parseRequest(body);
    const key = JSON.stringify(body);
    const version = results.version();
    const hit = results.get(key, version);
    if (hit !== undefined) {
      cached++;
      return hit;
    }
    const signal = AbortSignal.timeout(timeoutMs);
    const started = Date.now();
    let reply: WorkerReply;
    asking++;
    try {
      reply = (await start().run({ body }, { signal })) as WorkerReply;
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
    } finally {
      asking--;
      answeredAt = performance.now();
      nextStep();
    }
    for (const line of reply.printed) opts.log?.info({ query_print: line }, 'query print()');
    if (!reply.ok) throw fromWire(reply.error);
    ran++;
    opts.log?.debug({ ms: Date.now() - started, periods: reply.periods }, 'query done');
    // print() output is part of what a query does: such a query is asked again each time.
    if (reply.printed.length === 0) results.set(key, version, reply.json);
    return reply.json;
  };

  return {
    runJson,
    run: async (body) => JSON.parse(await runJson(body)) as unknown[],
    stats: () => ({ ran, cached, warmUpSteps }),
    prepare() {
      if (!closed) start();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (resume) clearTimeout(resume);
      results.close();
      await pool?.destroy();
    },
  };
}

/**
 * Recent results by request, valid while the database is unchanged: PRAGMA data_version on this
 * service's own connection changes with every commit of any other connection (the writer, an import),
 * so an entry is only served when nothing was written since the version it was stored under was read
 * (which was before its query ran). Least recently used entries go first past the byte budget.
 */
function resultCache(dbFile: string, maxBytes: number) {
  type Entry = { version: number; json: string; bytes: number };
  const entries = new Map<string, Entry>();
  let bytes = 0;
  let db: ReturnType<typeof openReadonly> | null = null;
  const drop = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    bytes -= e.bytes;
    entries.delete(key);
  };
  return {
    version(): number {
      if (maxBytes <= 0) return -1;
      try {
        db ??= openReadonly(dbFile);
        return db.pragma('data_version', { simple: true }) as number;
      } catch {
        return -1; // no database yet: nothing is cached
      }
    },
    get(key: string, version: number): string | undefined {
      const e = entries.get(key);
      if (!e || version < 0) return undefined;
      if (e.version !== version) {
        drop(key);
        return undefined;
      }
      // Most recently used last.
      entries.delete(key);
      entries.set(key, e);
      return e.json;
    },
    set(key: string, version: number, json: string): void {
      if (version < 0) return;
      const size = json.length + key.length;
      if (size > maxBytes / 4) return;
      drop(key);
      entries.set(key, { version, json, bytes: size });
      bytes += size;
      for (const k of entries.keys()) {
        if (bytes <= maxBytes) break;
        drop(k);
      }
    },
    close(): void {
      db?.close();
      db = null;
      entries.clear();
      bytes = 0;
    },
  };
}
