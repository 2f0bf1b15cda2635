import { canonicalJson, jsonEqual, type EventData } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { dataArray, f64 } from './arena.js';
import { sameData, sealData, type Sealed, SLOT } from './data.js';
import { EventList, type FloodMemo, type FloodRoom, gather, ListBuilder, partitionPoint } from './event-list.js';
import { QEvent } from './values.js';

/**
 * Event transforms with the semantics of ActivityWatch's server (aw-server-rust), over event
 * lists in columns (event-list.ts): the `…List` functions are what the built-ins call. Each also
 * has a form over arrays of events (tests; the few built-ins not ported: union_no_overlap,
 * chunk_events_by_key, simplify_window_titles). Inputs are never modified; outputs are new lists,
 * or the input itself when nothing changes (lists and events are immutable and shared).
 */

const PULSETIME: Micros = 5_000_000;

/** Most ascending runs merged by hand; more than this and the built-in sort is as good. */
const MAX_RUNS = 16;

/**
 * `l` in ascending start order, stable: `l` itself when it is (the mark is kept, so a list is
 * scanned once however many transforms it passes through); strictly descending lists (query_bucket
 * gives newest first) reversed; a few ascending runs — what `sort_by_timestamp(concat(a, b))` sees —
 * merged run by run; anything else through the built-in sort.
 */
export function sortedList(l: EventList): EventList {
  const order = startOrder(l);
  if (order === 1) return l;
  const out = order === -1 ? reversed(l) : sortedRuns(l);
  out.urlSplit = l.urlSplit;
  return out;
}

function sortedRuns(l: EventList): EventList {
  const n = l.n, ts = l.ts;
  const bounds = runStarts(ts, n);
  if (bounds.length > MAX_RUNS) {
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => ts[a]! - ts[b]!); // stable
    return gather(l, order, true);
  }
  bounds.push(n);
  return gather(l, mergeRuns(ts, bounds), true);
}

/** Where the ascending runs of `ts` start, up to MAX_RUNS + 1 of them (a loop alone: see intersectInto). */
function runStarts(ts: Float64Array, n: number): number[] {
  const bounds = [0];
  for (let k = 1; k < n && bounds.length <= MAX_RUNS; k++) if (ts[k]! < ts[k - 1]!) bounds.push(k);
  return bounds;
}

/** Strictly descending `l` reversed (no equal starts, so the order is the stable one). */
function reversed(l: EventList): EventList {
  const n = l.n;
  const data = dataArray(n);
  for (let i = 0; i < n; i++) data[i] = l.data[n - 1 - i]!;
  return new EventList(n, backwards(l.ids, n), backwards(l.ts, n), backwards(l.dur, n), data, true);
}

function backwards(a: Float64Array, n: number): Float64Array {
  const r = f64(n);
  for (let i = 0; i < n; i++) r[i] = a[n - 1 - i]!;
  return r;
}

/**
 * The indices of events starting at `ts`, sorted by start, given where its ascending runs start
 * (and its length, last): runs merged pairwise, a level at a time; equal starts keep their order.
 */
function mergeRuns(ts: Float64Array, bounds: number[]): Int32Array {
  const n = ts.length;
  let src = new Int32Array(n), dst = new Int32Array(n);
  for (let k = 0; k < n; k++) src[k] = k;
  for (let runs = bounds; runs.length > 2; ) {
    const next = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r]!, mid = runs[r + 1]!, hi = r + 2 < runs.length ? runs[r + 2]! : mid;
      mergePair(ts, src, dst, lo, mid, hi);
      next.push(hi);
    }
    [src, dst] = [dst, src];
    runs = next;
  }
  return src;
}

/**
 * Merges the runs src[lo, mid) and src[mid, hi) into dst[lo, hi). One loop for the merge and both
 * tails, so that its every step has run before V8 optimizes it; alone in its function, so that
 * nothing after it lacks type feedback when V8 compiles it mid-loop (see intersectInto).
 */
function mergePair(ts: Float64Array, src: Int32Array, dst: Int32Array, lo: number, mid: number, hi: number): void {
  let i = lo, j = mid;
  for (let k = lo; k < hi; k++) dst[k] = j >= hi || (i < mid && ts[src[i]!]! <= ts[src[j]!]!) ? src[i++]! : src[j++]!;
}

