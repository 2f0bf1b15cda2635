import type { EventData } from '../model/event.js';
import { formatTimestamp, parseTimestamp, type Micros } from '../model/time.js';
import { categorizeList, tagList } from './classify.js';
import { sameData } from './data.js';
import { EventList, ListBuilder } from './event-list.js';
import { compileRegex } from './regex.js';
import type { QuerySource } from './source.js';
import * as T from './transforms.js';
import { asArray, QDict, QEvent, QFunc, QueryError, typeName, type BuiltinImpl, type CallContext, type Value } from './values.js';

/** What built-ins see of the running query. */
export interface Runtime {
  source: QuerySource;
  /** The current environment (query_bucket re-reads TIMEINTERVAL on every call). */
  env: Map<string, Value>;
  print(text: string): void;
}

const bad = (c: CallContext, msg: string): QueryError => new QueryError('InvalidFunctionParameters', `${c.name}: ${msg}`);

function arity(args: Value[], c: CallContext, min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw bad(c, `expected ${want} parameter${min === 1 && max === 1 ? '' : 's'}, got ${args.length}`);
  }
}

const ordinal = (i: number): string => ['first', 'second', 'third', 'fourth'][i] ?? `#${i + 1}`;

/**
 * Lists that built-ins returned as lists of events. Values are never mutated, so such a list needs
 * no check element by element when it is passed on (a list literal or `+` makes a new list).
 */
const eventLists = new WeakSet<Value[]>();

function events(args: Value[], i: number, c: CallContext): QEvent[] {
  const v = args[i]!;
  if (v instanceof EventList) return v.events();
  if (!Array.isArray(v)) throw bad(c, `${ordinal(i)} parameter must be a list of events, got ${typeName(v)}`);
  if (eventLists.has(v)) return v as QEvent[];
  for (let k = 0; k < v.length; k++) {
    if (!(v[k] instanceof QEvent)) throw bad(c, `${ordinal(i)} parameter must be a list of events, element ${k} is a ${typeName(v[k]!)}`);
  }
  return v as QEvent[];
}

/** Argument `i` as an event list (a list written in the query is checked and turned into one). */
function evlist(args: Value[], i: number, c: CallContext): EventList {
  const v = args[i]!;
  return v instanceof EventList ? v : EventList.of(events(args, i, c));
}

/** A builtin taking one list of events. */
const ofList = (f: (l: EventList) => Value): BuiltinImpl => (a, c) => {
  arity(a, c, 1);
  return f(evlist(a, 0, c));
};

/** A builtin taking two lists of events. */
const ofTwoLists = (f: (x: EventList, y: EventList) => Value): BuiltinImpl => (a, c) => {
  arity(a, c, 2);
  return f(evlist(a, 0, c), evlist(a, 1, c));
};

/** A builtin taking two arrays of events (transforms not ported to lists). */
const ofTwoEventArrays = (f: (x: QEvent[], y: QEvent[]) => Value): BuiltinImpl => (a, c) => {
  arity(a, c, 2);
  return f(events(a, 0, c), events(a, 1, c));
};

function str(args: Value[], i: number, c: CallContext): string {
  const v = args[i]!;
  if (typeof v !== 'string') throw bad(c, `${ordinal(i)} parameter must be a string, got ${typeName(v)}`);
  return v;
}
function num(args: Value[], i: number, c: CallContext): number {
  const v = args[i]!;
  if (typeof v !== 'number') throw bad(c, `${ordinal(i)} parameter must be a number, got ${typeName(v)}`);
  return v;
}
function list(args: Value[], i: number, c: CallContext): Value[] {
  const v = asArray(args[i]!);
  if (!Array.isArray(v)) throw bad(c, `${ordinal(i)} parameter must be a list, got ${typeName(v)}`);
  return v;
}

/** Values of filter_keyvals & co. as JSON: strings, bools, numbers, lists of those. */
function toJsonValue(v: Value, c: CallContext): unknown {
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (v instanceof EventList) return toJsonValue(v.events(), c);
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, c));
  throw bad(c, `values may only contain strings, numbers, booleans and lists, not a ${typeName(v)}`);
}

/** A membership test over JSON values; primitives through a Set, structured values by canonical text. */
function matcher(values: unknown[]): (v: unknown) => boolean {
  const prims = new Set<unknown>();
  const texts = new Set<string>();
  for (const v of values) {
    if (typeof v === 'object' && v !== null) texts.add(JSON.stringify(v));
    else prims.add(v);
  }
  return (v) => {
    if (typeof v !== 'object' || v === null) return prims.has(v);
    return texts.size > 0 && Array.isArray(v) && texts.has(JSON.stringify(v));
  };
}

