import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { QueueItem } from './items.js';

export interface StoredItem {
  seq: number;
  item: QueueItem;
}

/**
 * The queue's own durable FIFO (a separate SQLite file, WAL + synchronous=FULL): an item is
 * acknowledged to its producer only after the transaction that appended it committed.
 * Appends arriving together share one commit.
 */
export interface QueueStore {
  append(item: QueueItem): Promise<number>;
  /** The oldest items, in sequence order. */
  peek(limit: number): StoredItem[];
  /** Forget delivered items up to and including `seq`. */
  removeThrough(seq: number): void;
  readonly depth: number;
  oldestReceived(): number | null;
  close(): void;
}

export const KEY_RETENTION_MS = 90 * 86_400_000;

export function openQueueStore(file: string, minSeq: number): QueueStore {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, received INTEGER NOT NULL)`);
  // Idempotency keys of inserts taken, written in the same transaction as the item: a producer
  // that re-sends an insert (its reply was lost) gets the first one's seq and nothing is queued
  // twice. Kept KEY_RETENTION_MS, far longer than any producer waits before re-sending.
  db.exec('CREATE TABLE IF NOT EXISTS insert_keys (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, received INTEGER NOT NULL) WITHOUT ROWID');
  db.prepare('DELETE FROM insert_keys WHERE received < ?').run(Date.now() - KEY_RETENTION_MS);
  // Sequence numbers must keep rising past what the storage writer has applied, even if this
  // file was lost: the writer skips any seq it has seen.
  const max = (db.prepare('SELECT max(seq) AS m FROM items').get() as { m: number | null }).m ?? 0;
  const last = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'items'").get() as { seq: number } | undefined)?.seq ?? 0;
  if (Math.max(max, last) < minSeq) {
    db.prepare("INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('items', ?)").run(minSeq);
  }
  const insert = db.prepare('INSERT INTO items (body, received) VALUES (?, ?)');
  const keySeq = db.prepare('SELECT seq FROM insert_keys WHERE key = ?').pluck();
  const insertKey = db.prepare('INSERT INTO insert_keys (key, seq, received) VALUES (?, ?, ?)');
  const peek = db.prepare('SELECT seq, body FROM items ORDER BY seq LIMIT ?');
  const remove = db.prepare('DELETE FROM items WHERE seq <= ?');
  let depth = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;

  let pending: { item: QueueItem; resolve: (seq: number) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;
  const appendAll = db.transaction((batch: typeof pending) => {
    const now = Date.now();
    let added = 0;
    const seqs = batch.map((p) => {
      const key = p.item.kind === 'insertEvents' ? p.item.key : undefined;
      if (key !== undefined) {
        const taken = keySeq.get(key) as number | undefined;
        if (taken !== undefined) return taken;
      }
      const seq = Number(insert.run(JSON.stringify(p.item), now).lastInsertRowid);
      if (key !== undefined) insertKey.run(key, seq, now);
      added++;
      return seq;
    });
    return { seqs, added };
  });
  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const { seqs, added } = appendAll(batch);
      depth += added;
      batch.forEach((p, i) => p.resolve(seqs[i]!));
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    }
  };

  return {
    append(item) {
      return new Promise((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    peek(limit) {
      return (peek.all(limit) as { seq: number; body: string }[]).map((r) => ({ seq: r.seq, item: JSON.parse(r.body) as QueueItem }));
    },
    removeThrough(seq) {
      depth -= remove.run(seq).changes;
    },
    get depth() {
      return depth + pending.length;
    },
    oldestReceived() {
      return (db.prepare('SELECT min(received) AS r FROM items').get() as { r: number | null }).r;
    },
    close() {
      flush();
      db.close();
    },
  };
}