/** 1: ascending by start; -1: strictly descending (query_bucket's newest-first order); 0: neither. */
function startOrder(l: EventList): 1 | -1 | 0 {
  if (l.ascending) return 1;
  const n = l.n, ts = l.ts;
  if (n < 2) return 1;
  let i = 1;
  if (ts[1]! >= ts[0]!) {
    while (i < n && ts[i]! >= ts[i - 1]!) i++;
    if (i < n) return 0;
    l.ascending = true;
    return 1;
  }
  while (i < n && ts[i]! < ts[i - 1]!) i++;
  return i === n ? -1 : 0;
}

/**
 * Flood: gaps shorter than `pulsetime` closed, neighbours with equal data merged. A list query_bucket
 * cut from the cache (`origin`) keeps its answer there; the next flood of the same cut reuses it
 * whole when nothing changed, or up to where the cache says events changed (a heartbeat: the newest).
 */
export function floodList(input: EventList, pulsetime: Micros = PULSETIME): EventList {
  if (input.n === 0) return input;
  // query_bucket's newest-first list is read from its end rather than reversed into a copy.
  const order = startOrder(input);
  const o = order === 0 ? null : input.origin;
  if (o === null) {
    const l = order === 0 ? sortedList(input) : input;
    const out = new ListBuilder(l.n);
    floodScan(l, order === -1, pulsetime, out, null, null);
    return out.done(true);
  }
  // The same cut of the same cached events as last time: the events starting before `stable` are
  // the same as then, so the answer is too up to the last event that began among them.
  const prev = o.holder.flood;
  const same = prev !== null && prev.start === o.start && prev.end === o.end && prev.pulsetime === pulsetime;
  if (same && prev.stable === Infinity) return handOut(prev.out);
  // The last output event that began at an unchanged input event.
  const stableIdx = same ? countBefore(input, order === -1, prev.stable) : 0;
  const m = same ? partitionPoint(prev.out.n, (i) => prev.began[i]! < stableIdx) - 1 : -1;
  const kept = keptFlood(input, order === -1, pulsetime, m >= 0 ? prev : null, m);
  o.holder.flood = { start: o.start, end: o.end, pulsetime, ...kept, stable: Infinity };
  return handOut(kept.out);
}

/**
 * The kept answer's arrays in a list of the asker's own: the events a query makes of it (to print
 * or return it) then go with that query instead of staying with the cache. Its arrays are only
 * valid until the next flood that resumes this answer, which writes its new tail in place: that is
 * the next query's, after a change (a query's lists do not outlive it: runQuery returns plain values).
 */
const handOut = (l: EventList): EventList => new EventList(l.n, l.ids, l.ts, l.dur, l.data, true);

/** Events of `l` (ascending, or strictly descending when `desc`) starting before `x`. */
function countBefore(l: EventList, desc: boolean, x: number): number {
  const ts = l.ts;
  return desc ? l.n - partitionPoint(l.n, (i) => ts[i]! >= x) : partitionPoint(l.n, (i) => ts[i]! < x);
}

/** Room for `n` events and some more, so that the next few resumed floods fit in place. */
const withRoom = (n: number): number => n + Math.max(64, n >> 4);

/**
 * Flood of `l` made to be kept. With `prev`, its first `m` output events are taken as they are and
 * the scan resumes at the input event its output event `m` began at, with the start that event had:
 * the scan's state there is exactly that. The new tail is written into `prev`'s arrays when they
 * have room for it (a heartbeat adds an event or two); otherwise into new ones with room to spare.
 */
function keptFlood(l: EventList, desc: boolean, pulsetime: Micros, prev: FloodMemo | null, m: number): Omit<FloodMemo, 'start' | 'end' | 'pulsetime' | 'stable'> {
  const n = l.n;
  let room: FloodRoom;
  let from: { c: number; cStart: number } | null = null;
  if (prev === null) {
    // At most one event out per event in.
    room = { ids: new Float64Array(n), ts: new Float64Array(n), dur: new Float64Array(n), data: new Array<EventData>(n), began: new Int32Array(n) };
  } else {
    from = { c: prev.began[m]!, cStart: prev.out.ts[m]! };
    const need = m + (n - from.c);
    const r = prev.room;
    if (r.ts.length >= need) {
      r.data.length = m;
      room = r;
    } else {
      const cap = withRoom(need);
      // `into` with the first m entries of `from`.
      const prefix = <A extends Float64Array | Int32Array>(from: A, into: A): A => (into.set(from.subarray(0, m)), into);
      room = {
        ids: prefix(r.ids, new Float64Array(cap)),
        ts: prefix(r.ts, new Float64Array(cap)),
        dur: prefix(r.dur, new Float64Array(cap)),
        data: r.data.slice(0, m),
        began: prefix(r.began, new Int32Array(cap)),
      };
    }
  }
  const out = new ListBuilder(0, room, from === null ? 0 : m);
  floodScan(l, desc, pulsetime, out, room.began, from);
  const k = out.n;
  room.data.length = k;
  // The first answer had room for every input event: keep only its own size, and some more.
  if (prev === null && withRoom(k) < n) {
    const cap = withRoom(k);
    room = { ids: room.ids.slice(0, cap), ts: room.ts.slice(0, cap), dur: room.dur.slice(0, cap), data: room.data, began: room.began.slice(0, cap) };
  }
  const list = new EventList(k, room.ids.subarray(0, k), room.ts.subarray(0, k), room.dur.subarray(0, k), room.data, true);
  return { out: list, began: room.began.subarray(0, k), room };
}

