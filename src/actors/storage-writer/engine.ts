import type Database from 'better-sqlite3';
import type { Bucket } from '../../model/bucket.js';
import { InputError, notFound } from '../../model/errors.js';
import { canonicalJson, endOf, type Event } from '../../model/event.js';
import { mergeHeartbeat } from '../../model/heartbeat.js';
import { openWritable } from '../../storage/open.js';
import { Reader } from '../../storage/read.js';
import type { EventGate, WriteOp } from './ops.js';

export const MAX_SETTING_KEY = 127;

/** min_start of a change that covers a whole bucket (deleted or (re)created): readers drop all they cached. */
export const WHOLE_BUCKET = Number.MIN_SAFE_INTEGER;

export interface EngineOptions {
  /** bucket_changes rows kept (the newest); readers behind the oldest reload (default 100 000). */
  changeRetention?: number;
  /** Prune bucket_changes every this many batches, and on the first (default 1000). */
  pruneEvery?: number;
}

/** An op's outcome as it crosses the thread boundary. */
export type Outcome = { ok: true; value: unknown } | { ok: false; message: string; status?: number };

/** The synchronous core of the storage writer; runs on the writer thread, owns the connection. */
export interface Engine {
  /** Applies a batch in one transaction (a savepoint per op) and commits. Throws when the commit fails. */
  run(ops: WriteOp[], gate?: EventGate): Outcome[];
  close(): void;
}

/**
 * Opens `file` for writing. Ops of a batch share one transaction; each runs in its own savepoint
 * so a bad op fails alone. With synchronous=FULL a returned batch is durable.
 */