/** The events whose data passes `test`, asked once per distinct data object (see EventList.dataIndex). */
function filterByData(l: EventList, test: (d: EventData) => boolean): EventList {
  const ix = l.dataIndex();
  const pass = new Uint8Array(ix.data.length);
  for (let d = 0; d < ix.data.length; d++) pass[d] = test(ix.data[d]!) ? 1 : 0;
  // Verdicts first, then a list of exactly the events kept (a filter often keeps few of many).
  const kept = countKept(ix.of, pass, l.n);
  if (kept === l.n) return l;
  const out = new ListBuilder(kept);
  for (let i = 0; i < l.n; i++) if (pass[ix.of[i]!] === 1) out.copy(l, i);
  return out.done(l.ascending);
}

/** Events whose data passed (a loop alone: see intersectInto in transforms.ts). */
function countKept(of: Int32Array, pass: Uint8Array, n: number): number {
  let kept = 0;
  for (let i = 0; i < n; i++) kept += pass[of[i]!]!;
  return kept;
}

function filterKeyvals(l: EventList, key: string, values: unknown[], keep: boolean): EventList {
  // No values: nothing matches (the web UI asks this for browsers it has no app names for).
  if (values.length === 0) return keep ? EventList.empty() : l;
  const has = matcher(values);
  return filterByData(l, (d) => (Object.prototype.hasOwnProperty.call(d, key) && has(d[key])) === keep);
}

function parseInterval(text: Value): { start: Micros; end: Micros } {
  if (typeof text !== 'string') throw new QueryError('TimeIntervalError', 'TIMEINTERVAL must be a string "start/end"');
  const parts = text.split('/');
  if (parts.length !== 2) throw new QueryError('TimeIntervalError', `invalid time interval ${JSON.stringify(text)}`);
  try {
    return { start: parseTimestamp(parts[0], 'interval start', false), end: parseTimestamp(parts[1], 'interval end', false) };
  } catch (e) {
    throw new QueryError('TimeIntervalError', (e as Error).message);
  }
}

/** "<start>/<end>" in RFC 3339 with +00:00 offsets, like the reference's TIMEINTERVAL. */
export function formatInterval(start: Micros, end: Micros): string {
  const f = (us: Micros): string => formatTimestamp(us).replace(/Z$/, '+00:00');
  return `${f(start)}/${f(end)}`;
}

/** Deep equality for `contains` and `==` inside lists (no type errors; none equals none). */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof EventList || b instanceof EventList) return valueEquals(asArray(a), asArray(b));
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => valueEquals(x, b[i]!));
  if (a instanceof QDict) {
    if (!(b instanceof QDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!b.map.has(k) || !valueEquals(v, b.map.get(k)!)) return false;
    return true;
  }
  if (a instanceof QEvent) {
    return b instanceof QEvent && a.timestamp === b.timestamp && a.duration === b.duration && sameData(a.data, b.data);
  }
  return false;
}

/** Built-ins whose result is always a list of events. */
const RETURNS_EVENTS = new Set([
  'query_bucket', 'filter_keyvals', 'exclude_keyvals', 'filter_keyvals_regex', 'filter_period_intersect', 'limit_events', 'flood',
  'merge_events_by_keys', 'chunk_events_by_key', 'concat', 'period_union', 'union_no_overlap', 'sort_by_timestamp', 'sort_by_duration',
  'categorize', 'tag', 'split_url_events', 'simplify_window_titles',
]);

