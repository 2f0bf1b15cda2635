import type Database from 'better-sqlite3';
import type { Event, EventData } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { Reader } from '../storage/read.js';
import { QEvent } from './values.js';

export interface BucketSummary {
  id: string;
  hostname: string;
}

/** What the query engine reads. Times are microseconds; windows are inclusive at both ends. */
export interface QuerySource {
  /**
   * Events overlapping [start, end] (touching counts), clipped to it, newest first
   * (start descending, then id ascending); undefined when the bucket does not exist.
   */
  bucketEvents(id: string, start: Micros, end: Micros): Event[] | undefined;
  /** Number of events overlapping [start, end]; undefined when the bucket does not exist. */
  bucketEventCount(id: string, start: Micros, end: Micros): number | undefined;
  /** All buckets, sorted by id. */
  buckets(): BucketSummary[];
  /** Optional: run `f` against one consistent snapshot (all buckets of a request see the same data). */
  snapshot?<T>(f: () => T): T;
}

/** In-memory source (tests, small jobs). */
export function memorySource(buckets: { id: string; hostname?: string; events: Event[] }[]): QuerySource {
  const byId = new Map(buckets.map((b) => [b.id, b]));
  const overlapping = (id: string, start: Micros, end: Micros): Event[] | undefined =>
    byId.get(id)?.events.filter((e) => e.timestamp + e.duration >= start && e.timestamp <= end);
  return {
    bucketEvents(id, start, end) {
      const evs = overlapping(id, start, end);
      if (!evs) return undefined;
      return evs
        .slice()
        .sort((a, b) => b.timestamp - a.timestamp || (a.id ?? 0) - (b.id ?? 0))
        .map((e) => {
          const s = Math.max(e.timestamp, start), t = Math.min(e.timestamp + e.duration, end);
          return new QEvent(e.id, s, Math.max(0, t - s), e.data);
        });
    },
    bucketEventCount: (id, start, end) => overlapping(id, start, end)?.length,
    buckets: () =>
      buckets.map((b) => ({ id: b.id, hostname: b.hostname ?? 'unknown' })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

const DATA_CACHE_MAX = 200_000;

/**
 * Source over a (read-only) SQLite connection. Bucket lookups go through the storage Reader;
 * event rows are read here in raw mode and each distinct `data` text is parsed once and shared
 * (frozen) between events, which also lets per-data caches (categorize, merge keys) hit by identity.
 *
 * Selecting "overlaps [start, end]" with only `endtime >= start` would scan every older index
 * entry of the bucket; instead the start time is bounded below by start minus the bucket's
 * longest event duration, cached until the database changes (PRAGMA data_version) and read in
 * the same read transaction as the events, so the bound is exact for the snapshot read.
 */
export class SqliteSource implements QuerySource {
  private readonly reader: Reader;
  private readonly eventsStmt: Database.Statement;
  private readonly countStmt: Database.Statement;
  private readonly maxDurStmt: Database.Statement;
  private readonly versionStmt: Database.Statement;
  private readonly bucketsStmt: Database.Statement;
  private readonly dataCache = new Map<string, EventData>();
  private readonly maxDur = new Map<number, number>();
  private version: unknown = null;

  constructor(readonly db: Database.Database) {
    this.reader = new Reader(db);
    this.eventsStmt = db
      .prepare(
        // One text value per row ("id,start,end,data"): the driver's per-value cost dominates
        // large reads, and this is measurably cheaper than four columns.
        `SELECT id || ',' || starttime || ',' || endtime || ',' || data FROM events
         WHERE bucketrow = ? AND starttime >= ? AND starttime <= ? AND endtime >= ?
         ORDER BY starttime DESC`,
      )
      .pluck(true);
    this.countStmt = db
      .prepare('SELECT count(*) FROM events WHERE bucketrow = ? AND starttime >= ? AND starttime <= ? AND endtime >= ?')
      .pluck(true);
    this.maxDurStmt = db.prepare('SELECT max(endtime - starttime) FROM events WHERE bucketrow = ?').pluck(true);
    this.versionStmt = db.prepare('PRAGMA data_version').pluck(true);
    this.bucketsStmt = db.prepare('SELECT name, hostname FROM buckets ORDER BY name').raw(true);
  }

  private data(text: string): EventData {
    let d = this.dataCache.get(text);
    if (d === undefined) {
      if (this.dataCache.size >= DATA_CACHE_MAX) this.dataCache.clear();
      d = Object.freeze(JSON.parse(text) as EventData);
      this.dataCache.set(text, d);
    }
    return d;
  }

  /** Inside a read transaction: the lowest start an event overlapping `start` can have. */
  private lowerBound(row: number, start: Micros): Micros {
    const v = this.versionStmt.get();
    if (v !== this.version) {
      this.maxDur.clear();
      this.version = v;
    }
    let m = this.maxDur.get(row);
    if (m === undefined) {
      m = Math.max(0, (this.maxDurStmt.get(row) as number | null) ?? 0);
      this.maxDur.set(row, m);
    }
    return start - m;
  }

  snapshot<T>(f: () => T): T {
    return this.inSnapshot(f);
  }

  private inSnapshot<T>(f: () => T): T {
    if (this.db.inTransaction) return f();
    this.db.exec('BEGIN');
    try {
      return f();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  bucketEvents(id: string, start: Micros, end: Micros): Event[] | undefined {
    return this.inSnapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      if (start > end) return [];
      const rows = this.eventsStmt.all(b.row, this.lowerBound(b.row, start), end, start) as string[];
      const out = new Array<Event>(rows.length);
      const starts = new Float64Array(rows.length);
      let ties = false;
      let prevStart = NaN;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const c1 = row.indexOf(','), c2 = row.indexOf(',', c1 + 1), c3 = row.indexOf(',', c2 + 1);
        const id = +row.slice(0, c1), st = +row.slice(c1 + 1, c2), et = +row.slice(c2 + 1, c3);
        if (st === prevStart) ties = true;
        prevStart = starts[i] = st;
        const s = st < start ? start : st;
        const t = et > end ? end : et;
        out[i] = new QEvent(id, s, t > s ? t - s : 0, this.data(row.slice(c3 + 1)));
      }
      if (ties) fixTies(out, starts);
      return out;
    });
  }

  bucketEventCount(id: string, start: Micros, end: Micros): number | undefined {
    return this.inSnapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      return this.countStmt.get(b.row, this.lowerBound(b.row, start), end, start) as number;
    });
  }

  buckets(): BucketSummary[] {
    return (this.bucketsStmt.all() as [string, string][]).map(([id, hostname]) => ({ id, hostname }));
  }
}

/** Equal stored starts must come in ascending id order; the index gives start order only. */
function fixTies(out: Event[], starts: Float64Array): void {
  const idx = out.map((_, i) => i).sort((a, b) => starts[b]! - starts[a]! || out[a]!.id! - out[b]!.id!);
  const sorted = idx.map((i) => out[i]!);
  for (let i = 0; i < sorted.length; i++) out[i] = sorted[i]!;
}
