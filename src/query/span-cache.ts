import { lowerIndex, type Columns } from './rows.js';

/** Most events a source keeps cached over all buckets (≈32 bytes each plus shared data objects). */
export const EVENT_CACHE_MAX = 2_000_000;

/**
 * What one cached event costs: id, start and end as array slots of 8 bytes, a pointer to its
 * (interned, shared) data object, and the arrays' spare capacity. Turns `query.cache_mb` into a
 * number of events.
 */
export const CACHED_EVENT_BYTES = 48;

export const cacheEventsFor = (mb: number): number => Math.max(1, Math.floor((mb * 1024 * 1024) / CACHED_EVENT_BYTES));

/**
 * The cached events of one bucket: every stored event whose start lies in [lo, hi] (hi excluded
 * when !hiIncl), in span order (see Columns), so that new events append at the end and a change
 * from start S on is a truncation.
 */
export interface Span extends Columns {
  lo: number;
  hi: number;
  hiIncl: boolean;
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
        this.cached -= sp.starts.length;
        sp = undefined;
      }
    }
    if (sp === undefined) {
      sp = { ...this.load(row, lo, true, hi, true), lo, hi, hiIncl: true };
      this.cached += sp.starts.length;
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
    const k = lowerIndex(sp.starts, from);
    this.cached -= sp.starts.length - k;
    sp.ids.length = sp.starts.length = sp.ends.length = sp.data.length = k;
    sp.hi = from;
    sp.hiIncl = false;
  }

  drop(row: number): void {
    const sp = this.spans.get(row);
    if (sp !== undefined) this.cached -= sp.starts.length;
    this.spans.delete(row);
  }

  clear(): void {
    this.spans.clear();
    this.cached = 0;
  }
}