export function makeBuiltins(rt: Runtime): Map<string, QFunc> {
  let lastInterval: { text: string; start: Micros; end: Micros } | null = null;
  const interval = (): { start: Micros; end: Micros } => {
    const text = rt.env.get('TIMEINTERVAL');
    if (text === undefined) throw new QueryError('TimeIntervalError', 'TIMEINTERVAL is not defined');
    if (lastInterval && lastInterval.text === text) return lastInterval;
    const iv = parseInterval(text ?? null);
    lastInterval = { text: text as string, ...iv };
    return iv;
  };

  const fns: Record<string, BuiltinImpl> = {
    query_bucket(a, c) {
      arity(a, c, 1);
      const id = str(a, 0, c);
      const { start, end } = interval();
      const src = rt.source;
      const evs = src.bucketList ? src.bucketList(id, start, end) : src.bucketEvents(id, start, end);
      if (!evs) throw new QueryError('BucketQueryError', `Failed to query bucket: NoSuchBucket(${JSON.stringify(id)})`);
      return evs instanceof EventList ? evs : EventList.of(evs);
    },
    query_bucket_eventcount(a, c) {
      arity(a, c, 1);
      const id = str(a, 0, c);
      const { start, end } = interval();
      const n = rt.source.bucketEventCount(id, start, end);
      if (n === undefined) throw new QueryError('BucketQueryError', `Failed to query bucket: NoSuchBucket(${JSON.stringify(id)})`);
      return n;
    },
    query_bucket_names(a, c) {
      arity(a, c, 0);
      return rt.source.buckets().map((b) => b.id);
    },
    find_bucket(a, c) {
      arity(a, c, 1, 2);
      const prefix = str(a, 0, c);
      const host = a.length > 1 ? str(a, 1, c) : null;
      // buckets() is sorted by id: the first prefix match is the smallest, which makes the choice stable.
      let found: string | null = null;
      for (const b of rt.source.buckets()) {
        if (host !== null && b.hostname !== host) continue;
        if (b.id === prefix) return b.id;
        if (found === null && b.id.startsWith(prefix)) found = b.id;
      }
      if (found !== null) return found;
      const hostPart = host !== null ? ` and hostname '${host}'` : '';
      throw new QueryError('BucketQueryError', `Failed to find bucket matching filter '${prefix}'${hostPart}`);
    },
    filter_keyvals(a, c) {
      arity(a, c, 3);
      return filterKeyvals(evlist(a, 0, c), str(a, 1, c), list(a, 2, c).map((v) => toJsonValue(v, c)), true);
    },
    exclude_keyvals(a, c) {
      arity(a, c, 3);
      return filterKeyvals(evlist(a, 0, c), str(a, 1, c), list(a, 2, c).map((v) => toJsonValue(v, c)), false);
    },
    filter_keyvals_regex(a, c) {
      arity(a, c, 3);
      const l = evlist(a, 0, c), key = str(a, 1, c);
      const re = compileRegex(str(a, 2, c));
      return filterByData(l, (d) => {
        const v = Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
        return typeof v === 'string' && re.test(v);
      });
    },
    filter_period_intersect: ofTwoLists(T.filterPeriodIntersectList),
    limit_events(a, c) {
      arity(a, c, 2);
      return T.limitEventsList(evlist(a, 0, c), num(a, 1, c));
    },
    flood: ofList(T.floodList),
    merge_events_by_keys(a, c) {
      arity(a, c, 2);
      const keys = list(a, 1, c);
      if (keys.some((k) => typeof k !== 'string')) throw bad(c, 'keys must be a list of strings');
      return T.mergeEventsByKeysList(evlist(a, 0, c), keys as string[]);
    },
    chunk_events_by_key(a, c) {
      arity(a, c, 2);
      return T.chunkEventsByKey(events(a, 0, c), str(a, 1, c));
    },
    concat(a, c) {
      return T.concatLists(a.map((_, i) => evlist(a, i, c)));
    },
    period_union: ofTwoLists(T.periodUnionList),
    union_no_overlap: ofTwoEventArrays(T.unionNoOverlap),
    sort_by_timestamp: ofList(T.sortedList),
    sort_by_duration: ofList(T.sortByDurationList),
    sum_durations: ofList(T.sumDurationsList),
    categorize(a, c) {
      arity(a, c, 2);
      return categorizeList(evlist(a, 0, c), a[1]!);
    },
    tag(a, c) {
      arity(a, c, 2);
      return tagList(evlist(a, 0, c), a[1]!);
    },
    split_url_events: ofList(T.splitUrlList),
    simplify_window_titles(a, c) {
      arity(a, c, 2);
      const r = T.simplifyWindowTitles(events(a, 0, c), str(a, 1, c));
      if (typeof r === 'string') throw bad(c, r);
      return r;
    },
    contains(a, c) {
      arity(a, c, 2);
      const container = asArray(a[0]!), item = a[1]!;
      if (Array.isArray(container)) return container.some((x) => valueEquals(x, item));
      if (container instanceof QDict) {
        if (typeof item !== 'string') throw bad(c, `a dict can only contain string keys, got ${typeName(item)}`);
        return container.map.has(item);
      }
      throw bad(c, `first parameter must be a list or a dict, got ${typeName(container)}`);
    },
    print(a) {
      rt.print(a.map((v) => describeValue(v)).join(' '));
      return null;
    },
    nop(a, c) {
      arity(a, c, 0);
      return 1;
    },
  };
  return new Map(
    Object.entries(fns).map(([name, impl]) => {
      if (!RETURNS_EVENTS.has(name)) return [name, new QFunc(name, impl)];
      const marked: BuiltinImpl = (a, c) => {
        const r = impl(a, c);
        if (Array.isArray(r)) eventLists.add(r);
        return r;
      };
      return [name, new QFunc(name, marked)];
    }),
  );
}

function describeValue(v: Value): string {
  if (v instanceof QFunc) return `<function ${v.name}>`;
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(toPlain(v));
  } catch {
    return String(v);
  }
}

/** A value as plain JSON-able data (the response format). Functions cannot be returned. */
export function toPlain(v: Value): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof EventList) {
    const out = new Array<unknown>(v.n);
    for (let i = 0; i < v.n; i++) out[i] = { id: v.id(i), timestamp: formatTimestamp(v.ts[i]!), duration: v.dur[i]! / 1_000_000, data: v.data[i] };
    return out;
  }
  if (v instanceof QEvent) {
    return { id: v.id, timestamp: formatTimestamp(v.timestamp), duration: v.duration / 1_000_000, data: v.data };
  }
  if (v instanceof QDict) {
    const out: Record<string, unknown> = {};
    for (const k of [...v.map.keys()].sort()) out[k] = toPlain(v.map.get(k)!);
    return out;
  }
  throw new QueryError('InvalidType', `cannot return the function ${v.name} as a result`);
}
