import type Database from 'better-sqlite3';
import type { OpContext } from '../actors/storage-writer/handlers.js';
import type { Bucket } from '../model/bucket.js';
import { PUSH_SOURCE, pullSource, syncedBucket, type Batch, type ImportOutcome } from './batch.js';

/**
 * The storage writer's side of sync: the ops that change sync tables, run inside the writer's
 * transaction like every other op (so a pulled batch and its "applied up to" mark commit together).
 */

const SQL = {
  patterns: 'SELECT pattern FROM sync_share',
  clearShare: 'DELETE FROM sync_share',
  addShare: 'INSERT OR IGNORE INTO sync_share (pattern) VALUES (?)',
  sharedBuckets: `SELECT b.id AS row, b.name FROM buckets b WHERE b.name NOT GLOB '*-synced-from-*'
                  AND EXISTS (SELECT 1 FROM sync_share s WHERE b.name GLOB s.pattern)`,
  backfill: 'INSERT INTO sync_log (bucket, event_id) SELECT ?, id FROM events WHERE bucketrow = ? ORDER BY id',
  prune: 'DELETE FROM sync_log WHERE seq <= ?',
  mapped: 'SELECT local_id FROM sync_pulled WHERE device = ? AND origin_id = ?',
  map: 'INSERT OR REPLACE INTO sync_pulled (device, origin_id, local_id) VALUES (?, ?, ?)',
  unmap: 'DELETE FROM sync_pulled WHERE device = ? AND origin_id = ?',
  current: 'SELECT bucketrow, starttime FROM events WHERE id = ?',
  update: 'UPDATE events SET starttime = ?, endtime = ?, data = ? WHERE id = ?',
  remove: 'DELETE FROM events WHERE id = ? RETURNING bucketrow, starttime',
} as const;

type Stmts = { [K in keyof typeof SQL]: Database.Statement };
const prepared = new WeakMap<Database.Database, Stmts>();
function stmts(db: Database.Database): Stmts {
  let s = prepared.get(db);
  if (!s) prepared.set(db, (s = Object.fromEntries(Object.entries(SQL).map(([k, q]) => [k, db.prepare(q)])) as Stmts));
  return s;
}

/** Shares the buckets matching `patterns`; logs every event of a bucket that was not shared before. */
export function shareBuckets(patterns: string[], c: OpContext): { backfilled: number } {
  const q = stmts(c.db);
  // Sync turned off: stop logging, and drop what was never published (turning it on re-sends all).
  if (patterns.length === 0) c.db.exec('DELETE FROM sync_log');
  const before = new Set((q.sharedBuckets.all() as { name: string }[]).map((b) => b.name));
  q.clearShare.run();
  for (const p of patterns) q.addShare.run(p);
  let backfilled = 0;
  for (const b of q.sharedBuckets.all() as { row: number; name: string }[]) {
    if (!before.has(b.name)) backfilled += q.backfill.run(b.name, b.row).changes;
  }
  return { backfilled };
}

/** The push side's cursor, and the log rows it no longer needs. */
export function markPushed(seq: number, c: OpContext): null {
  stmts(c.db).prune.run(seq);
  c.s.setApplied.run(PUSH_SOURCE, seq);
  c.caches.setApplied(PUSH_SOURCE, seq);
  return null;
}

/**
 * Applies another device's batch once and in order: changes at or below what was already imported
 * from that device are skipped (re-deliveries, replays), the rest replace the local copy of each
 * event by the origin's id, or delete it. Pulled events bypass the privacy gate and pause: they
 * were recorded (and filtered) on their own device.
 */
export function importBatch(batch: Batch, c: OpContext, ensureBucket: (b: Bucket) => void): ImportOutcome {
  const q = stmts(c.db);
  const source = pullSource(batch.device);
  const done = c.caches.appliedSeq(source);
  const out: ImportOutcome = { replayed: batch.last <= done, gap: batch.prev > done, upserted: 0, deleted: 0 };
  if (out.replayed) return out;
  const rows = new Map<number, number>();
  const rowOf = (i: number): number => {
    let row = rows.get(i);
    if (row === undefined) {
      const meta = batch.buckets[i]!;
      const name = syncedBucket(meta.name, batch.device);
      ensureBucket({
        id: name,
        type: meta.type,
        client: meta.client,
        hostname: meta.hostname,
        created: meta.created,
        data: { ...meta.data, synced_from: { device: batch.device, bucket: meta.name, hostname: meta.hostname } },
      });
      rows.set(i, (row = c.caches.bucket(name).row));
    }
    return row;
  };
  for (const ch of batch.changes) {
    if (ch.s <= done) continue;
    const local = (q.mapped.get(batch.device, ch.i) as { local_id: number } | undefined)?.local_id;
    if ('x' in ch) {
      if (local === undefined) continue;
      for (const g of q.remove.all(local) as { bucketrow: number; starttime: number }[]) c.changed(g.bucketrow, g.starttime);
      q.unmap.run(batch.device, ch.i);
      out.deleted++;
      continue;
    }
    const row = rowOf(ch.b);
    const data = JSON.stringify(ch.d);
    const old = local === undefined ? undefined : (q.current.get(local) as { bucketrow: number; starttime: number } | undefined);
    if (old && old.bucketrow === row) {
      q.update.run(ch.t, ch.e, data, local);
      c.changed(row, Math.min(ch.t, old.starttime));
    } else {
      // New, or its local copy was deleted here (or its bucket re-created): store it afresh.
      const id = Number(c.s.insertEvent.run(null, row, ch.t, ch.e, data).lastInsertRowid);
      c.changed(row, ch.t);
      q.map.run(batch.device, ch.i, id);
    }
    out.upserted++;
  }
  for (const row of rows.values()) c.caches.eventsChanged(row);
  if (out.deleted) c.caches.anyEventsChanged();
  c.s.setApplied.run(source, batch.last);
  c.caches.setApplied(source, batch.last);
  return out;
}
