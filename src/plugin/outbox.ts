import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Event, EventData } from '../model/event.js';
import { mergeHeartbeat } from '../model/heartbeat.js';
import type { Micros } from '../model/time.js';

/** A bucket as a plugin declares it. */
export interface BucketSpec {
  id: string;
  type: string;
  client: string;
  hostname: string;
  data?: EventData;
}

/** One write waiting for the daemon, in the order the plugin made it. */
export type OutboxItem =
  | { id: number; kind: 'createBucket'; bucket: string; spec: BucketSpec }
  | { id: number; kind: 'heartbeat'; bucket: string; event: Event; pulsetime: Micros }
  | { id: number; kind: 'insertEvents'; bucket: string; events: Event[]; key: string };

type Body = Omit<OutboxItem, 'id' | 'kind' | 'bucket'>;

/** The outbox is full: the write was not taken (a heartbeat that merges is always taken). */
export class OutboxFullError extends Error {
  constructor(depth: number) {
    super(`plugin outbox is full (${depth} writes waiting for the daemon); retry later`);
    this.name = 'OutboxFullError';
  }
}

export interface Outbox {
  createBucket(spec: BucketSpec): void;
  /** Merges into the bucket's newest waiting heartbeat when the merge rule allows, else appends. */
  heartbeat(bucket: string, event: Event, pulsetime: Micros): void;
  insert(bucket: string, events: Event[]): void;
  /** The oldest waiting write; it stays until `remove`. While it is out, nothing merges into it. */
  head(): OutboxItem | null;
  remove(id: number): void;
  /** Marks the item being sent (no merge into it), or none. */
  sending(id: number | null): void;
  readonly depth: number;
  oldestAgeMs(): number | null;
  close(): void;
}

/**
 * The plugin's own durable FIFO (a SQLite file it alone opens: WAL, synchronous=FULL, exclusive
 * lock). Every call is one committed transaction, so a write the plugin was told "taken" survives
 * a crash of the plugin, the daemon or the machine. Bounded by `maxItems`: when full, heartbeats
 * that merge are still taken (merging does not grow the outbox); anything else throws
 * OutboxFullError to the caller — nothing is dropped silently.
 */
export function openOutbox(file: string, maxItems: number): Outbox {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: 0 });
  try {
    // One process per outbox: a second instance of the same plugin would send everything twice.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE IF NOT EXISTS items (
      id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, bucket TEXT NOT NULL, body TEXT NOT NULL, queued INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS items_bucket ON items(bucket, id);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`${file} is in use by another process (is this plugin running twice?)`);
    throw err;
  }
  // Idempotency keys are "<outbox id>:<item id>": unique across plugins and stable across restarts.
  let outboxId = db.prepare("SELECT value FROM meta WHERE key = 'id'").pluck().get() as string | undefined;
  if (!outboxId) {
    outboxId = crypto.randomUUID();
    db.prepare("INSERT INTO meta (key, value) VALUES ('id', ?)").run(outboxId);
  }

  const s = {
    insert: db.prepare('INSERT INTO items (kind, bucket, body, queued) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE items SET body = ? WHERE id = ?'),
    head: db.prepare('SELECT id, kind, bucket, body FROM items ORDER BY id LIMIT 1'),
    lastOfBucket: db.prepare('SELECT id, kind, bucket, body FROM items WHERE bucket = ? ORDER BY id DESC LIMIT 1'),
    remove: db.prepare('DELETE FROM items WHERE id = ?'),
    count: db.prepare('SELECT count(*) FROM items').pluck(),
    oldest: db.prepare('SELECT min(queued) FROM items').pluck(),
  };
  let depth = s.count.get() as number;
  let out: number | null = null;

  type Row = { id: number; kind: OutboxItem['kind']; bucket: string; body: string };
  const toItem = (r: Row): OutboxItem => ({ id: r.id, kind: r.kind, bucket: r.bucket, ...(JSON.parse(r.body) as Body) }) as OutboxItem;
  const append = (kind: OutboxItem['kind'], bucket: string, body: Body): number => {
    if (depth >= maxItems) throw new OutboxFullError(depth);
    const id = Number(s.insert.run(kind, bucket, JSON.stringify(body), Date.now()).lastInsertRowid);
    depth++;
    return id;
  };

  return {
    createBucket(spec) {
      append('createBucket', spec.id, { spec });
    },
    heartbeat: db.transaction((bucket: string, event: Event, pulsetime: Micros) => {
      const row = s.lastOfBucket.get(bucket) as Row | undefined;
      const last = row && row.id !== out && row.kind === 'heartbeat' ? (toItem(row) as OutboxItem & { kind: 'heartbeat' }) : null;
      // The same rule the daemon applies: a pre-merged heartbeat stores exactly what the series would.
      const merged = last ? mergeHeartbeat(last.event, event, pulsetime) : null;
      if (last && merged) s.update.run(JSON.stringify({ event: merged, pulsetime: last.pulsetime }), last.id);
      else append('heartbeat', bucket, { event, pulsetime });
    }),
    insert: db.transaction((bucket: string, events: Event[]) => {
      const id = append('insertEvents', bucket, { events, key: '' });
      s.update.run(JSON.stringify({ events, key: `${outboxId}:${id}` }), id);
    }),
    head() {
      const r = s.head.get() as Row | undefined;
      return r ? toItem(r) : null;
    },
    remove(id) {
      depth -= s.remove.run(id).changes;
      if (out === id) out = null;
    },
    sending(id) {
      out = id;
    },
    get depth() {
      return depth;
    },
    oldestAgeMs() {
      const t = s.oldest.get() as number | null;
      return t === null ? null : Date.now() - t;
    },
    close: () => db.close(),
  };
}
