import type { Logger } from '../../log.js';
import { openDurable } from '../../storage/open.js';
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
  /**
   * The oldest items, in sequence order. A row that no longer parses (a damaged file) can never be
   * delivered: it is moved to the table `unreadable` of the same file, logged, and skipped.
   */
  peek(limit: number): StoredItem[];
  /** Buckets whose creation is queued, read without loading the backlog. */
  queuedCreates(): string[];
  /** Rows set aside as unreadable since this store was opened. */
  readonly unreadable: number;
  /** Forget delivered items up to and including `seq`. */
  removeThrough(seq: number): void;
  readonly depth: number;
  oldestReceived(): number | null;
  close(): void;
}

const KEY_RETENTION_MS = 90 * 86_400_000;

export function openQueueStore(file: string, minSeq: number, log?: Logger): QueueStore {
  const db = openDurable(file);
  // `creates`: the bucket a createBucket item creates (indexed), so a start finds the queued
  // creations without reading the backlog.
  db.exec(`CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, received INTEGER NOT NULL, creates TEXT);
    CREATE TABLE IF NOT EXISTS unreadable (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, received INTEGER NOT NULL, error TEXT NOT NULL)`);
  if (!(db.pragma('table_info(items)') as { name: string }[]).some((c) => c.name === 'creates')) {
    // A file from before the column: fill it in once.
    db.transaction(() => {
      db.exec('ALTER TABLE items ADD COLUMN creates TEXT');
      db.exec(`UPDATE items SET creates = json_extract(body, '$.bucket')
        WHERE (CASE WHEN json_valid(body) THEN json_extract(body, '$.kind') END) = 'createBucket'`);
    })();
  }
  db.exec('CREATE INDEX IF NOT EXISTS items_creates ON items (creates) WHERE creates IS NOT NULL');
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
  const insert = db.prepare('INSERT INTO items (body, received, creates) VALUES (?, ?, ?)');
  const keySeq = db.prepare('SELECT seq FROM insert_keys WHERE key = ?').pluck();
  const insertKey = db.prepare('INSERT INTO insert_keys (key, seq, received) VALUES (?, ?, ?)');
  const peek = db.prepare('SELECT seq, body FROM items ORDER BY seq LIMIT ?');
  const remove = db.prepare('DELETE FROM items WHERE seq <= ?');
  const creates = db.prepare('SELECT DISTINCT creates FROM items WHERE creates IS NOT NULL').pluck(true);
  const setAside = db.transaction((seq: number, error: string) => {
    db.prepare('INSERT OR REPLACE INTO unreadable SELECT seq, body, received, ? FROM items WHERE seq = ?').run(error, seq);
    return db.prepare('DELETE FROM items WHERE seq = ?').run(seq).changes;
  });
  let unreadable = 0;
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
      const created = p.item.kind === 'createBucket' ? p.item.bucket : null;
      const seq = Number(insert.run(JSON.stringify(p.item), now, created).lastInsertRowid);
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
      const out: StoredItem[] = [];
      for (const r of peek.all(limit) as { seq: number; body: string }[]) {
        try {
          out.push({ seq: r.seq, item: JSON.parse(r.body) as QueueItem });
        } catch (err) {
          const error = (err as Error).message;
          depth -= setAside(r.seq, error);
          unreadable++;
          log?.error({ seq: r.seq, file, error }, 'unreadable queue item set aside (table "unreadable")');
        }
      }
      return out;
    },
    queuedCreates: () => creates.all() as string[],
    get unreadable() {
      return unreadable;
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