/**
 * Flood of `l` in ascending order (a strictly descending `l` is read from its end), added to `out`:
 * from the first event, or (`from`) resumed at input event `c` (ascending index) with the current
 * output event starting at `cStart`. `began`, when given, gets for each output event the ascending
 * index of the input event it began at.
 */
function floodScan(l: EventList, desc: boolean, pulsetime: Micros, out: ListBuilder, began: Int32Array | null, from: { c: number; cStart: number } | null): void {
  const { n, ids, ts, dur, data } = l;
  let c = from === null ? 0 : from.c; // ascending index of the current event
  let cStart = from === null ? ts[desc ? n - 1 : 0]! : from.cStart;
  let ci = desc ? n - 1 - c : c;
  let cEnd = ts[ci]! + dur[ci]!;
  // Up to k = n, where the last event is added: by the same line as the others, so that V8's
  // compiled loop knows it (a line of its own after the loop threw that code away at each call).
  for (let k = c + 1; k <= n; k++) {
    let i = 0, e = 0, nextStart = 0;
    if (k < n) {
      i = desc ? n - 1 - k : k;
      const s = ts[i]!;
      e = s + dur[i]!;
      const gap = s - cEnd;
      if (gap < pulsetime && sameData(data[ci]!, data[i]!)) {
        // Same data, overlapping or within the pulse: absorb event i into the current one.
        if (s < cStart) cStart = s;
        if (e > cEnd) cEnd = e;
        continue;
      }
      nextStart = s;
      if (gap >= 0 && gap < pulsetime) {
        // Different data, small gap: both meet in the middle.
        const half = Math.floor(gap / 2);
        cEnd += half;
        nextStart = s - (gap - half);
      }
    }
    if (began !== null) began[out.n] = c;
    out.add(ids[ci]!, cStart, cEnd - cStart, data[ci]!);
    c = k;
    ci = i;
    cStart = nextStart;
    cEnd = e;
  }
}

export function filterPeriodIntersectList(events: EventList, filter: EventList): EventList {
  if (events.n === 0 || filter.n === 0) return EventList.empty();
  const a = sortedList(events), f = sortedList(filter);
  // Each fragment ends where an event or a filter period ends.
  const out = new ListBuilder(a.n + f.n);
  intersectInto(a, f, out);
  return out.done(true);
}

/**
 * The loop of filterPeriodIntersectList, alone in a function: V8 compiles a long loop of a
 * function called a few times per query on the stack (OSR), with type feedback only for what ran
 * before; code after the loop that had none (`out.done`) threw the compiled loop away at each
 * call, and the next call's loop ran unoptimized, boxing every number it computed.
 */
function intersectInto(a: EventList, f: EventList, out: ListBuilder): void {
  const { ts, dur } = a, fts = f.ts, fdur = f.dur;
  let i = 0, j = 0;
  let eStart = ts[0]!;
  while (i < a.n && j < f.n) {
    const end = ts[i]! + dur[i]!;
    const fStart = fts[j]!;
    if (end - eStart <= 0 || end <= fStart) {
      i++;
      if (i < a.n) eStart = ts[i]!;
      continue;
    }
    const fEnd = fStart + fdur[j]!;
    if (eStart >= fEnd) {
      j++;
      continue;
    }
    const s = eStart > fStart ? eStart : fStart;
    const t = end < fEnd ? end : fEnd;
    // A zero-duration filter event would give an empty fragment (the reference emits it); skip it.
    if (t > s) out.add(a.ids[i]!, s, t - s, a.data[i]!);
    eStart = t;
  }
}

