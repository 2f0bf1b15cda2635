import type { FloodMemo } from './event-list.js';
import { lowerIndex } from './rows.js';
import type { QEvent } from './values.js';

/** Most events a source keeps cached over all buckets (see CACHED_EVENT_BYTES). */
export const EVENT_CACHE_MAX = 2_000_000;

/**
 * What one cached event costs: the query engine's own immutable event object (header and four
 * fields, 28 bytes), its start and duration as boxed numbers (12 bytes each), a pointer to its
 * (interned, shared) data object, and the array's slot and spare capacity. Cached events are
 * handed to queries as they are, so a warm query allocates only for events crossing its edges.
 * Turns `query.cache_mb` into a number of events.
 */
export const CACHED_EVENT_BYTES = 64;

export const cacheEventsFor = (mb: number): number => Math.max(1, Math.floor((mb * 1024 * 1024) / CACHED_EVENT_BYTES));

/**
 * The cached events of one bucket: every stored event whose start lies in [lo, hi] (hi excluded
 * when !hiIncl), in span order (see rows.ts), so that new events append at the end and a change
 * from start S on is a truncation.
 */
export interface Span {
  /** In span order (see rows.ts). */
  events: QEvent[];
  lo: number;
  hi: number;
  hiIncl: boolean;
  /** The last flood of a list cut from these events (event-list.ts); told here what changed since. */
  flood: FloodMemo | null;
}

/** Reads the stored events of a bucket row with start in the given range, in span order. */
export type SpanLoader = (row: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean) => QEvent[];

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
        this.cached -= sp.events.length;
        sp = undefined;
      }
    }
    if (sp === undefined) {
      sp = { events: this.load(row, lo, true, hi, true), lo, hi, hiIncl: true, flood: null };
      this.cached += sp.events.length;
    } else {
      if (lo < sp.lo) {
        const below = this.load(row, lo, true, sp.lo, false);
        this.cached += below.length;
        sp.events = below.concat(sp.events);
        sp.lo = lo;
        sp.flood = null; // every event's place in a cut moves
      }
      if (hi > sp.hi || (hi === sp.hi && !sp.hiIncl)) {
        const above = this.load(row, sp.hi, !sp.hiIncl, hi, true);
        this.cached += above.length;
        for (const e of above) sp.events.push(e);
        if (above.length > 0 && sp.flood !== null) sp.flood.stable = Math.min(sp.flood.stable, sp.hi);
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
    const k = lowerIndex(sp.events, from);
    if (sp.flood !== null) sp.flood.stable = Math.min(sp.flood.stable, from);
    this.cached -= sp.events.length - k;
    sp.events.length = k;
    sp.hi = from;
    sp.hiIncl = false;
  }

  drop(row: number): void {
    const sp = this.spans.get(row);
    if (sp !== undefined) this.cached -= sp.events.length;
    this.spans.delete(row);
  }

  clear(): void {
    this.spans.clear();
    this.cached = 0;
  }
}
