import type Database from 'better-sqlite3';

/** The writer's SQL, prepared once per connection. */
const SQL = {
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  savepoint: 'SAVEPOINT op',
  release: 'RELEASE op',
  rollbackTo: 'ROLLBACK TO op',
  insertBucket: 'INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING',
  updateBucket: 'UPDATE buckets SET type = ?, client = ?, hostname = ?, data = ? WHERE id = ?',
  deleteBucketEvents: 'DELETE FROM events WHERE bucketrow = ?',
  deleteBucket: 'DELETE FROM buckets WHERE id = ?',
  insertEvent: 'INSERT INTO events (id, bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?, ?)',
  replaceEvent: 'INSERT OR REPLACE INTO events (id, bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?, ?)',
  eventOwner: 'SELECT bucketrow, starttime FROM events WHERE id = ?',
  deleteEvent: 'DELETE FROM events WHERE id = ? AND bucketrow = ? RETURNING starttime',
  deleteEventById: 'DELETE FROM events WHERE id = ? RETURNING bucketrow, starttime',
  updateEventSpan: 'UPDATE events SET starttime = ?, endtime = ? WHERE id = ?',
  eventsStartingIn: 'SELECT starttime, endtime, data FROM events WHERE bucketrow = ? AND starttime BETWEEN ? AND ?',
  insertChange: 'INSERT INTO bucket_changes (bucketrow, min_start) VALUES (?, ?)',
  pruneChanges: 'DELETE FROM bucket_changes WHERE seq < (SELECT max(seq) FROM bucket_changes) - ?',
  setApplied: 'INSERT INTO applied (source, seq) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET seq = excluded.seq',
  setSetting: 'INSERT OR REPLACE INTO key_value (key, value, last_modified) VALUES (?, ?, ?)',
  deleteSetting: 'DELETE FROM key_value WHERE key = ?',
} as const;

export type Statements = { [K in keyof typeof SQL]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Statements;
}
