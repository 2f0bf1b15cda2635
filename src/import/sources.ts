import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Bucket } from '../model/bucket.js';
import { checkDepth } from '../http/body.js';
import { ImportParser } from '../http/stream/import-parser.js';
import { isPlainObject, parseEvent, type Event } from '../model/event.js';
import { nowMicros, parseTimestamp, type Micros } from '../model/time.js';
import { parseBucketSpec } from '../model/bucket.js';

/**
 * ActivityWatch data a user already has, read without changing it: the reference server's
 * database (aw-server-rust `sqlite.db`, times in nanoseconds), the legacy Python server's peewee
 * database, or an export document (`GET /api/0/export`). Each source lists its buckets with event
 * counts and time spans up front (so progress can show a total), then yields events in batches.
 */
export interface SourceBucket {
  bucket: Bucket;
  count: number;
  start: Micros | null;
  end: Micros | null;
}

export interface Source {
  kind: 'aw-server-rust' | 'aw-server (peewee)' | 'export JSON';
  file: string;
  buckets: SourceBucket[];
  /** Events that cannot be read (bad JSON data), skipped as the reference's own importer does. */
  skipped: number;
  events(id: string, batch: number): AsyncIterable<Event[]>;
  close(): void;
}

/** One-line problems with the file: the CLI prints them as they are. */
export class SourceError extends Error {}