const EMPTY_DATA = Object.freeze({}) as EventData;

export function periodUnionList(a: EventList, b: EventList): EventList {
  const all = sortedList(concatLists([a, b]));
  if (all.n === 0) return all;
  const out = new ListBuilder(all.n);
  unionInto(all, out);
  return out.done(true);
}

/** The loop of periodUnionList (alone: see intersectInto); the last period is added in it too. */
function unionInto(all: EventList, out: ListBuilder): void {
  const { n, ids, ts, dur } = all;
  let first = 0;
  let end = ts[0]! + dur[0]!;
  for (let i = 1; i <= n; i++) {
    if (i < n && ts[i]! <= end) {
      if (ts[i]! + dur[i]! > end) end = ts[i]! + dur[i]!;
      continue;
    }
    out.add(ids[first]!, ts[first]!, end - ts[first]!, EMPTY_DATA);
    if (i < n) {
      first = i;
      end = ts[i]! + dur[i]!;
    }
  }
}

/** The lists one after the other. */
export function concatLists(lists: readonly EventList[]): EventList {
  if (lists.length === 1) return lists[0]!;
  const out = new ListBuilder(lists.reduce((n, l) => n + l.n, 0));
  for (const l of lists) for (let i = 0; i < l.n; i++) out.copy(l, i);
  const list = out.done(false);
  list.urlSplit = lists.every((l) => l.n === 0 || l.urlSplit);
  return list;
}

// The same transforms over arrays of events (the tests', and the few built-ins not ported to lists).
const onList = (f: (l: EventList) => EventList) => (evs: readonly QEvent[]): QEvent[] => f(EventList.of(evs)).events();
export const flood = (evs: readonly QEvent[], pulsetime: Micros = PULSETIME): QEvent[] => floodList(EventList.of(evs), pulsetime).events();
export const filterPeriodIntersect = (evs: readonly QEvent[], filter: readonly QEvent[]): QEvent[] =>
  filterPeriodIntersectList(EventList.of(evs), EventList.of(filter)).events();
export const periodUnion = (a: readonly QEvent[], b: readonly QEvent[]): QEvent[] => periodUnionList(EventList.of(a), EventList.of(b)).events();

/**
 * Priority to `a`; neither list is sorted here (the reference does not). One deviation from the
 * reference's two-cursor walk: an event of `b` taken after an `a` event was emitted is also
 * trimmed against that `a` event, so a `b` event that follows one swallowed by `a` cannot
 * overlap it (the reference emits that overlap; its contract says overlaps are cut away).
 */
export function unionNoOverlap(a: readonly QEvent[], b: readonly QEvent[]): QEvent[] {
  const out: QEvent[] = [];
  let i = 0, j = 0;
  let last: QEvent | null = null;
  const take = (): QEvent | undefined => {
    for (;;) {
      const e = b[j];
      if (!e || !last || e.timestamp < last.timestamp || e.timestamp >= last.end) return e;
      if (e.end > last.end) return new QEvent(null, last.end, e.end - last.end, e.data);
      j++;
    }
  };
  let cur: QEvent | undefined = take();
  while (i < a.length && cur) {
    const e1 = a[i]!;
    const e2: QEvent = cur;
    const overlap = e1.timestamp < e2.end && e2.timestamp < e1.end;
    if (overlap) {
      if (e1.timestamp <= e2.timestamp) {
        out.push((last = e1));
        i++;
        if (e2.end > e1.end) cur = new QEvent(null, e1.end, e2.end - e1.end, e2.data);
        else {
          j++;
          cur = take();
        }
      } else {
        out.push(new QEvent(null, e2.timestamp, e1.timestamp - e2.timestamp, e2.data));
        cur = new QEvent(null, e1.timestamp, e2.end - e1.timestamp, e2.data);
      }
    } else if (e1.timestamp <= e2.timestamp) {
      out.push((last = e1));
      i++;
    } else {
      out.push(e2);
      j++;
      cur = take();
    }
  }
  for (; i < a.length; i++) out.push(a[i]!);
  if (cur) {
    out.push(cur);
    j++;
    for (let e = take(); e; j++, e = take()) out.push(e);
  }
  return out;
}

/**
 * Group key text of a value: strings as themselves (prefixed), anything else as canonical JSON,
 * so `"1"`, `1` and `1.0`-as-JSON differ and arrays such as `$category` group by value.
 */
