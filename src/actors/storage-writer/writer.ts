import fs from 'node:fs';
import type { Logger } from '../../log.js';
import { applyPrivacy, compilePrivacy, type PrivacyConfig } from '../../privacy/filters.js';
import { openEngine, type Engine } from './engine.js';
import { WriterOutcomeUnknown, WriterUnavailable, type EventGate, type WriteOp, type WriteResult, type Writer } from './ops.js';

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
  /** Called at the first busy commit: many ops, or a bulk op (an import, sync, a list of events). */
  onBusy?: () => void;
}

interface Pending {
  op: WriteOp;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most ops in one transaction; more wait for the next turn of the event loop. */
const MAX_BATCH = 2_000;

/** A batch this large, or holding a bulk op, is busy work (the built-in watchers write one op at a time). */
const BUSY_OPS = 8;
const isBulk = (op: WriteOp): boolean =>
  op.kind === 'importEvents' || op.kind === 'syncImport' || (op.kind === 'insertEvents' && op.events.length >= BUSY_OPS) || (op.kind === 'createBucket' && (op.events?.length ?? 0) > 0);

/** What the writer did so far (bench:ingest prints ops per commit). */
export interface WriterStats {
  batches: number;
  ops: number;
}

/**
 * Opens the database for writing, on the main thread. Group commit: the ops that arrive within one
 * turn of the event loop go into one transaction, committed at the next turn; each op is answered
 * only once its commit is on disk. The commit itself does not wait for the disk (synchronous=NORMAL:
 * it survives kill -9 at once); its write-ahead log is then synced on libuv's thread pool, and the
 * batch is answered when that returns: as durable as synchronous=FULL, without blocking the event
 * loop for the fsync (≈ 0.2 ms here, far more on a busy disk). (Readers may see a batch a moment
 * before it is answered: between its commit and its sync.)
 *
 * Why not a thread of its own (it was one until 2026-12-03): it cost a second V8 heap (≈ 10 MB at
 * rest) and a message there and back per batch (≈ 35 µs of CPU per REST write), and what a thread
 * kept off the event loop was mostly the fsync. A batch still holds the event loop for its SQLite
 * work: import ops are bounded (IMPORT_BATCH events) and MAX_BATCH ops go in one commit.
 * Results may be shared with the writer's caches (the last event per bucket): never mutate them.
 */
export async function openStorageWriter(file: string, opts: StorageWriterOptions): Promise<StorageWriter> {
  const { log } = opts;
  let engine: Engine;
  try {
    engine = openEngine(file, { deferSync: true });
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
  let onBusy = opts.onBusy;
  /** The WAL, opened at the first commit (SQLite creates it then); syncs of committed batches in flight. */
  let walFd: number | null = null;
  const syncing = new Set<Promise<void>>();
  const syncWal = (): Promise<void> =>
    new Promise((resolve, reject) => {
      walFd ??= fs.openSync(engine.walFile, 'r+');
      // fdatasync, as SQLite syncs its WAL: the data and what reading it needs (the file's size when
      // the log grew), without the modification time's journal commit.
      fs.fdatasync(walFd, (err) => (err ? reject(err) : resolve()));
    });
  /** Once no sync is in flight: the WAL's descriptor and the connection can go. */
  const release = async () => {
    while (syncing.size > 0) await Promise.allSettled([...syncing]);
    if (walFd !== null) fs.closeSync(walFd);
    walFd = null;
    engine.close();
  };

  /** Rejects what waits: it never reached a transaction, so it may be retried elsewhere. */
  const fail = (why: string) => {
    dead = true;
    for (const p of queue) p.reject(new WriterUnavailable(why));
    queue = [];
    void release();
  };

  const commit = () => {
    scheduled = false;
    if (dead || queue.length === 0) return;
    const batch = queue.splice(0, MAX_BATCH);
    stats.batches++;
    stats.ops += batch.length;
    if (onBusy && (batch.length >= BUSY_OPS || batch.some((p) => isBulk(p.op)))) {
      onBusy();
      onBusy = undefined;
    }
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
    const synced = syncWal().then(
      () => {
        batch.forEach((p, i) => {
          const o = outcomes[i]!;
          if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        });
        log.debug({ ops: batch.length }, 'committed');
      },
      (err: unknown) => {
        // Committed, but maybe not on disk: a retry could store it twice, so the outcome is unknown.
        log.error({ err }, 'storage commit could not be synced');
        for (const p of batch) p.reject(new WriterOutcomeUnknown());
        if (!dead) {
          fail(`storage sync failed: ${(err as Error).message}`);
          opts.onFatal?.(err);
        }
      },
    );
    syncing.add(synced);
    void synced.finally(() => {
      syncing.delete(synced);
      schedule();
    });
  };
  // One commit at a time: what arrives while a batch syncs waits and goes into the next batch, so
  // batches grow with load (fewer commits, each a WAL write and an fsync).
  const schedule = () => {
    if (scheduled || dead || queue.length === 0 || syncing.size > 0) return;
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
          await release();
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
