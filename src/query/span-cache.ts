import type { FloodMemo } from './event-list.js';
import { type Columns, lowerIndex } from './rows.js';

/** Most events a source keeps cached over all buckets (see CACHED_EVENT_BYTES). */
export const EVENT_CACHE_MAX = 2_000_000;

/**
 * What one cached event costs: its id, start and duration in typed arrays (24 bytes), a pointer to
 * its (interned, shared) data object, and the arrays' spare room for appends. Columns rather than
 * an object per event: a year is then a few arrays, which the garbage collector does not walk
 * event by event, and a query cuts its lists from them with one read per field.
 * Turns `query.cache_mb` into a number of events.
 */
export const CACHED_EVENT_BYTES = 40;

export const cacheEventsFor = (mb: number): number => Math.max(1, Math.floor((mb * 1024 * 1024) / CACHED_EVENT_BYTES));

/**
 * The cached events of one bucket: every stored event whose start lies in [lo, hi] (hi excluded
 * when !hiIncl), in columns in span order (see rows.ts), so that new events append at the end and
 * a change from start S on is a truncation.
 */
export interface Span extends Columns {
  lo: number;
  hi: number;
  hiIncl: boolean;
  /** The last flood of a list cut from these events (event-list.ts); told here what changed since. */
  flood: FloodMemo | null;
}

/** Reads the stored events of a bucket row with start in the given range, in span order. */
export type SpanLoader = (row: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean) => Columns;

/**
 * One span per bucket row, least recently used first; at most `max` events over all of them.
 * What is cached is exact only while the owner reports every change (changedFrom, drop, clear).
 */
export class SpanCache {
  private readonly spans = new Map<number, Span>();
  private cached = 0;

  constructor(private readonly load: SpanLoader, private readonly max = EVENT_CACHE_MAX) {}

  /** A span holding every event of the row starting in [lo, hi]; kept unless too large. */
  cover(row: number, lo: number, hi: number): Span {
    let sp = this.spans.get(row);
    if (sp !== undefined) {
      this.spans.delete(row); // re-inserted below: most recently used
      // A far-away range replaces the span rather than reading the whole gap in between.
      const gap = hi < sp.lo ? sp.lo - hi : lo > sp.hi ? lo - sp.hi : 0;
      if (gap > hi - lo) {
        this.cached -= sp.n;
        sp = undefined;
      }
    }
    if (sp === undefined) {
      sp = { ...this.load(row, lo, true, hi, true), lo, hi, hiIncl: true, flood: null };
      this.cached += sp.n;
    } else {
      if (lo < sp.lo) {
        const below = this.load(row, lo, true, sp.lo, false);
        if (below.n > 0) {
          this.cached += below.n;
          prepend(sp, below);
          sp.flood = null; // every event's place in a cut moves
        }
        // (Nothing below: nothing moved. That is every heartbeat's case once the event it extends is
        // the bucket's longest: readers bound the start by start minus the longest duration, so each
        // heartbeat asks for one second more below, and the kept flood was thrown away every time.)
        sp.lo = lo;
      }
      if (hi > sp.hi || (hi === sp.hi && !sp.hiIncl)) {
        const above = this.load(row, sp.hi, !sp.hiIncl, hi, true);
        this.cached += above.n;
        append(sp, above);
        if (above.n > 0 && sp.flood !== null) sp.flood.stable = Math.min(sp.flood.stable, sp.hi);
        sp.hi = hi;
        sp.hiIncl = true;
      }
    }
    this.spans.set(row, sp);
    // Evict least recently used rows; a span too large on its own serves this call only.
    for (const other of this.spans.keys()) {
      if (this.cached <= this.max) break;
      if (other !== row) this.drop(other);
    }
    if (this.cached > this.max) this.drop(row);
    return sp;
  }

  /** Events of the row starting at `from` or later may have changed; earlier ones did not. */
  changedFrom(row: number, from: number): void {
    const sp = this.spans.get(row);
    if (sp === undefined || from > sp.hi || (from === sp.hi && !sp.hiIncl)) return;
    if (from <= sp.lo) return this.drop(row);
    const k = lowerIndex(sp, from);
    if (sp.flood !== null) sp.flood.stable = Math.min(sp.flood.stable, from);
    this.cached -= sp.n - k;
    sp.n = k;
    sp.data.length = k;
    sp.hi = from;
    sp.hiIncl = false;
  }

  drop(row: number): void {
    const sp = this.spans.get(row);
    if (sp !== undefined) this.cached -= sp.n;
    this.spans.delete(row);
  }

  clear(): void {
    this.spans.clear();
    this.cached = 0;
  }
}

/** `c`'s events before the span's, in new arrays of the exact size. */
function prepend(sp: Span, c: Columns): void {
  const n = c.n + sp.n;
  const join = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    out.set(a.subarray(0, c.n));
    out.set(b.subarray(0, sp.n), c.n);
    return out;
  };
  sp.ids = join(c.ids, sp.ids);
  sp.ts = join(c.ts, sp.ts);
  sp.dur = join(c.dur, sp.dur);
  sp.data = c.data.slice(0, c.n).concat(sp.data);
  sp.n = n;
}

/**
 * `c`'s events after the span's. The arrays grow by half again when full: a watcher's span takes
 * one new event at a time, and the events a heartbeat changed are re-read into the room they left.
 */
function append(sp: Span, c: Columns): void {
  const n = sp.n + c.n;
  if (n > sp.ts.length) {
    const cap = Math.max(n, Math.ceil(sp.n * 1.5), 64);
    const grow = (a: Float64Array): Float64Array => {
      const out = new Float64Array(cap);
      out.set(a.subarray(0, sp.n));
      return out;
    };
    sp.ids = grow(sp.ids);
    sp.ts = grow(sp.ts);
    sp.dur = grow(sp.dur);
  }
  sp.ids.set(c.ids.subarray(0, c.n), sp.n);
  sp.ts.set(c.ts.subarray(0, c.n), sp.n);
  sp.dur.set(c.dur.subarray(0, c.n), sp.n);
  for (let i = 0; i < c.n; i++) sp.data.push(c.data[i]!);
  sp.n = n;
}
