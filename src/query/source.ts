import type Database from 'better-sqlite3';
import type { Event } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { Reader } from '../storage/read.js';
import { ChangeLog, type SourceStats } from './change-log.js';
import { dataInterner } from './data.js';
import { EventList } from './event-list.js';
import { clippedList, type Columns, decodeRows, lowerIndex, ROW_TEXT } from './rows.js';
import { EVENT_CACHE_MAX, SpanCache } from './span-cache.js';
import { QEvent } from './values.js';


export interface BucketSummary {
  id: string;
  hostname: string;
}

/** What the query engine reads. Times are microseconds; windows are inclusive at both ends. */
export interface QuerySource {
  /**
   * Events overlapping [start, end] (touching counts), clipped to it, newest first
   * (start descending, then id ascending), in a list of its own; undefined when the bucket does not exist.
   */
  bucketEvents(id: string, start: Micros, end: Micros): QEvent[] | undefined;
  /** Optional: `bucketEvents` as an event list (what query_bucket hands on), without an object per event. */
  bucketList?(id: string, start: Micros, end: Micros): EventList | undefined;
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

/**
 * A list cut from the cache at least this long keeps its flood there for the next ask of the same
 * period (transforms.ts, floodList): a shorter one floods in well under a millisecond, and keeping
 * its answer would only cost memory. At most one flood is kept per cached bucket, no longer than
 * the bucket's cached events: ≈ 36 bytes an event against the cache's 40.
 */
export const FLOOD_MEMO_MIN = 10_000;

/**
 * Source over a (read-only) SQLite connection. Bucket lookups go through the storage Reader;
 * event rows are read in raw mode and decoded once (rows.ts).
 *
 * Events read are kept per bucket (span-cache.ts) and reused by later requests: turning rows into
 * JS values is most of a large query's cost and the web UI asks the same ranges again and again.
 * The cache is exact: each read transaction first follows the storage writer's change log
 * (change-log.ts), which truncates or drops what changed.
 */
export class SqliteSource implements QuerySource {
  private readonly reader: Reader;
  private readonly eventsStmt: Database.Statement;
  private readonly countStmt: Database.Statement;
  private readonly bucketsStmt: Database.Statement;
  private readonly loadStmts = new Map<string, Database.Statement>();
  private readonly intern = dataInterner();
  private readonly spans: SpanCache;
  private readonly log: ChangeLog;
  /** True inside a read transaction this source opened and already synchronised. */
  private synced = false;
  readonly stats: SourceStats = { rowsRead: 0, drops: 0, pruned: 0 };

  constructor(
    readonly db: Database.Database,
    cacheMax = EVENT_CACHE_MAX,
    /** Lists from bucketList at least this long keep their flood with the cache (see FLOOD_MEMO_MIN). */
    private readonly floodMemoMin = FLOOD_MEMO_MIN,
  ) {
    this.reader = new Reader(db);
    this.eventsStmt = db
      .prepare(
        `SELECT ${ROW_TEXT} FROM events
         WHERE bucketrow = ? AND starttime >= ? AND starttime <= ? AND endtime >= ?
         ORDER BY starttime ASC`,
      )
      .pluck(true);
    this.countStmt = db
      .prepare('SELECT count(*) FROM events WHERE bucketrow = ? AND starttime >= ? AND starttime <= ? AND endtime >= ?')
      .pluck(true);
    this.bucketsStmt = db.prepare('SELECT name, hostname FROM buckets ORDER BY name').raw(true);
    this.spans = new SpanCache((row, lo, loIncl, hi, hiIncl) => this.load(row, lo, loIncl, hi, hiIncl), cacheMax);
    this.log = new ChangeLog(db, this.spans, this.stats);
  }

  snapshot<T>(f: () => T): T {
    if (this.db.inTransaction) {
      // Someone else's transaction (or ours, already synchronised): check the log once per call.
      if (!this.synced) this.log.sync();
      return f();
    }
    this.db.exec('BEGIN');
    try {
      this.log.sync();
      this.synced = true;
      return f();
    } finally {
      this.synced = false;
      this.db.exec('COMMIT');
    }
  }

  /** Stored events with start in the given range, in span order. */
  private load(row: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): Columns {
    const key = `${loIncl ? '>=' : '>'}${hiIncl ? '<=' : '<'}`;
    let stmt = this.loadStmts.get(key);
    if (stmt === undefined) {
      stmt = this.db
        .prepare(
          `SELECT ${ROW_TEXT} FROM events
           WHERE bucketrow = ? AND starttime ${loIncl ? '>=' : '>'} ? AND starttime ${hiIncl ? '<=' : '<'} ?
           ORDER BY starttime ASC`,
        )
        .pluck(true);
      this.loadStmts.set(key, stmt);
    }
    const rows = stmt.all(row, lo, hi) as string[];
    this.stats.rowsRead += rows.length;
    return decodeRows(rows, this.intern);
  }

  bucketEvents(id: string, start: Micros, end: Micros): QEvent[] | undefined {
    return this.bucketList(id, start, end)?.events();
  }

  bucketList(id: string, start: Micros, end: Micros): EventList | undefined {
    return this.snapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      if (start > end) return EventList.empty();
      const lo = start - this.log.maxDuration(b.row);
      const sp = this.spans.cover(b.row, lo, end);
      const l = clippedList(sp, lowerIndex(sp, lo), start, end);
      if (l.n >= this.floodMemoMin) l.origin = { holder: sp, start, end };
      return l;
    });
  }

  bucketEventCount(id: string, start: Micros, end: Micros): number | undefined {
    return this.snapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      return this.countStmt.get(b.row, start - this.log.maxDuration(b.row), end, start) as number;
    });
  }

  /** The uncached read (reference for tests and benchmarks): same answer as bucketEvents. */
  bucketEventsUncached(id: string, start: Micros, end: Micros): QEvent[] | undefined {
    return this.snapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      if (start > end) return [];
      const rows = this.eventsStmt.all(b.row, start - this.log.maxDuration(b.row), end, start) as string[];
      this.stats.rowsRead += rows.length;
      return clippedList(decodeRows(rows, this.intern), 0, start, end).events();
    });
  }

  buckets(): BucketSummary[] {
    return (this.bucketsStmt.all() as [string, string][]).map(([id, hostname]) => ({ id, hostname }));
  }
}