export function openEngine(file: string, opts: EngineOptions = {}): Engine {
  const retention = opts.changeRetention ?? 100_000;
  const pruneEvery = opts.pruneEvery ?? 1000;
  const db = openWritable(file);
  const reader = new Reader(db);
  const s = statements(db);
  let gate: EventGate | undefined;
  // Per-bucket "last event" (newest by start, ties lowest id); undefined = unknown, reload from DB.
  const lastEvents = new Map<number, Event | null>();
  const bucketRows = new Map<string, { row: number; type: string }>();
  const applied = new Map<string, number>();
  // Smallest event start changed per bucket row: by the running op (opChanges), and by the ops of
  // the batch that succeeded (batchChanges), written to bucket_changes just before COMMIT.
  const opChanges = new Map<number, number>();
  const batchChanges = new Map<number, number>();
  let batches = 0;
  const changed = (row: number, start: number): void => {
    const cur = opChanges.get(row);
    if (cur === undefined || start < cur) opChanges.set(row, start);
  };

  const bucketOf = (name: string): { row: number; type: string } => {
    let b = bucketRows.get(name);
    if (b === undefined) {
      const found = reader.bucket(name);
      if (!found) throw notFound(`The requested bucket '${name}' does not exist`);
      bucketRows.set(name, (b = { row: found.row, type: found.type }));
    }
    return b;
  };
  const rowOf = (name: string): number => bucketOf(name).row;
  /** The privacy gate; without one every event passes unchanged. */
  const admit = (name: string, e: Event): Event | null => (gate ? gate({ id: name, type: bucketOf(name).type }, e) : e);

  const lastOf = (row: number): Event | null => {
    let last = lastEvents.get(row);
    if (last === undefined) lastEvents.set(row, (last = reader.lastEvent(row) ?? null));
    return last;
  };

  const insertEvent = (row: number, e: Event, id: number | null = null): Event => {
    const info = s.insertEvent.run(id, row, e.timestamp, endOf(e), JSON.stringify(e.data));
    changed(row, e.timestamp);
    return { ...e, id: Number(info.lastInsertRowid) };
  };

  /** Exactly-once delivery from the heartbeat queue: skip what a source already delivered. */
  function apply(op: WriteOp): unknown {
    const tracked = 'seq' in op && op.source !== undefined && op.seq !== undefined;
    if (tracked) {
      let done = applied.get(op.source!);
      if (done === undefined) applied.set(op.source!, (done = reader.appliedSeq(op.source!)));
      if (op.seq! <= done) return null;
    }
    const result = applyOp(op);
    if (tracked) {
      s.setApplied.run(op.source!, op.seq!);
      applied.set(op.source!, op.seq!);
    }
    return result;
  }

  function applyOp(op: WriteOp): unknown {
    switch (op.kind) {
      case 'maintenance': {
        if (op.optimize) db.pragma('optimize');
        const free = () => db.pragma('freelist_count', { simple: true }) as number;
        const autoVacuum = db.pragma('auto_vacuum', { simple: true }) as number;
        const freePagesBefore = free();
        if (autoVacuum === 2 && freePagesBefore > 0 && op.vacuumPages > 0) db.pragma(`incremental_vacuum(${Math.floor(op.vacuumPages)})`);
        return { autoVacuum, freePagesBefore, freePagesAfter: free() };
      }
      case 'createBucket': {
        const b: Bucket = op.bucket;
        const info = s.insertBucket.run(b.id, b.type, b.client, b.hostname, b.created, JSON.stringify(b.data));
        if (info.changes === 0) return { created: false };
        const row = Number(info.lastInsertRowid);
        // The row number may be one a deleted bucket had: whatever readers cached for it is void.
        changed(row, WHOLE_BUCKET);
        bucketRows.set(b.id, { row, type: b.type });
        for (const e of op.events ?? []) {
          const kept = admit(b.id, e);
          if (kept) insertEvent(row, kept);
        }
        lastEvents.delete(row);
        return { created: true };
      }
      case 'updateBucket': {
        const row = rowOf(op.id);
        const cur = reader.bucket(op.id)!;
        const next = { ...cur, ...op.patch };
        s.updateBucket.run(next.type, next.client, next.hostname, JSON.stringify(next.data), row);
        return null;
      }
      case 'deleteBucket': {
        const row = rowOf(op.id);
        s.deleteBucketEvents.run(row);
        s.deleteBucket.run(row);
        changed(row, WHOLE_BUCKET);
        bucketRows.delete(op.id);
        lastEvents.delete(row);
        return null;
      }
      case 'insertEvents': {
        const row = rowOf(op.bucket);
        // Check every replacement first: an id owned by another bucket is refused and nothing is stored.
        const oldStarts = new Map<number, number>();
        for (const e of op.events) {
          if (e.id === null) continue;
          const owner = s.eventOwner.get(e.id) as { bucketrow: number; starttime: number } | undefined;
          if (owner && owner.bucketrow !== row) {
            throw new InputError(`event id ${e.id} belongs to another bucket`, 400);
          }
          if (owner) oldStarts.set(e.id, owner.starttime);
        }
        const out = op.events.map((raw) => {
          const e = admit(op.bucket, raw);
          if (!e) return { ...raw, id: null }; // not stored (paused, or dropped by a privacy rule)
          if (e.id === null) return insertEvent(row, e);
          s.replaceEvent.run(e.id, row, e.timestamp, endOf(e), JSON.stringify(e.data));
          changed(row, e.timestamp);
          // The replaced row's old start (an earlier op of this list may have replaced it already).
          const old = oldStarts.get(e.id);
          if (old !== undefined) changed(row, old);
          oldStarts.set(e.id, e.timestamp);
          return { ...e };
        });
        lastEvents.delete(row);
        return out;
      }
      case 'deleteEvent': {
        const row = rowOf(op.bucket);
        const gone = s.deleteEvent.all(op.id, row) as { starttime: number }[];
        for (const g of gone) changed(row, g.starttime);
        lastEvents.delete(row);
        return { deleted: gone.length };
      }
      case 'heartbeat': {
        const row = rowOf(op.bucket);
        const hb = admit(op.bucket, op.event);
        if (!hb) return null; // not stored (paused, or dropped by a privacy rule)
        const last = lastOf(row);
        const merged = mergeHeartbeat(last, hb, op.pulsetime);
        let result: Event;
        if (merged) {
          s.updateEventSpan.run(merged.timestamp, endOf(merged), merged.id);
          changed(row, Math.min(merged.timestamp, last!.timestamp));
          lastEvents.set(row, merged);
          result = merged;
        } else {
          result = insertEvent(row, hb);
          if (!last || result.timestamp > last.timestamp) lastEvents.set(row, result);
        }
        return result;
      }
      case 'importEvents': {
        const row = rowOf(op.bucket);
        if (op.events.length === 0) return { inserted: 0 };
        let lo = Infinity, hi = -Infinity;
        for (const e of op.events) {
          lo = Math.min(lo, e.timestamp);
          hi = Math.max(hi, e.timestamp);
        }
        // Identity = (start, duration, data with sorted keys), as the reference's import merge.
        const key = (start: number, dur: number, data: unknown) => `${start}|${dur}|${canonicalJson(data)}`;
        const seen = new Set<string>();
        if (!op.fresh) {
          for (const r of s.eventsStartingIn.iterate(row, lo, hi) as Iterable<{ starttime: number; endtime: number; data: string }>) {
            seen.add(key(r.starttime, r.endtime - r.starttime, JSON.parse(r.data)));
          }
        }
        let inserted = 0;
        for (const raw of op.events) {
          const e = admit(op.bucket, raw);
          if (!e || (!op.fresh && seen.has(key(e.timestamp, e.duration, e.data)))) continue;
          insertEvent(row, e);
          inserted++;
        }
        lastEvents.delete(row);
        return { inserted };
      }
      case 'deleteEvents': {
        let deleted = 0;
        for (const id of op.ids) {
          for (const g of s.deleteEventById.all(id) as { bucketrow: number; starttime: number }[]) {
            changed(g.bucketrow, g.starttime);
            deleted++;
          }
        }
        lastEvents.clear();
        return { deleted };
      }
      case 'setSetting': {
        checkSettingKey(op.key);
        s.setSetting.run(`settings.${op.key}`, JSON.stringify(op.value ?? null), Math.floor(Date.now() / 1000));
        return null;
      }
      case 'deleteSetting': {
        checkSettingKey(op.key);
        s.deleteSetting.run(`settings.${op.key}`);
        return null;
      }
    }
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
          forgetCaches(op);
          results.push({ ok: false, message: (err as Error).message, status: err instanceof InputError ? err.status : undefined });
        }
      }
      recordChanges();
      s.commit.run();
    } catch (err) {
      // The transaction itself failed (I/O error, disk full): nothing of this batch is stored.
      if (db.inTransaction) db.exec('ROLLBACK');
      lastEvents.clear();
      bucketRows.clear();
      applied.clear();
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

  function forgetCaches(op: WriteOp): void {
    const name = bucketNameOf(op);
    if (name === undefined) return;
    const b = bucketRows.get(name);
    if (b !== undefined) lastEvents.delete(b.row);
    bucketRows.delete(name);
    applied.clear();
  }

  return {
    run,
    close: () => db.close(),
  };
}

