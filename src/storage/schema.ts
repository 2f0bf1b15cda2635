import type Database from 'better-sqlite3';

/**
 * Sundial's database schema. Times are integer microseconds since the epoch (see model/time.ts).
 * Each entry of MIGRATIONS moves the schema from version i to i+1; PRAGMA user_version holds it.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE buckets (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     type TEXT NOT NULL,
     client TEXT NOT NULL,
     hostname TEXT NOT NULL,
     created INTEGER NOT NULL,
     data TEXT NOT NULL DEFAULT '{}'
   );
   -- AUTOINCREMENT: event ids are never reused, even after deletes (clients keep them).
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     bucketrow INTEGER NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
     starttime INTEGER NOT NULL,
     endtime INTEGER NOT NULL,
     data TEXT NOT NULL
   );
   CREATE INDEX events_bucket_time ON events(bucketrow, starttime DESC, endtime);
   CREATE TABLE key_value (key TEXT PRIMARY KEY, value TEXT NOT NULL, last_modified INTEGER NOT NULL);
   -- Highest queue sequence applied per source, written in the same transaction as the events:
   -- a redelivered heartbeat is recognised and skipped (exactly-once).
   CREATE TABLE applied (source TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
  // Change log for readers' event caches (query workers): the storage writer appends one row per
  // bucket touched by a write transaction, in that transaction. min_start is the smallest start of
  // any event inserted, updated or deleted there (MIN_SAFE_INTEGER: the whole bucket, e.g. deleted
  // or re-created), so events starting before it are unchanged. bucketrow 0 marks a commit that
  // changed no events. Pruned to the newest rows; a reader older than the oldest row reloads.
  `CREATE TABLE bucket_changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     bucketrow INTEGER NOT NULL,
     min_start INTEGER NOT NULL
   );
   CREATE INDEX bucket_changes_bucket_seq ON bucket_changes(bucketrow, seq);`,
  // Multi-device sync (docs/sync.md). sync_share holds the GLOB patterns of shared buckets (empty:
  // nothing is logged). Triggers append one sync_log row per event insert, update or delete in a
  // shared bucket, in the writing transaction itself, so the push side reads exact commit order,
  // deletes included, and a crash can neither lose nor reorder a change. Buckets pulled from other
  // devices (*-synced-from-*) are never logged: a device does not echo what it pulled. sync_pulled
  // maps another device's event id to the local copy, so re-delivered events replace, never repeat.
  `CREATE TABLE sync_share (pattern TEXT PRIMARY KEY);
   CREATE TABLE sync_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, bucket TEXT NOT NULL, event_id INTEGER NOT NULL);
   CREATE TABLE sync_pulled (
     device TEXT NOT NULL,
     origin_id INTEGER NOT NULL,
     local_id INTEGER NOT NULL,
     PRIMARY KEY (device, origin_id)
   ) WITHOUT ROWID;
   ${['INSERT', 'UPDATE', 'DELETE']
     .map((op) => {
       const row = op === 'DELETE' ? 'OLD' : 'NEW';
       return `CREATE TRIGGER sync_log_${op.toLowerCase()} AFTER ${op} ON events WHEN EXISTS (SELECT 1 FROM sync_share) BEGIN
         INSERT INTO sync_log (bucket, event_id) SELECT b.name, ${row}.id FROM buckets b
         WHERE b.id = ${row}.bucketrow AND b.name NOT GLOB '*-synced-from-*'
           AND EXISTS (SELECT 1 FROM sync_share s WHERE b.name GLOB s.pattern);
       END;`;
     })
     .join('\n')}`,
  // An upper bound on each bucket's event durations, kept by triggers on every event write (from any
  // writer, imports included), so a reader finds a bucket's latest end (metadata.end) and the
  // events overlapping a time from the newest index entries instead of scanning the whole bucket.
  // Raised to twice the new duration, at least a minute, so an event growing by heartbeats rewrites
  // the bucket's row only a few times in its life. Deletes leave it as it is: still an upper bound.
  `ALTER TABLE buckets ADD COLUMN dur_bound INTEGER NOT NULL DEFAULT 0;
   UPDATE buckets SET dur_bound = coalesce((SELECT max(endtime - starttime) FROM events WHERE bucketrow = buckets.id), 0);
   ${['INSERT', 'UPDATE OF starttime, endtime, bucketrow']
     .map(
       (op, i) => `CREATE TRIGGER dur_bound_${i === 0 ? 'insert' : 'update'} AFTER ${op} ON events
         WHEN NEW.endtime - NEW.starttime > (SELECT dur_bound FROM buckets WHERE id = NEW.bucketrow) BEGIN
         UPDATE buckets SET dur_bound = max(2 * (NEW.endtime - NEW.starttime), 60000000) WHERE id = NEW.bucketrow;
       END;`,
     )
     .join('\n')}`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to `target` (tests stop short of the newest to test a migration). */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema ${current} is newer than this Sundial (${SCHEMA_VERSION}); upgrade Sundial`);
  }
  for (let v = current; v < target; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
