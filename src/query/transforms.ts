import { canonicalJson, jsonEqual, type EventData } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { nextPass, sameData, sealData, type Sealed, SLOT } from './data.js';
import { QEvent } from './values.js';

/**
 * Event transforms with the semantics of ActivityWatch's server (aw-server-rust).
 * Inputs are never modified; outputs are new arrays, or the input itself when nothing changes
 * (lists and events are immutable and shared).
 */

const PULSETIME: Micros = 5_000_000;

/**
 * Lists known to be in ascending start order: what flood, the period transforms and the sorts
 * return, and what order-keeping transforms make of such lists. Lists are never mutated, so the
 * mark stays true, and a year's list is not scanned again by every transform it passes through
 * (each scan reads 700k events scattered over the heap).
 */
const ascending = new WeakSet<readonly QEvent[]>();

const sorted = <L extends readonly QEvent[]>(out: L): L => {
  ascending.add(out);
  return out;
};

/** `out`, built from `evs` keeping its order and each event's start, marked ascending when `evs` is. */
export function keepsOrder<L extends readonly QEvent[]>(evs: readonly QEvent[], out: L): L {
  if (ascending.has(evs)) ascending.add(out);
  return out;
}

/** 1: ascending by start; -1: strictly descending (query_bucket's newest-first order); 0: neither. */
function startOrder(evs: readonly QEvent[]): 1 | -1 | 0 {
  const n = evs.length;
  if (n < 2 || ascending.has(evs)) return 1;
  let i = 1;
  if (evs[1]!.timestamp >= evs[0]!.timestamp) {
    while (i < n && evs[i]!.timestamp >= evs[i - 1]!.timestamp) i++;
    if (i < n) return 0;
    ascending.add(evs);
    return 1;
  }
  while (i < n && evs[i]!.timestamp < evs[i - 1]!.timestamp) i++;
  return i === n ? -1 : 0;
}

/** Most ascending runs merged by hand; more than this and the built-in sort is as good. */
const MAX_RUNS = 16;

/**
 * Stable ascending sort by start; returns the input itself when already sorted (common after
 * flood). Strictly descending input is reversed (stable, as no two starts are equal). A list made
 * of a few ascending runs — what `sort_by_timestamp(concat(a, b))` sees — is merged run by run, a
 * pass per level with inline comparisons, rather than through the built-in sort's comparator calls.
 */
function sortByStart(evs: readonly QEvent[]): readonly QEvent[] {
  const order = startOrder(evs);
  if (order === 1) return evs;
  if (order === -1) return sorted(evs.slice().reverse());
  const bounds = [0];
  for (let i = 1; i < evs.length && bounds.length <= MAX_RUNS; i++) {
    if (evs[i]!.timestamp < evs[i - 1]!.timestamp) bounds.push(i);
  }
  if (bounds.length > MAX_RUNS) return sorted(evs.slice().sort((a, b) => a.timestamp - b.timestamp));
  bounds.push(evs.length);
  return sorted(mergeRuns(evs, bounds));
}

/**
 * `evs` sorted by start, given where its ascending runs start (and its length, last): runs merged
 * pairwise, a level at a time. A function of its own so that sortByStart's optimized code never
 * reaches a merge step the interpreter did not run first (that deoptimized it in a cold daemon).
 */
function mergeRuns(evs: readonly QEvent[], bounds: number[]): QEvent[] {
  let src: QEvent[] = evs.slice(), dst = new Array<QEvent>(evs.length);
  for (let runs = bounds; runs.length > 2; ) {
    const next = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r]!, mid = runs[r + 1]!, hi = r + 2 < runs.length ? runs[r + 2]! : mid;
      let i = lo, j = mid;
      // Equal starts take the earlier run's event first: the merge is stable. One loop for the
      // merge and both tails, so that its every step has run before V8 optimizes it.
      for (let k = lo; k < hi; k++) dst[k] = j >= hi || (i < mid && src[i]!.timestamp <= src[j]!.timestamp) ? src[i++]! : src[j++]!;
      next.push(hi);
    }
    [src, dst] = [dst, src];
    runs = next;
  }
  return src;
}

