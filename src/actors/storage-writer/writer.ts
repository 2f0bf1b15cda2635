import type Database from 'better-sqlite3';
import type { Logger } from '../../log.js';
import type { Bucket } from '../../model/bucket.js';
import { InputError, notFound } from '../../model/errors.js';
import { canonicalJson, endOf, type Event } from '../../model/event.js';
import { mergeHeartbeat } from '../../model/heartbeat.js';
import { openWritable } from '../../storage/open.js';
import { Reader } from '../../storage/read.js';
import { WriterUnavailable, type EventGate, type WriteOp, type WriteResult, type Writer } from './ops.js';

export const MAX_SETTING_KEY = 127;

interface Pending {
  op: WriteOp;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** One open database with its group-commit loop. Created by the storage-writer child. */
export interface StorageWriter extends Writer {
  /** Commit what is pending, then close. */
  close(): Promise<void>;
  /** After a crash: reject what is pending (not committed) and close without draining. */
  abort(reason?: unknown): void;
  /** Ops waiting for the next commit. */
  readonly pending: number;
}

/**
 * Opens `file` and returns the one writer for it. Writes submitted in the same turn of the event
 * loop share one transaction (group commit); each op runs in its own savepoint so a bad op fails
 * alone. Promises settle only after COMMIT returned, and the database runs with synchronous=FULL,
 * so an acknowledged write survives kill -9 and power loss.
 */
export function openStorageWriter(file: string, log: Logger, onFatal?: (err: unknown) => void, gate?: EventGate): StorageWriter {
  const db = openWritable(file);
  const reader = new Reader(db);
  const s = statements(db);
  let queue: Pending[] = [];
  let scheduled = false;
  let closed = false;
  // Per-bucket "last event" (newest by start, ties lowest id); undefined = unknown, reload from DB.
  const lastEvents = new Map<number, Event | null>();
  const bucketRows = new Map<string, { row: number; type: string }>();
  const applied = new Map<string, number>();

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
      case 'createBucket': {
        const b: Bucket = op.bucket;
        const info = s.insertBucket.run(b.id, b.type, b.client, b.hostname, b.created, JSON.stringify(b.data));
        if (info.changes === 0) return { created: false };
        const row = Number(info.lastInsertRowid);
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
        bucketRows.delete(op.id);
        lastEvents.delete(row);
        return null;
      }
      case 'insertEvents': {
        const row = rowOf(op.bucket);
        // Check every replacement first: an id owned by another bucket is refused and nothing is stored.
        for (const e of op.events) {
          if (e.id === null) continue;
          const owner = s.eventOwner.get(e.id) as { bucketrow: number } | undefined;
          if (owner && owner.bucketrow !== row) {
            throw new InputError(`event id ${e.id} belongs to another bucket`, 400);
          }
        }
        const out = op.events.map((raw) => {
          const e = admit(op.bucket, raw);
          if (!e) return { ...raw, id: null }; // not stored (paused, or dropped by a privacy rule)
          if (e.id === null) return insertEvent(row, e);
          s.replaceEvent.run(e.id, row, e.timestamp, endOf(e), JSON.stringify(e.data));
          return { ...e };
        });
        lastEvents.delete(row);
        return out;
      }
      case 'deleteEvent': {
        const row = rowOf(op.bucket);
        const info = s.deleteEvent.run(op.id, row);
        lastEvents.delete(row);
        return { deleted: info.changes };
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
        for (const r of s.eventsStartingIn.iterate(row, lo, hi) as Iterable<{ starttime: number; endtime: number; data: string }>) {
          seen.add(key(r.starttime, r.endtime - r.starttime, JSON.parse(r.data)));
        }
        let inserted = 0;
        for (const raw of op.events) {
          const e = admit(op.bucket, raw);
          if (!e || seen.has(key(e.timestamp, e.duration, e.data))) continue;
          insertEvent(row, e);
          inserted++;
        }
        lastEvents.delete(row);
        return { inserted };
      }
      case 'deleteEvents': {
        let deleted = 0;
        for (const id of op.ids) deleted += s.deleteEventById.run(id).changes;
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

  function flush(): void {
    scheduled = false;
    if (closed || queue.length === 0) return;
    const batch = queue;
    queue = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      s.begin.run();
      for (const p of batch) {
        s.savepoint.run();
        try {
          results.push({ ok: true, value: apply(p.op) });
          s.release.run();
        } catch (err) {
          s.rollbackTo.run();
          s.release.run();
          forgetCaches(p.op);
          results.push({ ok: false, value: err });
        }
      }
      s.commit.run();
    } catch (err) {
      // The transaction itself failed (I/O error, disk full): nothing of this batch is stored.
      if (db.inTransaction) db.exec('ROLLBACK');
      lastEvents.clear();
      bucketRows.clear();
      applied.clear();
      log.error({ err }, 'storage commit failed');
      for (const p of batch) p.reject(new WriterUnavailable(`storage commit failed: ${(err as Error).message}`));
      onFatal?.(err);
      return;
    }
    log.debug({ ops: batch.length }, 'committed');
    batch.forEach((p, i) => (results[i]!.ok ? p.resolve(results[i]!.value) : p.reject(results[i]!.value)));
  }

  function forgetCaches(op: WriteOp): void {
    const name = bucketNameOf(op);
    if (name === undefined) return;
    const b = bucketRows.get(name);
    if (b !== undefined) lastEvents.delete(b.row);
    bucketRows.delete(name);
    applied.clear();
  }

  const writer: StorageWriter = {
    submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>> {
      if (closed) return Promise.reject(new WriterUnavailable());
      return new Promise((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      if (closed) return;
      flush();
      closed = true;
      db.close();
    },
    abort(reason) {
      if (closed) return;
      closed = true;
      const why = new WriterUnavailable(`storage writer crashed: ${reason instanceof Error ? reason.message : String(reason)}`);
      for (const p of queue.splice(0)) p.reject(why);
      try {
        db.close();
      } catch {
        /* already broken */
      }
    },
    get pending() {
      return queue.length;
    },
  };
  return writer;
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
    eventOwner: db.prepare('SELECT bucketrow FROM events WHERE id = ?'),
    deleteEvent: db.prepare('DELETE FROM events WHERE id = ? AND bucketrow = ?'),
    deleteEventById: db.prepare('DELETE FROM events WHERE id = ?'),
    updateEventSpan: db.prepare('UPDATE events SET starttime = ?, endtime = ? WHERE id = ?'),
    eventsStartingIn: db.prepare('SELECT starttime, endtime, data FROM events WHERE bucketrow = ? AND starttime BETWEEN ? AND ?'),
    setApplied: db.prepare('INSERT INTO applied (source, seq) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET seq = excluded.seq'),
    setSetting: db.prepare('INSERT OR REPLACE INTO key_value (key, value, last_modified) VALUES (?, ?, ?)'),
    deleteSetting: db.prepare('DELETE FROM key_value WHERE key = ?'),
  };
}
