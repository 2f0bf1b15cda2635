import { openWritable } from '../../storage/open.js';
import { Reader } from '../../storage/read.js';
import { writerCaches } from './caches.js';
import { HANDLERS, bucketOf, type OpContext } from './handlers.js';
import type { EventGate, WriteOp } from './ops.js';
import { prepareStatements } from './statements.js';

export interface EngineOptions {
  /** bucket_changes rows kept (the newest); readers behind the oldest reload (default 100 000). */
  changeRetention?: number;
  /** Prune bucket_changes every this many batches, and on the first (default 1000). */
  pruneEvery?: number;
  /**
   * Commit without syncing (synchronous=NORMAL): a commit then survives kill -9 (it is in the WAL,
   * in the OS's cache) but not yet power loss. The caller makes it durable by syncing `walFile`
   * before it acknowledges the batch, off its thread (storage writer).
   */
  deferSync?: boolean;
}

/** An op's outcome: its result, or what it threw (its savepoint was rolled back). */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The synchronous core of the storage writer; owns the write connection. */
export interface Engine {
  /** Applies a batch in one transaction (a savepoint per op) and commits. Throws when the commit fails. */
  run(ops: WriteOp[], gate?: EventGate): Outcome[];
  /** The write-ahead log each commit appends to: what to sync for durability with `deferSync`. */
  readonly walFile: string;
  close(): void;
}

/**
 * Opens `file` for writing. Ops of a batch share one transaction; each runs in its own savepoint
 * so a bad op fails alone. With synchronous=FULL a returned batch is durable (see `deferSync`).
 */
export function openEngine(file: string, opts: EngineOptions = {}): Engine {
  const retention = opts.changeRetention ?? 100_000;
  const pruneEvery = opts.pruneEvery ?? 1000;
  const db = openWritable(file);
  if (opts.deferSync) db.pragma('synchronous = NORMAL');
  const reader = new Reader(db);
  const s = prepareStatements(db);
  const caches = writerCaches(reader);
  let gate: EventGate | undefined;
  // Smallest event start changed per bucket row: by the running op (opChanges), and by the ops of
  // the batch that succeeded (batchChanges), written to bucket_changes just before COMMIT.
  const opChanges = new Map<number, number>();
  const batchChanges = new Map<number, number>();
  let batches = 0;

  const ctx: OpContext = {
    db,
    s,
    reader,
    caches,
    changed(row, start) {
      const cur = opChanges.get(row);
      if (cur === undefined || start < cur) opChanges.set(row, start);
    },
    // Without a gate every event passes unchanged.
    admit: (name, e) => (gate ? gate({ id: name, type: caches.bucket(name).type }, e) : e),
  };

  /** Exactly-once delivery from the heartbeat queue: skip what a source already delivered. */
  function apply(op: WriteOp): unknown {
    const tracked = 'seq' in op && op.source !== undefined && op.seq !== undefined;
    if (tracked && op.seq! <= caches.appliedSeq(op.source!)) return null;
    const result = (HANDLERS[op.kind] as (op: WriteOp, c: OpContext) => unknown)(op, ctx);
    if (tracked) {
      s.setApplied.run(op.source!, op.seq!);
      caches.setApplied(op.source!, op.seq!);
    }
    return result;
  }

  function run(batch: WriteOp[], batchGate?: EventGate): Outcome[] {
    gate = batchGate;
    const results: Outcome[] = [];
    try {
      s.begin.run();
      batchChanges.clear();
      for (const op of batch) {
        s.savepoint.run();
        opChanges.clear();
        try {
          results.push({ ok: true, value: apply(op) });
          s.release.run();
          // Only now: a rolled-back op changed nothing.
          for (const [row, start] of opChanges) {
            const cur = batchChanges.get(row);
            if (cur === undefined || start < cur) batchChanges.set(row, start);
          }
        } catch (err) {
          s.rollbackTo.run();
          s.release.run();
          caches.rolledBack(bucketOf(op));
          results.push({ ok: false, error: err });
        }
      }
      recordChanges();
      s.commit.run();
    } catch (err) {
      // The transaction itself failed (I/O error, disk full): nothing of this batch is stored.
      if (db.inTransaction) db.exec('ROLLBACK');
      caches.clear();
      throw err;
    }
    return results;
  }

  /**
   * Appends this batch's bucket_changes rows inside its transaction, so readers see events and
   * change records together. A batch that changed no events still appends one row (bucketrow 0):
   * every commit of this writer advances the sequence, which lets readers tell its commits from
   * writes by anyone else (which they cannot trust and answer by dropping their caches).
   */
  function recordChanges(): void {
    if (batchChanges.size === 0) s.insertChange.run(0, Number.MAX_SAFE_INTEGER);
    for (const [row, start] of batchChanges) s.insertChange.run(row, start);
    batchChanges.clear();
    if (batches++ % pruneEvery === 0) s.pruneChanges.run(retention);
  }

  return {
    run,
    walFile: `${file}-wal`,
    close: () => db.close(),
  };
}
