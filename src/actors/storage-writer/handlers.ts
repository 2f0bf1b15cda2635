import type Database from 'better-sqlite3';
import type { Bucket } from '../../model/bucket.js';
import { InputError } from '../../model/errors.js';
import { canonicalJson, endOf, type Event } from '../../model/event.js';
import { mergeHeartbeat } from '../../model/heartbeat.js';
import { checkSettingKey } from '../../model/settings.js';
import type { Reader } from '../../storage/read.js';
import { importBatch, markPushed, shareBuckets } from '../../sync/store.js';
import type { WriterCaches } from './caches.js';
import type { WriteOp } from './ops.js';
import type { Statements } from './statements.js';

/** min_start of a change that covers a whole bucket (deleted or (re)created): readers drop all they cached. */
const WHOLE_BUCKET = Number.MIN_SAFE_INTEGER;

/** What a write op's handler works with; the engine provides one per connection. */
export interface OpContext {
  /** The writer's connection, for the upkeep pragmas (maintenance). */
  db: Database.Database;
  s: Statements;
  reader: Reader;
  caches: WriterCaches;
  /** Records that events of `row` starting at `start` or later changed (for readers' caches). */
  changed(row: number, start: number): void;
  /** The privacy gate: the event to store, possibly redacted, or null to store nothing. */
  admit(bucket: string, e: Event): Event | null;
}

type Handler<K extends WriteOp['kind']> = (op: Extract<WriteOp, { kind: K }>, c: OpContext) => unknown;

function insertEvent(c: OpContext, row: number, e: Event): Event {
  const info = c.s.insertEvent.run(null, row, e.timestamp, endOf(e), JSON.stringify(e.data));
  c.changed(row, e.timestamp);
  return { ...e, id: Number(info.lastInsertRowid) };
}

