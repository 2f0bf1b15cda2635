import type { EventData } from '../model/event.js';
import { EventList, ListBuilder } from './event-list.js';
import { QEvent } from './values.js';

/**
 * An event row as one text value ("id,start,end,data"): the driver's per-value cost dominates
 * large reads, and this is measurably cheaper than four columns.
 */
export const ROW_TEXT = `id || ',' || starttime || ',' || endtime || ',' || data`;

/**
 * Rows (ROW_TEXT) in start-ascending order → events in span order: start ascending, equal starts
 * by id descending, i.e. the reverse of answer order (start descending, then id ascending).
 */
export function decodeRows(rows: string[], intern: (text: string) => EventData): QEvent[] {
  const n = rows.length;
  const out = new Array<QEvent>(n);
  let ties = false;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const c1 = r.indexOf(','), c2 = r.indexOf(',', c1 + 1), c3 = r.indexOf(',', c2 + 1);
    const start = integerAt(r, c1 + 1, c2);
    out[i] = new QEvent(integerAt(r, 0, c1), start, integerAt(r, c2 + 1, c3) - start, intern(r.slice(c3 + 1)));
    if (i > 0 && start === out[i - 1]!.timestamp) ties = true;
  }
  // The index gives start order only; equal starts must come by id descending.
  if (ties) out.sort((a, b) => a.timestamp - b.timestamp || b.id! - a.id!);
  return out;
}

/**
 * The number written in `text` between `from` and `to`: digits read in place, which costs a third
 * less than slicing and converting each field of a large read; anything but a safe integer (a
 * REAL, an exponent) goes through the general conversion.
 */
export function integerAt(text: string, from: number, to: number): number {
  let i = from;
  const negative = text.charCodeAt(i) === 45; // '-'
  if (negative) i++;
  if (i === to) return +text.slice(from, to);
  let x = 0;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return +text.slice(from, to);
    x = x * 10 + d;
  }
  // Every step was exact while the result stays a safe integer.
  if (x > Number.MAX_SAFE_INTEGER) return +text.slice(from, to);
  return negative ? -x : x;
}

/**
 * The events of `evs` (span order) overlapping [start, end] (touching counts) among those from
 * index `first` on, clipped to the window, in answer order. Events inside the window are shared,
 * not copied: only the few crossing an edge are new.
 */
export function clippedEvents(evs: readonly QEvent[], first: number, start: number, end: number): QEvent[] {
  const last = upperIndex(evs, end) - 1;
  // Sized once: a month is tens of thousands of events, and growing by push copies the list again and again.
  const out = new Array<QEvent>(Math.max(0, last - first + 1));
  let k = 0;
  for (let i = last; i >= first; i--) {
    const e = evs[i]!;
    const st = e.timestamp, et = st + e.duration;
    if (et < start) continue;
    if (st >= start && et <= end) out[k++] = e;
    else {
      const s = st < start ? start : st;
      const t = et > end ? end : et;
      out[k++] = new QEvent(e.id, s, t > s ? t - s : 0, e.data);
    }
  }
  out.length = k;
  return out;
}

/** `clippedEvents` as an event list: the same events, in the same order, without an object per event. */
export function clippedList(evs: readonly QEvent[], first: number, start: number, end: number): EventList {
  const last = upperIndex(evs, end) - 1;
  const out = new ListBuilder(Math.max(0, last - first + 1));
  for (let i = last; i >= first; i--) {
    const e = evs[i]!;
    const st = e.timestamp, et = st + e.duration;
    if (et < start) continue;
    const id = e.id === null ? NaN : e.id;
    if (st >= start && et <= end) out.add(id, st, e.duration, e.data);
    else {
      const s = st < start ? start : st;
      const t = et > end ? end : et;
      out.add(id, s, t > s ? t - s : 0, e.data);
    }
  }
  return out.done(false);
}

/** First index whose start is >= x (span order). */
export function lowerIndex(evs: readonly QEvent[], x: number): number {
  let lo = 0, hi = evs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (evs[mid]!.timestamp < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose start is > x (span order). */
function upperIndex(evs: readonly QEvent[], x: number): number {
  let lo = 0, hi = evs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (evs[mid]!.timestamp <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
