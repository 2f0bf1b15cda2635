import type { Event, EventData } from '../model/event.js';
import { QEvent } from './values.js';

/**
 * An event row as one text value ("id,start,end,data"): the driver's per-value cost dominates
 * large reads, and this is measurably cheaper than four columns.
 */
export const ROW_TEXT = `id || ',' || starttime || ',' || endtime || ',' || data`;

/**
 * Events as columns in span order: start ascending, equal starts by id descending, i.e. the
 * reverse of answer order (start descending, then id ascending).
 */
export interface Columns {
  ids: number[];
  starts: number[];
  ends: number[];
  data: EventData[];
}

const DATA_CACHE_MAX = 200_000;

/**
 * Parses each distinct `data` text once and shares the (frozen) object between events, which
 * also lets per-data caches (categorize, merge keys) hit by identity.
 */
export function dataInterner(max = DATA_CACHE_MAX): (text: string) => EventData {
  const cache = new Map<string, EventData>();
  return (text) => {
    let d = cache.get(text);
    if (d === undefined) {
      if (cache.size >= max) cache.clear();
      d = Object.freeze(JSON.parse(text) as EventData);
      cache.set(text, d);
    }
    return d;
  };
}

/** Rows (ROW_TEXT) in start-ascending order → columns in span order. */
export function decodeRows(rows: string[], intern: (text: string) => EventData): Columns {
  const n = rows.length;
  const ids = new Array<number>(n), starts = new Array<number>(n), ends = new Array<number>(n), data = new Array<EventData>(n);
  let ties = false;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const c1 = r.indexOf(','), c2 = r.indexOf(',', c1 + 1), c3 = r.indexOf(',', c2 + 1);
    ids[i] = +r.slice(0, c1);
    starts[i] = +r.slice(c1 + 1, c2);
    ends[i] = +r.slice(c2 + 1, c3);
    data[i] = intern(r.slice(c3 + 1));
    if (i > 0 && starts[i] === starts[i - 1]) ties = true;
  }
  if (!ties) return { ids, starts, ends, data };
  // The index gives start order only; equal starts must come by id descending.
  const idx = ids.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]! || ids[b]! - ids[a]!);
  return { ids: idx.map((i) => ids[i]!), starts: idx.map((i) => starts[i]!), ends: idx.map((i) => ends[i]!), data: idx.map((i) => data[i]!) };
}

/**
 * The events of `cols` overlapping [start, end] (touching counts) among those starting at or
 * after cols.starts[first], clipped to the window, in answer order.
 */
export function clippedEvents(cols: Columns, first: number, start: number, end: number): Event[] {
  const out: Event[] = [];
  for (let i = upperIndex(cols.starts, end) - 1; i >= first; i--) {
    const et = cols.ends[i]!;
    if (et < start) continue;
    const st = cols.starts[i]!;
    const s = st < start ? start : st;
    const t = et > end ? end : et;
    out.push(new QEvent(cols.ids[i]!, s, t > s ? t - s : 0, cols.data[i]!));
  }
  return out;
}

/** First index whose value is >= x (values ascending). */
export function lowerIndex(a: number[], x: number): number {
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
