import type Database from 'better-sqlite3';
import { PUSH_SOURCE, type Batch, type BucketMeta, type Change } from './batch.js';

/** At most this many changes, and about this much JSON, per message (NATS's default max payload is 1 MiB). */
export const MAX_CHANGES = 1000;
const MAX_BYTES = 512 * 1024;

/**
 * Reads this device's outbound changes from sync_log (filled by triggers in the writing
 * transactions) on a read-only connection. A log row names an event that changed; the batch
 * carries the event as it is now, or a tombstone when it is gone, so an event changed several
 * times is sent once per batch, in its latest state.
 */
export function outbox(db: Database.Database, device: string) {
  const rows = db.prepare(
    `SELECT l.seq, l.bucket, l.event_id AS id, e.starttime AS t, e.endtime AS e, e.data AS d
     FROM sync_log l LEFT JOIN events e ON e.id = l.event_id AND e.bucketrow = (SELECT id FROM buckets WHERE name = l.bucket)
     WHERE l.seq > ? ORDER BY l.seq LIMIT ?`,
  );
  const bucket = db.prepare('SELECT name, type, client, hostname, created, data FROM buckets WHERE name = ?');
  const pending = db.prepare('SELECT count(*) FROM sync_log WHERE seq > ?').pluck(true);
  const cursor = db.prepare('SELECT seq FROM applied WHERE source = ?').pluck(true);

  type Row = { seq: number; bucket: string; id: number; t: number | null; e: number | null; d: string | null };

  return {
    /** How far the log was published, as last persisted. */
    cursor: (): number => (cursor.get(PUSH_SOURCE) as number | undefined) ?? 0,
    /** Changes logged after `after`. */
    pending: (after: number): number => pending.get(after) as number,
    /** The next batch after `after`, or null when everything is published. */
    next(after: number): Batch | null {
      const got = rows.all(after, MAX_CHANGES) as Row[];
      if (got.length === 0) return null;
      const buckets: BucketMeta[] = [];
      const bucketIndex = new Map<string, number>();
      const byEvent = new Map<number, number>();
      const changes: (Change | null)[] = [];
      let bytes = 0, last = after;
      for (const r of got) {
        last = r.seq;
        const earlier = byEvent.get(r.id);
        if (earlier !== undefined) changes[earlier] = null;
        byEvent.set(r.id, changes.length);
        if (r.t === null) {
          changes.push({ s: r.seq, i: r.id, x: 1 });
          continue;
        }
        let b = bucketIndex.get(r.bucket);
        if (b === undefined) {
          const m = bucket.get(r.bucket) as Omit<BucketMeta, 'data'> & { data: string };
          bucketIndex.set(r.bucket, (b = buckets.length));
          buckets.push({ ...m, data: JSON.parse(m.data) as Record<string, unknown> });
        }
        changes.push({ s: r.seq, i: r.id, b, t: r.t, e: r.e!, d: JSON.parse(r.d!) as Record<string, unknown> });
        bytes += r.d!.length + 48;
        if (bytes > MAX_BYTES) break;
      }
      return { device, prev: after, last, buckets, changes: changes.filter((c): c is Change => c !== null) };
    },
  };
}
export type Outbox = ReturnType<typeof outbox>;