function bucketNameOf(op: WriteOp): string | undefined {
  switch (op.kind) {
    case 'createBucket':
      return op.bucket.id;
    case 'updateBucket':
    case 'deleteBucket':
      return op.id;
    case 'insertEvents':
    case 'deleteEvent':
    case 'heartbeat':
    case 'importEvents':
      return op.bucket;
    default:
      return undefined;
  }
}

export function checkSettingKey(key: string): void {
  if (key.length > MAX_SETTING_KEY) throw new InputError('Too long key', 400);
  if (key.length === 0) throw new InputError('setting key must not be empty', 400);
}

function statements(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    savepoint: db.prepare('SAVEPOINT op'),
    release: db.prepare('RELEASE op'),
    rollbackTo: db.prepare('ROLLBACK TO op'),
    insertBucket: db.prepare(
      'INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING',
    ),
    updateBucket: db.prepare('UPDATE buckets SET type = ?, client = ?, hostname = ?, data = ? WHERE id = ?'),
    deleteBucketEvents: db.prepare('DELETE FROM events WHERE bucketrow = ?'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE id = ?'),
    insertEvent: db.prepare('INSERT INTO events (id, bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?, ?)'),
    replaceEvent: db.prepare('INSERT OR REPLACE INTO events (id, bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?, ?)'),
    eventOwner: db.prepare('SELECT bucketrow, starttime FROM events WHERE id = ?'),
    deleteEvent: db.prepare('DELETE FROM events WHERE id = ? AND bucketrow = ? RETURNING starttime'),
    deleteEventById: db.prepare('DELETE FROM events WHERE id = ? RETURNING bucketrow, starttime'),
    updateEventSpan: db.prepare('UPDATE events SET starttime = ?, endtime = ? WHERE id = ?'),
    eventsStartingIn: db.prepare('SELECT starttime, endtime, data FROM events WHERE bucketrow = ? AND starttime BETWEEN ? AND ?'),
    insertChange: db.prepare('INSERT INTO bucket_changes (bucketrow, min_start) VALUES (?, ?)'),
    pruneChanges: db.prepare('DELETE FROM bucket_changes WHERE seq < (SELECT max(seq) FROM bucket_changes) - ?'),
    setApplied: db.prepare('INSERT INTO applied (source, seq) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET seq = excluded.seq'),
    setSetting: db.prepare('INSERT OR REPLACE INTO key_value (key, value, last_modified) VALUES (?, ?, ?)'),
    deleteSetting: db.prepare('DELETE FROM key_value WHERE key = ?'),
  };
}
