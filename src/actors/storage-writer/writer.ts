import type { Logger } from '../../log.js';
import { applyPrivacy, compilePrivacy, type PrivacyConfig } from '../../privacy/filters.js';
import { openEngine, type Engine } from './engine.js';
import { WriterUnavailable, type EventGate, type WriteOp, type WriteResult, type Writer } from './ops.js';

/** One open database and its write connection. Created by the storage-writer child. */
export interface StorageWriter extends Writer {
  /** Commit what is pending, then close. */
  close(): Promise<void>;
  /** After a crash: close at once; what was not committed is rejected. */
  abort(reason?: unknown): void;
  /** Ops waiting for their commit. */
  readonly pending: number;
  stats(): WriterStats;
}

export interface StorageWriterOptions {
  log: Logger;
  /** The writer cannot go on (a commit failed): the supervisor should restart it. */
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

/** Most ops in one transaction; more wait for the next turn of the event loop. */
const MAX_BATCH = 2_000;

/** What the writer did so far (bench:ingest prints ops per commit). */
export interface WriterStats {
  batches: number;
  ops: number;
}

/**
 * Opens the database for writing, on the main thread. Group commit: the ops that arrive within one
 * turn of the event loop go into one transaction, committed (synchronous=FULL) at the next turn;
 * each op is answered only after its batch's COMMIT returned.
 *
 * Why not a thread of its own (it was one until 2026-12-03): the heartbeat queue already commits
 * (and fsyncs) on the main thread, so a writer thread did not keep fsync off it, while it cost a
 * second V8 heap (≈ 10 MB at rest) and a message there and back per batch (≈ 35 µs of CPU per
 * REST write). A batch blocks the event loop for its commit: import batches are bounded
 * (IMPORT_BATCH events per op) and MAX_BATCH ops per commit, and each later batch waits a turn.
 * Results may be shared with the writer's caches (the last event per bucket): never mutate them.
 */
export async function openStorageWriter(file: string, opts: StorageWriterOptions): Promise<StorageWriter> {
  const { log } = opts;
  let engine: Engine;
  try {
    engine = openEngine(file);
  } catch (err) {
    throw new Error(`cannot open ${file}: ${(err as Error).message}`);
  }
  const filter = compilePrivacy(opts.privacy);
  const gate: EventGate = (bucket, e) => applyPrivacy(filter, bucket, e);
  const paused: EventGate = () => null; // nothing is recorded while paused

  let queue: Pending[] = [];
  let scheduled = false;
  let dead = false;
  let closing: Promise<void> | null = null;
  const stats: WriterStats = { batches: 0, ops: 0 };

  /** Rejects what waits: it never reached a transaction, so it may be retried elsewhere. */
  const fail = (why: string) => {
    dead = true;
    for (const p of queue) p.reject(new WriterUnavailable(why));
    queue = [];
    engine.close();
  };

  const commit = () => {
    scheduled = false;
    if (dead || queue.length === 0) return;
    const batch = queue.splice(0, MAX_BATCH);
    stats.batches++;
    stats.ops += batch.length;
    let outcomes;
    try {
      outcomes = engine.run(
        batch.map((p) => p.op),
        opts.paused?.() ? paused : gate,
      );
    } catch (err) {
      // The commit failed and was rolled back: nothing of the batch is stored, so all of it may be retried.
      const message = (err as Error).message;
      log.error({ err: message }, 'storage commit failed');
      for (const p of batch) p.reject(new WriterUnavailable(`storage commit failed: ${message}`));
      fail(`storage commit failed: ${message}`);
      opts.onFatal?.(err);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
    log.debug({ ops: batch.length }, 'committed');
    schedule();
  };
  const schedule = () => {
    if (scheduled || dead || queue.length === 0) return;
    scheduled = true;
    setImmediate(commit); // gather what arrives in this turn into one batch
  };

  return {
    submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>> {
      if (dead || closing) return Promise.reject(new WriterUnavailable());
      return new Promise((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    close() {
      closing ??= (async () => {
        while (!dead && queue.length > 0) {
          scheduled = false;
          commit();
          await new Promise((r) => setImmediate(r));
        }
        if (!dead) {
          dead = true;
          engine.close();
        }
      })();
      return closing;
    },
    abort(reason) {
      if (dead) return;
      fail(`storage writer crashed: ${reason instanceof Error ? reason.message : String(reason)}`);
    },
    get pending() {
      return queue.length;
    },
    stats: () => ({ ...stats }),
  };
}