export function flood(input: readonly QEvent[], pulsetime: Micros = PULSETIME): QEvent[] {
  if (input.length === 0) return [];
  // query_bucket's newest-first list is read from its end rather than reversed into a copy.
  const order = startOrder(input);
  const desc = order === -1;
  const evs = order === 0 ? sortByStart(input) : input;
  const n = evs.length;
  // At most one event out per event in, so the list is sized once (see clippedEvents in rows.ts).
  const out = new Array<QEvent>(n);
  let k = 0;
  let c = evs[desc ? n - 1 : 0]!;
  let cStart = c.timestamp, cEnd = c.end;
  for (let i = 1; i < n; i++) {
    const e = evs[desc ? n - 1 - i : i]!;
    const gap = e.timestamp - cEnd;
    if (gap < pulsetime && sameData(c.data, e.data)) {
      // Same data, overlapping or within the pulse: absorb e into the current event.
      if (e.timestamp < cStart) cStart = e.timestamp;
      if (e.end > cEnd) cEnd = e.end;
      continue;
    }
    let nextStart = e.timestamp;
    if (gap >= 0 && gap < pulsetime) {
      // Different data, small gap: both meet in the middle.
      const half = Math.floor(gap / 2);
      cEnd += half;
      nextStart = e.timestamp - (gap - half);
    }
    out[k++] = floodEvent(c, cStart, cEnd);
    c = e;
    cStart = nextStart;
    cEnd = e.end;
  }
  out[k++] = floodEvent(c, cStart, cEnd);
  out.length = k;
  return sorted(out);
}

/**
 * `c` spanning [start, end]: itself when unchanged. The duration is worked out every time, not
 * only for a changed event: an arithmetic step the interpreter never ran has no type feedback, and
 * optimized code reaching it deoptimizes (flood did, seven times over in a cold daemon's first
 * queries, each time compiled again).
 */
function floodEvent(c: QEvent, start: Micros, end: Micros): QEvent {
  const duration = end - start;
  return start === c.timestamp && duration === c.duration ? c : new QEvent(c.id, start, duration, c.data);
}

export function filterPeriodIntersect(events: readonly QEvent[], filter: readonly QEvent[]): QEvent[] {
  if (events.length === 0 || filter.length === 0) return [];
  const evs = sortByStart(events), fl = sortByStart(filter);
  // Each fragment ends where an event or a filter period ends: sized once, cut to length at the end.
  const out = new Array<QEvent>(evs.length + fl.length);
  let k = 0;
  let i = 0, j = 0;
  let e = evs[0]!;
  let eStart = e.timestamp;
  const eEnd = (): Micros => e.end;
  while (i < evs.length && j < fl.length) {
    const f = fl[j]!;
    const end = eEnd();
    if (end - eStart <= 0 || end <= f.timestamp) {
      i++;
      if (i < evs.length) {
        e = evs[i]!;
        eStart = e.timestamp;
      }
      continue;
    }
    const fEnd = f.end;
    if (eStart >= fEnd) {
      j++;
      continue;
    }
    const s = eStart > f.timestamp ? eStart : f.timestamp;
    const t = end < fEnd ? end : fEnd;
    // A zero-duration filter event would give an empty fragment (the reference emits it); skip it.
    if (t > s) out[k++] = s === e.timestamp && t === end ? e : new QEvent(e.id, s, t - s, e.data);
    eStart = t;
  }
  out.length = k;
  return sorted(out);
}

export function periodUnion(a: readonly QEvent[], b: readonly QEvent[]): QEvent[] {
  const all = sortByStart([...a, ...b]);
  const out: QEvent[] = [];
  if (all.length === 0) return out;
  const empty = Object.freeze({}) as EventData;
  let first = all[0]!;
  let end = first.end;
  for (let i = 1; i < all.length; i++) {
    const e = all[i]!;
    if (e.timestamp <= end) {
      if (e.end > end) end = e.end;
    } else {
      out.push(new QEvent(first.id, first.timestamp, end - first.timestamp, empty));
      first = e;
      end = e.end;
    }
  }
  out.push(new QEvent(first.id, first.timestamp, end - first.timestamp, empty));
  return sorted(out);
}

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
  first: QEvent;
  dur: Micros;
}

/** The groups of one merge: by string value (one key), by key text, and in first-seen order. */
interface Groups {
  byString: Map<string, Group>;
  byText: Map<string, Group>;
  /** Groups in first-seen order (the output order). */
  order: Group[];
}

