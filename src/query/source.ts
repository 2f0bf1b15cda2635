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

/** Most events a source keeps cached over all buckets (≈32 bytes each plus shared data objects). */
export const EVENT_CACHE_MAX = 2_000_000;

/**
 * The cached events of one bucket: every stored event whose start lies in [lo, hi] (hi excluded
 * when !hiIncl), in start-ascending, id-descending order, i.e. the reverse of answer order, so that
 * new events append at the end and a change from start S on is a truncation.
 */
interface Span {
  lo: number;
  hi: number;
  hiIncl: boolean;
  ids: number[];
  starts: number[];
  ends: number[];
  data: EventData[];
}

/** What a source knows about one bucket row, exact as of bucket_changes sequence `seq`. */
interface BucketState {
  seq: number;
  /** The longest event duration (an upper bound; exact unless events were deleted) and that event's start. */
  maxDur: number;
  maxStart: number;
  span: Span | undefined;
}

/** Counters for tests and benchmarks. */
export interface SourceStats {
  /** Event rows turned into JS values. */
  rowsRead: number;
  /** Times the whole cache was dropped (writes not recorded in bucket_changes, or the log went backwards). */
  drops: number;
  /** Bucket caches reloaded because the change log was pruned past them. */
  pruned: number;
}

/**
 * Source over a (read-only) SQLite connection. Bucket lookups go through the storage Reader;
 * event rows are read here in raw mode and each distinct `data` text is parsed once and shared
 * (frozen) between events, which also lets per-data caches (categorize, merge keys) hit by identity.
 *
 * Selecting "overlaps [start, end]" with only `endtime >= start` would scan every older index
 * entry of the bucket; instead the start time is bounded below by start minus the bucket's
 * longest event duration.
 *
 * Events read are kept per bucket (a range of start times, see Span) and reused by later requests:
 * turning rows into JS values is most of a large query's cost and the web UI asks the same ranges
 * again and again. The cache is exact: the storage writer logs, in each write transaction, the
 * smallest event start it changed per bucket (table bucket_changes); at the start of each read
 * transaction the source reads the log's high-water mark, and per bucket keeps only cached events
 * starting before the smallest start changed since, re-reading the rest. Writes that bypass the
 * writer are noticed through PRAGMA data_version advancing while the log does not (the writer logs
 * every commit) and drop everything. Caveat: such a write and a writer commit landing between the
 * same two requests of this connection look like the writer's commit alone.
 */
export class SqliteSource implements QuerySource {
  private readonly reader: Reader;
  private readonly eventsStmt: Database.Statement;
  private readonly countStmt: Database.Statement;
  private readonly maxDurStmt: Database.Statement;
  private readonly maxDurFromStmt: Database.Statement;
  private readonly versionStmt: Database.Statement;
  private readonly bucketsStmt: Database.Statement;
  /** Null when the database has no change log (older schema): the cache then lives only while nothing is written. */
  private readonly seqStmt: Database.Statement | null;
  private readonly changesStmt: Database.Statement | null;
  private readonly loadStmts = new Map<string, Database.Statement>();
  private readonly dataCache = new Map<string, EventData>();
  /** Bucket states in least-recently-used-first order. */
  private readonly states = new Map<number, BucketState>();
  private cached = 0;
  private version: unknown = undefined;
  private seq = 0;
  private oldest = 1;
  /** True inside a read transaction this source opened and already synchronised. */
  private synced = false;
  readonly stats: SourceStats = { rowsRead: 0, drops: 0, pruned: 0 };

