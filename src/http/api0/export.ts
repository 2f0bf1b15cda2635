import type http from 'node:http';
import type Database from 'better-sqlite3';
import { notFound } from '../../model/errors.js';
import { formatTimestamp } from '../../model/time.js';
import { openReadonly } from '../../storage/open.js';
import type { Ctx } from './context.js';

/**
 * Export documents are streamed: a dedicated read connection holds one snapshot (a read transaction)
 * for the whole export and iterates the rows, writing ~64 KB at a time with backpressure. So a
 * million events never sit in memory, and the shared Reader connection stays free for other requests.
 * The SQL is here rather than in Reader because Reader returns arrays.
 */
export interface RawBucket { id: number; name: string; type: string; client: string; hostname: string; created: number; data: string }

const FLUSH_AT = 64 * 1024;

export async function exportAll(ctx: Ctx): Promise<void> {
  await streamExport(ctx, null);
}

export async function exportBucket(ctx: Ctx, bid: string): Promise<void> {
  await streamExport(ctx, bid);
}

/** `attachment; filename=...` as the reference, with non-token characters replaced (plus filename*). */
export function attachment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (safe === name) return `attachment; filename=${name}`;
  return `attachment; filename=${safe}; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** Resolves on 'drain' or 'close' (client gone), leaving no listeners behind. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function streamExport(ctx: Ctx, only: string | null): Promise<void> {
  const { reader } = ctx.deps;
  // A file-backed database gets its own connection; an in-memory one (never in production) shares.
  const own = !reader.db.memory;
  const db: Database.Database = own ? openReadonly(reader.db.name) : reader.db;
  const res = ctx.res;
  try {
    if (own) db.exec('BEGIN');
    const buckets = (
      only === null
        ? db.prepare('SELECT * FROM buckets ORDER BY name').all()
        : db.prepare('SELECT * FROM buckets WHERE name = ?').all(only)
    ) as RawBucket[];
    if (only !== null && buckets.length === 0) throw notFound(`The requested bucket '${only}' does not exist`);
    // The reference names an all-buckets export after the bucket when there is exactly one.
    const filename =
      buckets.length === 1 ? `aw-bucket-export_${buckets[0]!.name}.json` : 'aw-buckets-export.json';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Disposition': attachment(filename) });
    if (ctx.req.method === 'HEAD') {
      res.end();
      return;
    }
    for (const chunk of exportChunks(db, buckets, null)) {
      if (!res.write(chunk)) await drained(res);
      if (res.destroyed) return;
    }
    res.end();
  } finally {
    if (own) {
      try {
        if (db.inTransaction) db.exec('COMMIT');
      } finally {
        db.close();
      }
    }
  }
}

/**
 * The export document for `buckets` as text chunks of about FLUSH_AT characters, read from `db`
 * row by row (the caller holds the read transaction). `since` keeps only events starting then or
 * later. Used by the HTTP export and by `sundial export`.
 */
export function* exportChunks(db: Database.Database, buckets: RawBucket[], since: number | null): Generator<string> {
  const after = since === null ? '' : ' AND starttime >= ?';
  const args = (row: number) => (since === null ? [row] : [row, since]);
  const span = db.prepare(`SELECT min(starttime) AS s, max(endtime) AS e FROM events WHERE bucketrow = ?${after}`);
  const rows = db.prepare(`SELECT id, starttime, endtime, data FROM events WHERE bucketrow = ?${after} ORDER BY starttime DESC, id ASC`);
  let buf = '{"buckets":{';
  let firstBucket = true;
  for (const b of buckets) {
    const { s, e } = span.get(...args(b.id)) as { s: number | null; e: number | null };
    const end = e === null ? null : formatTimestamp(e);
    const head = {
      id: b.name, type: b.type, client: b.client, hostname: b.hostname, created: formatTimestamp(b.created),
      data: JSON.parse(b.data) as unknown,
      metadata: { start: s === null ? null : formatTimestamp(s), end },
      last_updated: end,
    };
    // Events go last, so a streaming importer has the bucket header before the first event.
    const headJson = JSON.stringify(head);
    buf += `${firstBucket ? '' : ','}${JSON.stringify(b.name)}:${headJson.slice(0, -1)},"events":[`;
    firstBucket = false;
    let first = true;
    for (const r of rows.iterate(...args(b.id)) as IterableIterator<{ id: number; starttime: number; endtime: number; data: string }>) {
      // `data` is stored as JSON text written by the storage writer; it is copied verbatim.
      buf += `${first ? '' : ','}{"id":${r.id},"timestamp":"${formatTimestamp(r.starttime)}","duration":${(r.endtime - r.starttime) / 1e6},"data":${r.data}}`;
      first = false;
      if (buf.length >= FLUSH_AT) {
        yield buf;
        buf = '';
      }
    }
    buf += ']}';
  }
  yield buf + '}}';
}