/** One function per write op; each returns the op's result (see WriteResult) or throws InputError. */
export const HANDLERS: { [K in WriteOp['kind']]: Handler<K> } = {
  createBucket(op, c) {
    const b: Bucket = op.bucket;
    const info = c.s.insertBucket.run(b.id, b.type, b.client, b.hostname, b.created, JSON.stringify(b.data));
    if (info.changes === 0) return { created: false };
    const row = Number(info.lastInsertRowid);
    // The row number may be one a deleted bucket had: whatever readers cached for it is void.
    c.changed(row, WHOLE_BUCKET);
    c.caches.bucketCreated(b.id, { row, type: b.type });
    for (const e of op.events ?? []) {
      const kept = c.admit(b.id, e);
      if (kept) insertEvent(c, row, kept);
    }
    c.caches.eventsChanged(row);
    return { created: true };
  },

  updateBucket(op, c) {
    const { row } = c.caches.bucket(op.id);
    const next = { ...c.reader.bucket(op.id)!, ...op.patch };
    c.s.updateBucket.run(next.type, next.client, next.hostname, JSON.stringify(next.data), row);
    c.caches.bucketTypeChanged(op.id, next.type);
    return null;
  },

  deleteBucket(op, c) {
    const { row } = c.caches.bucket(op.id);
    c.s.deleteBucketEvents.run(row);
    c.s.deleteBucket.run(row);
    c.changed(row, WHOLE_BUCKET);
    c.caches.bucketDeleted(op.id);
    return null;
  },

  insertEvents(op, c) {
    const { row } = c.caches.bucket(op.bucket);
    // Check every replacement first: an id owned by another bucket is refused and nothing is stored.
    const oldStarts = new Map<number, number>();
    for (const e of op.events) {
      if (e.id === null) continue;
      const owner = c.s.eventOwner.get(e.id) as { bucketrow: number; starttime: number } | undefined;
      if (owner && owner.bucketrow !== row) throw new InputError(`event id ${e.id} belongs to another bucket`, 400);
      if (owner) oldStarts.set(e.id, owner.starttime);
    }
    let replaced = false;
    const out = op.events.map((raw) => {
      const e = c.admit(op.bucket, raw);
      if (!e) return { ...raw, id: null }; // not stored (paused, or dropped by a privacy rule)
      if (e.id === null) {
        const inserted = insertEvent(c, row, e);
        c.caches.eventInserted(row, inserted);
        return inserted;
      }
      c.s.replaceEvent.run(e.id, row, e.timestamp, endOf(e), JSON.stringify(e.data));
      c.changed(row, e.timestamp);
      // The replaced row's old start (an earlier op of this list may have replaced it already).
      const old = oldStarts.get(e.id);
      if (old !== undefined) c.changed(row, old);
      oldStarts.set(e.id, e.timestamp);
      replaced = true;
      return { ...e };
    });
    // A replacement may have moved or changed the last event: read it again when needed. Plain
    // inserts kept the cache exact, so the next heartbeat needs no read.
    if (replaced) c.caches.eventsChanged(row);
    return out;
  },

  deleteEvent(op, c) {
    const { row } = c.caches.bucket(op.bucket);
    const gone = c.s.deleteEvent.all(op.id, row) as { starttime: number }[];
    for (const g of gone) c.changed(row, g.starttime);
    c.caches.eventsChanged(row);
    return { deleted: gone.length };
  },

  heartbeat(op, c) {
    const { row } = c.caches.bucket(op.bucket);
    const hb = c.admit(op.bucket, op.event);
    if (!hb) return null; // not stored (paused, or dropped by a privacy rule)
    const last = c.caches.lastEvent(row);
    const merged = mergeHeartbeat(last, hb, op.pulsetime);
    if (merged) {
      c.s.updateEventSpan.run(merged.timestamp, endOf(merged), merged.id);
      c.changed(row, Math.min(merged.timestamp, last!.timestamp));
      c.caches.setLastEvent(row, merged);
      return merged;
    }
    const inserted = insertEvent(c, row, hb);
    c.caches.eventInserted(row, inserted);
    return inserted;
  },

  importEvents(op, c) {
    const { row } = c.caches.bucket(op.bucket);
    if (op.events.length === 0) return { inserted: 0 };
    let lo = Infinity, hi = -Infinity;
    for (const e of op.events) {
      lo = Math.min(lo, e.timestamp);
      hi = Math.max(hi, e.timestamp);
    }
    // Identity = (start, duration, data with sorted keys), as ActivityWatch's import merge.
    const key = (start: number, dur: number, data: unknown) => `${start}|${dur}|${canonicalJson(data)}`;
    const seen = new Set<string>();
    // A bucket this same import created has nothing to compare against.
    if (!op.fresh) {
      for (const r of c.s.eventsStartingIn.iterate(row, lo, hi) as Iterable<{ starttime: number; endtime: number; data: string }>) {
        seen.add(key(r.starttime, r.endtime - r.starttime, JSON.parse(r.data)));
      }
    }
    let inserted = 0;
    for (const raw of op.events) {
      const e = c.admit(op.bucket, raw);
      if (!e || (!op.fresh && seen.has(key(e.timestamp, e.duration, e.data)))) continue;
      insertEvent(c, row, e);
      inserted++;
    }
    c.caches.eventsChanged(row);
    return { inserted };
  },

  deleteEvents(op, c) {
    let deleted = 0;
    for (const id of op.ids) {
      for (const g of c.s.deleteEventById.all(id) as { bucketrow: number; starttime: number }[]) {
        c.changed(g.bucketrow, g.starttime);
        deleted++;
      }
    }
    c.caches.anyEventsChanged();
    return { deleted };
  },

  setSetting(op, c) {
    checkSettingKey(op.key);
    c.s.setSetting.run(`settings.${op.key}`, JSON.stringify(op.value ?? null), Math.floor(Date.now() / 1000));
    return null;
  },

  deleteSetting(op, c) {
    checkSettingKey(op.key);
    c.s.deleteSetting.run(`settings.${op.key}`);
    return null;
  },

  syncShare: (op, c) => shareBuckets(op.patterns, c),
  syncPushed: (op, c) => markPushed(op.upTo, c),
  syncImport: (op, c) => importBatch(op.batch, c, (bucket) => HANDLERS.createBucket({ kind: 'createBucket', bucket }, c)),

  maintenance(op, c) {
    if (op.optimize) c.db.pragma('optimize');
    const free = () => c.db.pragma('freelist_count', { simple: true }) as number;
    const autoVacuum = c.db.pragma('auto_vacuum', { simple: true }) as number;
    const freePagesBefore = free();
    if (autoVacuum === 2 && freePagesBefore > 0 && op.vacuumPages > 0) c.db.pragma(`incremental_vacuum(${Math.floor(op.vacuumPages)})`);
    return { autoVacuum, freePagesBefore, freePagesAfter: free() };
  },
};

/** The bucket an op writes to, if it names one (its cache entries are void when the op rolls back). */
export function bucketOf(op: WriteOp): string | undefined {
  if (op.kind === 'createBucket') return op.bucket.id;
  if ('bucket' in op) return op.bucket;
  if (op.kind === 'updateBucket' || op.kind === 'deleteBucket') return op.id;
  return undefined;
}
