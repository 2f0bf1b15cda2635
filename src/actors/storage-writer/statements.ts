import type Database from 'better-sqlite3';

/** The writer's prepared statements, prepared once per connection. */
export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
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