/** Where ActivityWatch keeps its databases on this platform, most current first. */
export function defaultSources(platform = process.platform, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const data =
    platform === 'darwin'
      ? path.join(home, 'Library', 'Application Support')
      : platform === 'win32'
        ? (env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'))
        : (env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'));
  return [path.join(data, 'activitywatch', 'aw-server-rust', 'sqlite.db'), path.join(data, 'activitywatch', 'aw-server', 'peewee-sqlite.v2.db')];
}

export async function openSource(file: string): Promise<Source> {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    head = Buffer.alloc(64);
    const n = fs.readSync(fd, head, 0, 64, 0);
    head = head.subarray(0, n);
    fs.closeSync(fd);
  } catch (err) {
    throw new SourceError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (head.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return openSqlite(file);
  if (head.toString('utf8').trimStart().startsWith('{')) return openExport(file);
  throw new SourceError(`${file} is neither an ActivityWatch database nor an export (JSON) file`);
}

function sqliteError(file: string, err: unknown): SourceError {
  const m = (err as Error).message;
  if (/malformed|corrupt|not a database/.test(m)) return new SourceError(`${file} is damaged (${m}); nothing was imported`);
  return new SourceError(`${file}: ${m}`);
}

function openSqlite(file: string): Source {
  let db: Database.Database;
  try {
    // Read-only: the user's ActivityWatch server may be running (WAL) and its file stays untouched.
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`database disk image is malformed: ${String(check)}`);
  } catch (err) {
    throw sqliteError(file, err);
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const columns = (t: string) => new Set((db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((r) => r.name));
    if (tables.has('buckets') && tables.has('events') && columns('events').has('bucketrow') && columns('buckets').has('name')) return rustSource(file, db, columns('buckets').has('data'));
    if (tables.has('bucketmodel') && tables.has('eventmodel')) return peeweeSource(file, db);
    db.close();
    throw new SourceError(`${file} is a SQLite database but not ActivityWatch's (no buckets/events or bucketmodel/eventmodel tables)`);
  } catch (err) {
    if (db.open) db.close();
    throw err instanceof SourceError ? err : sqliteError(file, err);
  }
}

const jsonObject = (text: unknown): Record<string, unknown> | null => {
  if (typeof text !== 'string') return null;
  try {
    const v = JSON.parse(text) as unknown;
    return isPlainObject(v) ? v : null;
  } catch {
    return null;
  }
};

/** Creation times as ActivityWatch wrote them (RFC 3339, or Python's isoformat, maybe without an offset: UTC). */
function parseCreated(v: unknown): Micros {
  if (typeof v !== 'string') return nowMicros();
  const t = v.trim().replace(' ', 'T');
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`;
  try {
    return parseTimestamp(withZone, 'created');
  } catch {
    const ms = Date.parse(withZone);
    return Number.isNaN(ms) ? nowMicros() : ms * 1000;
  }
}

function rustSource(file: string, db: Database.Database, hasData: boolean): Source {
  const rows = db.prepare(`SELECT id, name, type, client, hostname, created${hasData ? ', data' : ''} FROM buckets ORDER BY name`).all() as {
    id: number; name: string; type: string; client: string; hostname: string; created: string; data?: string;
  }[];
  // Nanoseconds since the epoch exceed 2^53: read them as BigInt.
  const span = db.prepare('SELECT count(*) AS n, min(starttime) AS s, max(endtime) AS e FROM events WHERE bucketrow = ?').safeIntegers(true);
  const rowOf = new Map<string, number>();
  const buckets = rows.map((r) => {
    rowOf.set(r.name, r.id);
    const sp = span.get(r.id) as { n: bigint; s: bigint | null; e: bigint | null };
    return {
      bucket: { id: r.name, type: r.type ?? '', client: r.client ?? '', hostname: r.hostname ?? '', created: parseCreated(r.created), data: jsonObject(r.data) ?? {} },
      count: Number(sp.n),
      start: sp.s === null ? null : Number(sp.s / 1000n),
      end: sp.e === null ? null : Number(sp.e / 1000n),
    };
  });
  const source: Source = {
    kind: 'aw-server-rust',
    file,
    buckets,
    skipped: 0,
    async *events(id, batch) {
      // Nanoseconds to microseconds in SQL (integer division): the results fit a double exactly.
      const q = db.prepare('SELECT starttime / 1000 AS s, endtime / 1000 - starttime / 1000 AS d, data FROM events WHERE bucketrow = ? ORDER BY starttime');
      yield* inBatches(q.iterate(rowOf.get(id)) as IterableIterator<{ s: number; d: number; data: string }>, batch, source, (r) => {
        const data = jsonObject(r.data);
        return data && { id: null, timestamp: r.s, duration: r.d, data };
      });
    },
    close: () => db.close(),
  };
  return source;
}

/** Rows as events in batches of `batch`; a row that maps to null is counted in `source.skipped`. */
function* inBatches<R>(rows: Iterable<R>, batch: number, source: { skipped: number }, toEvent: (r: R) => Event | null): Generator<Event[]> {
  let out: Event[] = [];
  for (const r of rows) {
    const e = toEvent(r);
    if (!e) {
      source.skipped++;
      continue;
    }
    out.push(e);
    if (out.length >= batch) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}

function peeweeSource(file: string, db: Database.Database): Source {
  const rows = db.prepare('SELECT key, id, created, type, client, hostname, datastr FROM bucketmodel ORDER BY id').all() as {
    key: number; id: string; created: string; type: string; client: string; hostname: string; datastr: string | null;
  }[];
  const span = db.prepare('SELECT count(*) AS n, min(timestamp) AS s, max(timestamp) AS e FROM eventmodel WHERE bucket_id = ?');
  const keyOf = new Map<string, number>();
  const buckets = rows.map((r) => {
    keyOf.set(r.id, r.key);
    const sp = span.get(r.key) as { n: number; s: string | null; e: string | null };
    return {
      bucket: { id: r.id, type: r.type ?? '', client: r.client ?? '', hostname: r.hostname ?? '', created: parseCreated(r.created), data: jsonObject(r.datastr) ?? {} },
      count: sp.n,
      start: sp.s === null ? null : parseCreated(sp.s),
      end: sp.e === null ? null : parseCreated(sp.e),
    };
  });
  const source: Source = {
    kind: 'aw-server (peewee)',
    file,
    buckets,
    skipped: 0,
    async *events(id, batch) {
      const q = db.prepare('SELECT timestamp, duration, datastr FROM eventmodel WHERE bucket_id = ? ORDER BY timestamp, id');
      yield* inBatches(q.iterate(keyOf.get(id)) as IterableIterator<{ timestamp: string; duration: number | string; datastr: string }>, batch, source, (r) => {
        const data = jsonObject(r.datastr);
        const secs = Number(r.duration);
        return data && Number.isFinite(secs) ? { id: null, timestamp: parseCreated(r.timestamp), duration: Math.round(secs * 1e6), data } : null;
      });
    },
    close: () => db.close(),
  };
  return source;
}

/**
 * An export document, streamed twice: a first pass checks it completely and counts (so a malformed
 * file imports nothing), the second yields the events of one bucket at a time.
 */
async function openExport(file: string): Promise<Source> {
  const buckets: SourceBucket[] = [];
  let skipped = 0;
  const walk = async (onBucket: (key: string, b: SourceBucket) => void, onEvent: (key: string, e: Event | null) => Promise<void>) => {
    const parser = new ImportParser();
    let key = '';
    let header: Record<string, unknown> = {};
    const item = async (it: ReturnType<ImportParser['write']>[number]) => {
      if (it.kind === 'bucket') {
        key = it.key;
        header = {};
      } else if (it.kind === 'field') {
        checkDepth(it.value, undefined, `bucket '${key}'.${it.key}`);
        header[it.key] = it.value;
      } else if (it.kind === 'event') {
        let e: Event | null = null;
        try {
          checkDepth(it.value);
          e = parseEvent(it.value, { where: `bucket '${key}' event` });
        } catch {
          e = null;
        }
        await onEvent(key, e);
      } else if (it.kind === 'bucketEnd') {
        const id = typeof header.id === 'string' && header.id !== '' ? header.id : key;
        onBucket(key, { bucket: parseBucketSpec(id, header, nowMicros(), (v) => parseCreated(v)), count: 0, start: null, end: null });
      }
    };
    for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) for (const it of parser.write(chunk)) await item(it);
    for (const it of parser.end()) await item(it);
  };
  // Pass 1: check and count. Events may come before the header fields, so spans are kept per key.
  const counts = new Map<string, { n: number; s: number | null; e: number | null }>();
  const keys: string[] = [];
  try {
    await walk(
      (key, b) => {
        buckets.push(b);
        keys.push(key);
      },
      async (key, e) => {
        const c = counts.get(key) ?? { n: 0, s: null, e: null };
        counts.set(key, c);
        if (!e) return void skipped++;
        c.n++;
        c.s = c.s === null ? e.timestamp : Math.min(c.s, e.timestamp);
        c.e = c.e === null ? e.timestamp + e.duration : Math.max(c.e, e.timestamp + e.duration);
      },
    );
  } catch (err) {
    throw new SourceError(`${file} is not a valid ActivityWatch export: ${(err as Error).message}`);
  }
  buckets.forEach((b, i) => {
    const c = counts.get(keys[i]!) ?? { n: 0, s: null, e: null };
    Object.assign(b, { count: c.n, start: c.s, end: c.e });
  });
  let cursor: ReturnType<typeof exportCursor> | null = null;
  return {
    kind: 'export JSON',
    file,
    buckets,
    skipped,
    // One read of the file serves every bucket when they are asked for in file order (as the import
    // does); asking for an earlier bucket starts a new read.
    events(id, batch) {
      const wanted = buckets.findIndex((b) => b.bucket.id === id);
      if (!cursor || cursor.index > wanted) cursor = exportCursor(file);
      return cursor.take(wanted, batch);
    },
    close: () => {},
  };
}

/** A forward-only reader of an export file's events, bucket by bucket (by position in the file). */
function exportCursor(file: string) {
  const parser = new ImportParser();
  const chunks = (fs.createReadStream(file) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let items: ReturnType<ImportParser['write']> = [];
  let at = 0;
  let ended = false;
  const next = async (): Promise<ReturnType<ImportParser['write']>[number] | null> => {
    while (at >= items.length) {
      if (ended) return null;
      const c = await chunks.next();
      if (c.done) {
        items = parser.end();
        ended = true;
      } else items = parser.write(c.value);
      at = 0;
    }
    return items[at++]!;
  };
  const cur = {
    /** Index of the bucket being read (-1 before the first). */
    index: -1,
    inside: false,
    async *take(wanted: number, batch: number): AsyncGenerator<Event[]> {
      let out: Event[] = [];
      for (;;) {
        if (cur.index === wanted && !cur.inside) break; // that bucket is done
        const it = await next();
        if (!it) break;
        if (it.kind === 'bucket') {
          cur.index++;
          cur.inside = true;
        } else if (it.kind === 'bucketEnd') {
          cur.inside = false;
        } else if (it.kind === 'event' && cur.index === wanted) {
          try {
            checkDepth(it.value);
            out.push(parseEvent(it.value, { where: 'event' }));
          } catch {
            continue; // counted in the first pass
          }
          if (out.length >= batch) {
            yield out;
            out = [];
          }
        }
        if (cur.index > wanted) break;
      }
      if (out.length) yield out;
    },
  };
  return cur;
}