const keyText = (v: unknown): string => {
  if (typeof v === 'string') return 's' + v;
  if (typeof v !== 'object' || v === null) return 'j' + canonicalJson(v);
  // Objects (a `$category` list) are shared by many data objects and never mutated: text them once.
  let t = objectKeyTexts.get(v);
  if (t === undefined) objectKeyTexts.set(v, (t = 'j' + canonicalJson(v)));
  return t;
};
const objectKeyTexts = new WeakMap<object, string>();

interface Group {
  /** Its place in the output (first-seen order). */
  k: number;
  /** Index of the group's first event. */
  first: number;
}

/** The groups of one merge: by string value (one key), by key text, and in first-seen order. */
interface Groups {
  byString: Map<string, Group>;
  byText: Map<string, Group>;
  /** Groups in first-seen order (the output order). */
  order: Group[];
}

function groupIn(gs: Groups, m: Map<string, Group>, k: string, first: number): Group {
  let g = m.get(k);
  if (g === undefined) {
    m.set(k, (g = { k: gs.order.length, first }));
    gs.order.push(g);
  }
  return g;
}

/**
 * The group of data `d` (first met at event `i`), or null when it lacks a key. Module-level
 * functions, not closures made per call: optimized code that inlined one call's closures
 * deoptimized at the next call (a different closure object) and was compiled again.
 */
function groupOf(gs: Groups, keys: readonly string[], d: EventData, i: number): Group | null {
  if (keys.length === 1) {
    const key = keys[0]!;
    if (!Object.prototype.hasOwnProperty.call(d, key)) return null;
    const v = d[key];
    return typeof v === 'string' ? groupIn(gs, gs.byString, v, i) : groupIn(gs, gs.byText, keyText(v), i);
  }
  let k = '';
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(d, key)) return null;
    const t = keyText(d[key]);
    // Length-prefixed when combining keys, so no two value tuples share a key text.
    k += `${t.length}:${t}`;
  }
  return groupIn(gs, gs.byText, k, i);
}

export function mergeEventsByKeysList(l: EventList, keys: readonly string[]): EventList {
  if (keys.length === 0) return EventList.empty();
  // The group of each distinct data object (in the order first met, so groups come in the order
  // of their first event), then the durations summed by group in event order.
  const ix = l.dataIndex();
  const gs: Groups = { byString: new Map(), byText: new Map(), order: [] };
  const groupAt = new Int32Array(ix.data.length);
  for (let d = 0; d < ix.data.length; d++) groupAt[d] = groupOf(gs, keys, ix.data[d]!, ix.firstAt[d]!)?.k ?? -1;
  const sums = sumByGroup(ix.of, groupAt, l.dur, l.n, gs.order.length);
  const out = new ListBuilder(gs.order.length);
  for (const g of gs.order) out.add(NaN, l.ts[g.first]!, sums[g.k]!, l.data[g.first]!);
  return out.done(false);
}

/** Durations summed per group, in event order (a loop alone: see intersectInto). */
function sumByGroup(of: Int32Array, groupAt: Int32Array, dur: Float64Array, n: number, groups: number): Float64Array {
  const sums = new Float64Array(groups);
  for (let i = 0; i < n; i++) {
    const g = groupAt[of[i]!]!;
    if (g >= 0) sums[g] += dur[i]!;
  }
  return sums;
}

export const mergeEventsByKeys = (evs: readonly QEvent[], keys: readonly string[]): QEvent[] => mergeEventsByKeysList(EventList.of(evs), keys).events();

export function chunkEventsByKey(evs: readonly QEvent[], key: string): QEvent[] {
  const out: QEvent[] = [];
  let first: QEvent | null = null;
  let dur = 0;
  for (const e of evs) {
    if (!Object.prototype.hasOwnProperty.call(e.data, key)) continue;
    if (first && jsonEqual(first.data[key], e.data[key])) {
      dur += e.duration;
      continue;
    }
    if (first) out.push(dur === first.duration ? first : new QEvent(first.id, first.timestamp, dur, first.data));
    first = e;
    dur = e.duration;
  }
  if (first) out.push(dur === first.duration ? first : new QEvent(first.id, first.timestamp, dur, first.data));
  return out;
}

export const sortByTimestamp = onList(sortedList);

/** Longest first; equal durations keep their order. */
export function sortByDurationList(l: EventList): EventList {
  const dur = l.dur;
  return gather(l, Array.from({ length: l.n }, (_, k) => k).sort((a, b) => dur[b]! - dur[a]!), false);
}
export const sortByDuration = onList(sortByDurationList);

