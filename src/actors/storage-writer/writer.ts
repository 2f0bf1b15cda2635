import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';
import { fromWire } from '../../model/errors.js';
import type { PrivacyConfig } from '../../privacy/filters.js';
import { WriterOutcomeUnknown, WriterUnavailable, type WriteOp, type WriteResult, type Writer } from './ops.js';
import { workerEntry } from '../../worker-entry.js';
import type { FromThread, ToThread } from './thread.js';


/** One open database with its writer thread. Created by the storage-writer child. */
export interface StorageWriter extends Writer {
  /** Commit what is pending, then close. */
  close(): Promise<void>;
  /** After a crash: end the thread at once; what was not committed is rejected. */
  abort(reason?: unknown): void;
  /** Ops waiting for or in their commit. */
  readonly pending: number;
  stats(): WriterStats;
}

export interface StorageWriterOptions {
  log: Logger;
  /** The writer cannot go on (commit failed, thread died): the supervisor should restart it. */
  onFatal?: (err: unknown) => void;
  /** Drop and redact rules applied to every event before it is stored. */
  privacy?: PrivacyConfig;
  /** While true, no event is stored (buckets and settings still are). */
  paused?: () => boolean;
}

interface Pending {
  op: WriteOp;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most ops in one transaction; more wait for the next. */
const MAX_BATCH = 2_000;

/** What the writer did so far (bench:ingest prints ops per commit). */
export interface WriterStats {
  batches: number;
  ops: number;
}

/**
 * Opens the database on a writer thread. Group commit: while one batch commits, every op that
 * arrives waits and goes into the next batch, so batches grow with load and each op is answered
 * only after its batch's COMMIT (synchronous=FULL) returned.
 */
export async function openStorageWriter(file: string, opts: StorageWriterOptions): Promise<StorageWriter> {
  const { log } = opts;
  const worker = new Worker(workerEntry('actors/storage-writer/thread.js'), {
    workerData: { file, privacy: opts.privacy },
    // The writer allocates little at a time: a small young generation (2 MB semi-spaces) keeps
    // memory V8 would otherwise reserve for throughput (docs/performance.md).
    resourceLimits: { maxYoungGenerationSizeMb: 6 },
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromThread) => {
      worker.off('error', onError);
      if (m.kind === 'ready') resolve();
      else reject(new Error(m.kind === 'initError' ? `cannot open ${file}: ${m.message}` : `writer thread said ${m.kind}`));
    };
    const onError = (err: Error) => {
      worker.off('message', onMessage);
      reject(err);
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
  });

  let queue: Pending[] = [];
  let inFlight: Pending[] | null = null;
  let nextId = 1;
  let scheduled = false;
  let closing: Promise<void> | null = null;
  let dead = false;
  let drained: (() => void) | null = null;
  const stats: WriterStats = { batches: 0, ops: 0 };

  const send = () => {
    scheduled = false;
    if (dead || inFlight || queue.length === 0) {
      if (!inFlight && queue.length === 0) drained?.();
      return;
    }
    inFlight = queue.splice(0, MAX_BATCH);
    stats.batches++;
    stats.ops += inFlight.length;
    const msg: ToThread = { kind: 'batch', id: nextId++, ops: inFlight.map((p) => p.op), paused: opts.paused?.() ?? false };
    worker.postMessage(msg);
  };

  /** Rejects everything: what never reached the thread is retryable; what was committing is unknown. */
  const fail = (why: string) => {
    dead = true;
    for (const p of inFlight ?? []) p.reject('seq' in p.op && p.op.seq !== undefined ? new WriterUnavailable(why) : new WriterOutcomeUnknown());
    for (const p of queue) p.reject(new WriterUnavailable(why));
    inFlight = null;
    queue = [];
    drained?.();
  };

  worker.on('message', (m: FromThread) => {
    if (m.kind === 'done' && inFlight) {
      const batch = inFlight;
      inFlight = null;
      batch.forEach((p, i) => {
        const o = m.outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(fromWire(o.error));
      });
      log.debug({ ops: batch.length }, 'committed');
      send();
    } else if (m.kind === 'fatal' && inFlight) {
      // The commit failed and was rolled back: nothing of the batch is stored, so all of it may be retried.
      const batch = inFlight;
      inFlight = null;
      for (const p of batch) p.reject(new WriterUnavailable(`storage commit failed: ${m.message}`));
      log.error({ err: m.message }, 'storage commit failed');
      fail(`storage commit failed: ${m.message}`);
      void worker.terminate();
      opts.onFatal?.(new Error(m.message));
    }
  });
  worker.on('error', (err) => {
    log.error({ err }, 'storage writer thread failed');
    fail(`storage writer thread failed: ${err.message}`);
    opts.onFatal?.(err);
  });
  worker.on('exit', (code) => {
    if (dead || closing) return;
    fail(`storage writer thread exited (${code})`);
    opts.onFatal?.(new Error(`storage writer thread exited with code ${code}`));
  });

  return {
    submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>> {
      if (dead || closing) return Promise.reject(new WriterUnavailable());
      return new Promise((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled && !inFlight) {
          scheduled = true;
          setImmediate(send); // gather what arrives in this turn into one batch
        }
      });
    },
    close() {
      closing ??= (async () => {
        if (!dead && (inFlight || queue.length)) {
          await new Promise<void>((r) => {
            drained = r;
            if (!scheduled) send();
          });
        }
        if (dead) return;
        dead = true;
        const exited = new Promise((r) => worker.once('exit', r));
        worker.postMessage({ kind: 'close' } satisfies ToThread);
        await exited;
      })();
      return closing;
    },
    abort(reason) {
      if (dead) return;
      fail(`storage writer crashed: ${reason instanceof Error ? reason.message : String(reason)}`);
      void worker.terminate();
    },
    get pending() {
      return queue.length + (inFlight?.length ?? 0);
    },
    stats: () => ({ ...stats }),
  };
}