  constructor(readonly db: Database.Database, private readonly cacheMax = EVENT_CACHE_MAX) {
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
    // A bare column next to max() comes from the row holding the maximum.
    this.maxDurStmt = db.prepare('SELECT max(endtime - starttime), starttime FROM events WHERE bucketrow = ?').raw(true);
    this.maxDurFromStmt = db
      .prepare('SELECT max(endtime - starttime), starttime FROM events WHERE bucketrow = ? AND starttime >= ?')
      .raw(true);
    this.versionStmt = db.prepare('PRAGMA data_version').pluck(true);
    this.bucketsStmt = db.prepare('SELECT name, hostname FROM buckets ORDER BY name').raw(true);
    let seqStmt: Database.Statement | null = null, changesStmt: Database.Statement | null = null;
    try {
      // Two subqueries: each is a single index probe, where min and max together would scan.
      seqStmt = db.prepare('SELECT (SELECT max(seq) FROM bucket_changes), (SELECT min(seq) FROM bucket_changes)').raw(true);
      changesStmt = db.prepare('SELECT min(min_start) FROM bucket_changes WHERE bucketrow = ? AND seq > ?').pluck(true);
    } catch {
      // no bucket_changes table: schema older than 2
    }
    this.seqStmt = seqStmt;
    this.changesStmt = changesStmt;
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

  snapshot<T>(f: () => T): T {
    return this.inSnapshot(f);
  }

  private inSnapshot<T>(f: () => T): T {
    if (this.db.inTransaction) {
      // Someone else's transaction (or ours, already synchronised): check the log once per call.
      if (!this.synced) this.sync();
      return f();
    }
    this.db.exec('BEGIN');
    try {
      this.sync();
      this.synced = true;
      return f();
    } finally {
      this.synced = false;
      this.db.exec('COMMIT');
    }
  }

  /**
   * Start of a read transaction: the change log's high-water mark. data_version is read first, so
   * every commit it reflects is in the snapshot read next (a later one only causes a needless drop).
   */
  private sync(): void {
    const v = this.versionStmt.get();
    let cur = 0, oldest: number | null = null;
    if (this.seqStmt) [cur, oldest] = (this.seqStmt.get() as [number | null, number | null]).map((x) => x ?? 0) as [number, number];
    if (this.version !== undefined && ((v !== this.version && cur === this.seq) || cur < this.seq)) {
      this.states.clear();
      this.cached = 0;
      this.stats.drops++;
    }
    this.version = v;
    this.seq = cur;
    this.oldest = oldest || cur + 1;
  }

  /** Inside a read transaction: the bucket's state, brought up to the snapshot's change log. */
  private state(row: number): BucketState {
    let st = this.states.get(row);
    if (st !== undefined) {
      this.states.delete(row); // re-inserted below: most recently used
      if (st.seq !== this.seq) {
        if (this.oldest > st.seq + 1) {
          // The log no longer reaches back to this state: start over.
          this.dropSpan(st);
          st = undefined;
          this.stats.pruned++;
        } else {
          const from = this.changesStmt!.get(row, st.seq) as number | null;
          if (from !== null) this.changedFrom(row, st, from);
          st.seq = this.seq;
        }
      }
    }
    if (st === undefined) {
      const [m, at] = this.maxDurStmt.get(row) as [number | null, number | null];
      st = { seq: this.seq, maxDur: Math.max(0, m ?? 0), maxStart: at ?? -Infinity, span: undefined };
    }
    this.states.set(row, st);
    return st;
  }

  /** Events starting at `from` or later may have changed (inserted, updated, deleted); earlier ones did not. */
  private changedFrom(row: number, st: BucketState, from: number): void {
    const [m, at] = this.maxDurFromStmt.get(row, from) as [number | null, number | null];
    if (st.maxStart < from) {
      // The longest event is untouched, so it still bounds everything before `from`.
      if (m !== null && m > st.maxDur) [st.maxDur, st.maxStart] = [m, at!];
    } else if (m !== null && m >= st.maxDur) {
      [st.maxDur, st.maxStart] = [m, at!];
    } else {
      // The longest event may have shrunk or gone: recompute.
      const [m2, at2] = this.maxDurStmt.get(row) as [number | null, number | null];
      [st.maxDur, st.maxStart] = [Math.max(0, m2 ?? 0), at2 ?? -Infinity];
    }
    const sp = st.span;
    if (sp === undefined || from > sp.hi || (from === sp.hi && !sp.hiIncl)) return;
    if (from <= sp.lo) return this.dropSpan(st);
    const k = lowerIndex(sp.starts, from);
    this.cached -= sp.starts.length - k;
    sp.ids.length = sp.starts.length = sp.ends.length = sp.data.length = k;
    sp.hi = from;
    sp.hiIncl = false;
  }

  private dropSpan(st: BucketState): void {
    if (st.span) this.cached -= st.span.starts.length;
    st.span = undefined;
  }

  /** Stored events with start in the given range, start ascending and equal starts by id descending. */
  private load(row: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): Span {
    const key = `${loIncl ? '>=' : '>'}${hiIncl ? '<=' : '<'}`;
    let stmt = this.loadStmts.get(key);
    if (stmt === undefined) {
      stmt = this.db
        .prepare(
          `SELECT id || ',' || starttime || ',' || endtime || ',' || data FROM events
           WHERE bucketrow = ? AND starttime ${loIncl ? '>=' : '>'} ? AND starttime ${hiIncl ? '<=' : '<'} ?
           ORDER BY starttime ASC`,
        )
        .pluck(true);
      this.loadStmts.set(key, stmt);
    }
    const rows = stmt.all(row, lo, hi) as string[];
    const n = rows.length;
    this.stats.rowsRead += n;
    const ids = new Array<number>(n), starts = new Array<number>(n), ends = new Array<number>(n), data = new Array<EventData>(n);
    let ties = false;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const c1 = r.indexOf(','), c2 = r.indexOf(',', c1 + 1), c3 = r.indexOf(',', c2 + 1);
      ids[i] = +r.slice(0, c1);
      starts[i] = +r.slice(c1 + 1, c2);
      ends[i] = +r.slice(c2 + 1, c3);
      data[i] = this.data(r.slice(c3 + 1));
      if (i > 0 && starts[i] === starts[i - 1]) ties = true;
    }
    const span: Span = { lo, hi, hiIncl, ids, starts, ends, data };
    if (ties) {
      const idx = ids.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]! || ids[b]! - ids[a]!);
      span.ids = idx.map((i) => ids[i]!);
      span.starts = idx.map((i) => starts[i]!);
      span.ends = idx.map((i) => ends[i]!);
      span.data = idx.map((i) => data[i]!);
    }
    return span;
  }

  /** A span holding every event of the bucket starting in [lo, hi]; kept as the bucket's span unless too large. */
  private cover(row: number, st: BucketState, lo: number, hi: number): Span {
    let sp = st.span;
    if (sp !== undefined) {
      // A far-away range replaces the span rather than reading the whole gap in between.
      const gap = hi < sp.lo ? sp.lo - hi : lo > sp.hi ? lo - sp.hi : 0;
      if (gap > hi - lo) {
        this.dropSpan(st);
        sp = undefined;
      }
    }
    if (sp === undefined) {
      sp = this.load(row, lo, true, hi, true);
      this.cached += sp.starts.length;
      st.span = sp;
    } else {
      if (lo < sp.lo) {
        const below = this.load(row, lo, true, sp.lo, false);
        this.cached += below.starts.length;
        sp.ids = below.ids.concat(sp.ids);
        sp.starts = below.starts.concat(sp.starts);
        sp.ends = below.ends.concat(sp.ends);
        sp.data = below.data.concat(sp.data);
        sp.lo = lo;
      }
      if (hi > sp.hi || (hi === sp.hi && !sp.hiIncl)) {
        const above = this.load(row, sp.hi, !sp.hiIncl, hi, true);
        this.cached += above.starts.length;
        for (let i = 0; i < above.starts.length; i++) {
          sp.ids.push(above.ids[i]!);
          sp.starts.push(above.starts[i]!);
          sp.ends.push(above.ends[i]!);
          sp.data.push(above.data[i]!);
        }
        sp.hi = hi;
        sp.hiIncl = true;
      }
    }
    // Evict least recently used buckets; a span too large on its own serves this call only.
    for (const other of this.states.values()) {
      if (this.cached <= this.cacheMax) break;
      if (other !== st) this.dropSpan(other);
    }
    if (this.cached > this.cacheMax) this.dropSpan(st);
    return sp;
  }

  bucketEvents(id: string, start: Micros, end: Micros): Event[] | undefined {
    return this.inSnapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      if (start > end) return [];
      const st = this.state(b.row);
      const lo = start - st.maxDur;
      const sp = this.cover(b.row, st, lo, end);
      // Answer order is the reverse of span order: walk from the last start <= end down to the first >= lo.
      const first = lowerIndex(sp.starts, lo);
      const out: Event[] = [];
      for (let i = upperIndex(sp.starts, end) - 1; i >= first; i--) {
        const et = sp.ends[i]!;
        if (et < start) continue;
        const st0 = sp.starts[i]!;
        const s = st0 < start ? start : st0;
        const t = et > end ? end : et;
        out.push(new QEvent(sp.ids[i]!, s, t > s ? t - s : 0, sp.data[i]!));
      }
      return out;
    });
  }

  bucketEventCount(id: string, start: Micros, end: Micros): number | undefined {
    return this.inSnapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      return this.countStmt.get(b.row, start - this.state(b.row).maxDur, end, start) as number;
    });
  }

  /** The uncached read (reference for tests and benchmarks): same answer as bucketEvents. */
  bucketEventsUncached(id: string, start: Micros, end: Micros): Event[] | undefined {
    return this.inSnapshot(() => {
      const b = this.reader.bucket(id);
      if (!b) return undefined;
      if (start > end) return [];
      const rows = this.eventsStmt.all(b.row, start - this.state(b.row).maxDur, end, start) as string[];
      this.stats.rowsRead += rows.length;
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

  buckets(): BucketSummary[] {
    return (this.bucketsStmt.all() as [string, string][]).map(([id, hostname]) => ({ id, hostname }));
  }
}

/** First index whose value is >= x (values ascending). */
function lowerIndex(a: number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > x (values ascending). */
function upperIndex(a: number[], x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Equal stored starts must come in ascending id order; the index gives start order only. */
function fixTies(out: Event[], starts: Float64Array): void {
  const idx = out.map((_, i) => i).sort((a, b) => starts[b]! - starts[a]! || out[a]!.id! - out[b]!.id!);
  const sorted = idx.map((i) => out[i]!);
  for (let i = 0; i < sorted.length; i++) out[i] = sorted[i]!;
}