/** Seconds, truncated to whole milliseconds as the reference does. */
export function sumDurationsList(l: EventList): number {
  let us = 0;
  for (let i = 0; i < l.n; i++) us += l.dur[i]!;
  return Math.trunc(us / 1000) / 1000;
}
export const sumDurations = (evs: readonly QEvent[]): number => sumDurationsList(EventList.of(evs));

export function limitEventsList(l: EventList, n: number): EventList {
  const k = Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : n > 0 ? l.n : 0;
  if (k >= l.n) return l;
  return new EventList(k, l.ids.subarray(0, k), l.ts.subarray(0, k), l.dur.subarray(0, k), l.data.slice(0, k), l.ascending);
}
export const limitEvents = (evs: readonly QEvent[], n: number): QEvent[] => limitEventsList(EventList.of(evs), n).events();

/** `l` with each event's data replaced by `f(data)`: times and ids shared, not copied; `l` itself when no data changes. */
export function withData(l: EventList, f: (d: EventData) => EventData): EventList {
  let out: EventData[] | null = null;
  for (let i = 0; i < l.n; i++) {
    const d = l.data[i]!;
    const m = f(d);
    if (m !== d && out === null) {
      out = dataArray(l.n);
      for (let k = 0; k < i; k++) out[k] = l.data[k]!;
    }
    if (out !== null) out[i] = m;
  }
  return out === null ? l : new EventList(l.n, l.ids, l.ts, l.dur, out, l.ascending);
}

/** The `$protocol`/`$domain`/`$path`/`$params` split of `data.url`; cached per data object and per URL. */
export function splitUrlList(l: EventList): EventList {
  // The web UI splits each browser's events, then all of them again.
  if (l.urlSplit) return l;
  const out = withData(l, splitOf);
  out.urlSplit = true;
  return out;
}
export const splitUrlEvents = onList(splitUrlList);

function splitOf(data: EventData): EventData {
  const slot = (data as Sealed)[SLOT];
  let d = slot !== undefined ? slot.split : splitMemo.get(data);
  if (d === undefined || d === null) {
    d = splitUrlData(data);
    if (slot !== undefined) slot.split = d;
    else splitMemo.set(data, d);
  }
  return d;
}

interface UrlParts { $protocol: string; $domain: string; $path: string; $params: string }
const splitMemo = new WeakMap<EventData, EventData>();
const URL_CACHE_MAX = 20_000;
const urlCache = new Map<string, UrlParts | null>();

function urlParts(url: string): UrlParts | null {
  let p = urlCache.get(url);
  if (p !== undefined) return p;
  try {
    const u = new URL(url);
    const protocol = u.protocol.replace(/:$/, '');
    let host = u.hostname;
    while (host.startsWith('www.')) host = host.slice(4); // every repeated one, as ActivityWatch does
    p = { $protocol: protocol, $domain: host === '' ? protocol : host, $path: u.pathname, $params: u.search.replace(/^\?/, '') };
  } catch {
    p = null;
  }
  if (urlCache.size >= URL_CACHE_MAX) urlCache.clear();
  urlCache.set(url, p);
  return p;
}

function splitUrlData(data: EventData): EventData {
  const url = data.url;
  if (typeof url !== 'string') return data;
  const p = urlParts(url);
  if (!p) return data;
  // Already split (the web UI splits browser events twice): keep the same object.
  if (data.$protocol === p.$protocol && data.$domain === p.$domain && data.$path === p.$path && data.$params === p.$params) return data;
  return sealData({ ...data, ...p });
}

/** Legacy Python transform: strips "(N) " counters, FPS numbers and edit markers from titles. */
export function simplifyWindowTitles(evs: readonly QEvent[], key: string): QEvent[] | string {
  const out: QEvent[] = [];
  for (const e of evs) {
    const v = e.data[key];
    if (typeof v !== 'string') return `event has no string '${key}' in its data`;
    let s = v.replace(/^\(\d+\)\s*/, '');
    if (key === 'title' && Object.prototype.hasOwnProperty.call(e.data, 'app')) {
      s = s.replace(/FPS:\s+[0-9.]+/g, 'FPS: ...').replace(/^[●*]\s*/, '');
    }
    out.push(s === v ? e : new QEvent(e.id, e.timestamp, e.duration, sealData({ ...e.data, [key]: s })));
  }
  return out;
}