function groupIn(gs: Groups, m: Map<string, Group>, k: string, e: QEvent): Group {
  let g = m.get(k);
  if (g === undefined) {
    m.set(k, (g = { first: e, dur: 0 }));
    gs.order.push(g);
  }
  return g;
}

/**
 * The group of `e`'s data, or null when it lacks a key. Module-level functions, not closures made
 * per call: optimized code that inlined one call's closures deoptimized at the next call (a
 * different closure object) and was compiled again, in every cold daemon's first queries.
 */
function groupOf(gs: Groups, keys: readonly string[], e: QEvent): Group | null {
  if (keys.length === 1) {
    const key = keys[0]!;
    if (!Object.prototype.hasOwnProperty.call(e.data, key)) return null;
    const v = e.data[key];
    return typeof v === 'string' ? groupIn(gs, gs.byString, v, e) : groupIn(gs, gs.byText, keyText(v), e);
  }
  let k = '';
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(e.data, key)) return null;
    const t = keyText(e.data[key]);
    // Length-prefixed when combining keys, so no two value tuples share a key text.
    k += `${t.length}:${t}`;
  }
  return groupIn(gs, gs.byText, k, e);
}

export function mergeEventsByKeys(evs: readonly QEvent[], keys: readonly string[]): QEvent[] {
  if (keys.length === 0) return [];
  // The group per distinct data object, found through its slot (or a map for unsealed data),
  // so 60k events cost ~200 key builds and no hashing per event.
  const pass = nextPass();
  const byData = new Map<EventData, Group | null>();
  // One key: a string value is its own map key (no text to build); anything else goes by keyText.
  const gs: Groups = { byString: new Map(), byText: new Map(), order: [] };
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    const slot = (e.data as Sealed)[SLOT];
    let g: Group | null | undefined;
    if (slot !== undefined) {
      if (slot.pass === pass) g = slot.value as Group | null;
      else {
        slot.pass = pass;
        slot.value = g = groupOf(gs, keys, e);
      }
    } else {
      g = byData.get(e.data);
      if (g === undefined) byData.set(e.data, (g = groupOf(gs, keys, e)));
    }
    if (g !== null) g.dur += e.duration;
  }
  return gs.order.map((g) => new QEvent(null, g.first.timestamp, g.dur, g.first.data));
}

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

export const sortByTimestamp = (evs: readonly QEvent[]): QEvent[] => {
  const s = sortByStart(evs);
  return s === evs ? sorted(evs.slice()) : (s as QEvent[]);
};

export const sortByDuration = (evs: readonly QEvent[]): QEvent[] => evs.slice().sort((a, b) => b.duration - a.duration);

/** Seconds, truncated to whole milliseconds as the reference does. */
export function sumDurations(evs: readonly QEvent[]): number {
  let us = 0;
  for (const e of evs) us += e.duration;
  return Math.trunc(us / 1000) / 1000;
}

export function limitEvents(evs: readonly QEvent[], n: number): QEvent[] {
  const k = Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : n > 0 ? evs.length : 0;
  return keepsOrder(evs, evs.slice(0, k));
}

/** The `$protocol`/`$domain`/`$path`/`$params` split of `data.url`; cached per data object and per URL. */
export function splitUrlEvents(evs: readonly QEvent[]): QEvent[] {
  // Made only at the first event that changes: the web UI splits its browser events twice, and the
  // second time nothing changes, so the list itself is the answer (lists are never mutated).
  let out: QEvent[] | null = null;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    const slot = (e.data as Sealed)[SLOT];
    let d = slot !== undefined ? slot.split : splitMemo.get(e.data);
    if (d === undefined || d === null) {
      d = splitUrlData(e.data);
      if (slot !== undefined) slot.split = d;
      else splitMemo.set(e.data, d);
    }
    if (d !== e.data) {
      if (out === null) {
        out = new Array<QEvent>(evs.length);
        for (let k = 0; k < i; k++) out[k] = evs[k]!;
      }
      out[i] = new QEvent(e.id, e.timestamp, e.duration, d);
    } else if (out !== null) out[i] = e;
  }
  return out === null ? (evs as QEvent[]) : keepsOrder(evs, out);
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

