import type { EventData } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { capacityClass, dataArray, f64 } from './arena.js';
import { nextPass, type Sealed, SLOT } from './data.js';
import { QEvent } from './values.js';

/**
 * A list of events as the transforms pass it on: ids, starts and durations in typed arrays, data as
 * references (shared, never copied). A year of window events is then a few arrays read in order
 * rather than 700k objects scattered over the heap, and a transform that changes only data
 * (categorize, the URL split) or only order shares the others' arrays instead of making an event
 * per event. Immutable like every value: transforms build new lists. The query language sees a
 * list of events; `events()` makes one the first time something needs the events themselves.
 */
export class EventList {
  private made: QEvent[] | null = null;
  /** Where query_bucket cut this list from, if it did (see floodList); null for every other list. */
  origin: ListOrigin | null = null;
  /** Known to hold only data whose URL split changes nothing (see splitUrlList): a fact, like `ascending`. */
  urlSplit = false;
  /** Its distinct data objects, found the first time a transform asks (see dataIndex). */
  private distinct: DataIndex | null = null;
  constructor(
    readonly n: number,
    /** Event ids; NaN for none. */
    readonly ids: Float64Array,
    readonly ts: Float64Array,
    readonly dur: Float64Array,
    readonly data: readonly EventData[],
    /** Known to be in ascending start order (set once found out: a fact about immutable arrays). */
    public ascending: boolean,
  ) {}

  static of(evs: readonly QEvent[], ascending = false): EventList {
    const n = evs.length;
    const ids = f64(n), ts = f64(n), dur = f64(n);
    const data = dataArray(n);
    for (let i = 0; i < n; i++) {
      const e = evs[i]!;
      ids[i] = e.id === null ? NaN : e.id;
      ts[i] = e.timestamp;
      dur[i] = e.duration;
      data[i] = e.data;
    }
    return new EventList(n, ids, ts, dur, data, ascending);
  }

  static empty(): EventList {
    return new EventList(0, new Float64Array(0), new Float64Array(0), new Float64Array(0), [], true);
  }

  id(i: number): number | null {
    const x = this.ids[i]!;
    return x === x ? x : null; // NaN: none
  }

  at(i: number): QEvent {
    return new QEvent(this.id(i), this.ts[i]!, this.dur[i]!, this.data[i]!);
  }

  /**
   * Each event's data as an index into the list's distinct data objects (in the order first met),
   * made once per list: filters and merges then ask each distinct data once and go through the
   * events by index. The web UI filters its browser events once and merges them three times
   * (URL, domain, title); their data differ almost event by event, so finding each event's
   * memo in its data object's slot, once per transform, was most of those transforms' time.
   */
  dataIndex(): DataIndex {
    return (this.distinct ??= indexData(this.n, this.data));
  }

  /** The events themselves, made once. */
  events(): QEvent[] {
    if (this.made === null) {
      const out = new Array<QEvent>(this.n);
      for (let i = 0; i < this.n; i++) out[i] = this.at(i);
      this.made = out;
    }
    return this.made;
  }
}

/** See EventList.dataIndex. */
export interface DataIndex {
  /** For each event, the index of its data in `data`. */
  readonly of: Int32Array;
  /** The distinct data objects, in the order first met. */
  readonly data: readonly EventData[];
  /** For each distinct data object, the index of the first event holding it. */
  readonly firstAt: readonly number[];
}

function indexData(n: number, data: readonly EventData[]): DataIndex {
  const pass = nextPass();
  const of = new Int32Array(n);
  const distinct: EventData[] = [];
  const firstAt: number[] = [];
  const byData = new Map<EventData, number>(); // data without a slot
  for (let i = 0; i < n; i++) {
    const d = data[i]!;
    const slot = (d as Sealed)[SLOT];
    let k: number | undefined;
    if (slot !== undefined) {
      if (slot.pass === pass) k = slot.value as number;
      else {
        slot.pass = pass;
        slot.value = k = distinct.length;
        distinct.push(d);
        firstAt.push(i);
      }
    } else {
      k = byData.get(d);
      if (k === undefined) {
        byData.set(d, (k = distinct.length));
        distinct.push(d);
        firstAt.push(i);
      }
    }
    of[i] = k;
  }
  return { of, data: distinct, firstAt };
}

/**
 * A flood answer kept with the cached events it was cut from, for the next flood of a list cut the
 * same way: the web UI asks the same periods again and again, mostly after a heartbeat changed only
 * the newest events.
 */
export interface FloodMemo {
  readonly start: Micros;
  readonly end: Micros;
  readonly pulsetime: Micros;
  /** The answer: views of the first `out.n` entries of `room`. */
  readonly out: EventList;
  /** For each event of `out`, the index (in ascending order) of the input event it began at. */
  readonly began: Int32Array;
  /**
   * The arrays `out` and `began` view, with room beyond them: the next flood that resumes writes its
   * new tail here in place, instead of copying a year's answer into new arrays after each heartbeat.
   */
  readonly room: FloodRoom;
  /** Input events starting at or after this may differ from the ones `out` was made of (Infinity: none do). */
  stable: number;
}

/** A kept flood's arrays (`data` is as long as the answer, the typed arrays longer). */
export interface FloodRoom {
  readonly ids: Float64Array;
  readonly ts: Float64Array;
  readonly dur: Float64Array;
  readonly data: EventData[];
  readonly began: Int32Array;
}

/** Where query_bucket cut a list from: the holder of the cached events' flood memo, and the period. */
export interface ListOrigin {
  readonly holder: { flood: FloodMemo | null };
  readonly start: Micros;
  readonly end: Micros;
}

/** A list being built: at most `cap` events, cut to what was added. */
export class ListBuilder {
  n = 0;
  readonly ids: Float64Array;
  readonly ts: Float64Array;
  readonly dur: Float64Array;
  readonly data: EventData[];
  /** With `into`: adds after its first `n` events, in its arrays (their length is the room). */
  constructor(cap: number, into?: { ids: Float64Array; ts: Float64Array; dur: Float64Array; data: EventData[] }, n = 0) {
    this.ids = into?.ids ?? f64(cap);
    this.ts = into?.ts ?? f64(cap);
    this.dur = into?.dur ?? f64(cap);
    this.data = into?.data ?? dataArray(cap);
    this.n = n;
  }
  add(id: number, ts: Micros, dur: Micros, data: EventData): void {
    const k = this.n++;
    this.ids[k] = id;
    this.ts[k] = ts;
    this.dur[k] = dur;
    this.data[k] = data;
  }
  /** Event `i` of `l` as it is. */
  copy(l: EventList, i: number): void {
    this.add(l.ids[i]!, l.ts[i]!, l.dur[i]!, l.data[i]!);
  }
  done(ascending: boolean): EventList {
    const n = this.n, cap = this.ts.length;
    if (n === cap) return new EventList(n, this.ids, this.ts, this.dur, this.data, ascending);
    // (Cutting an array's length below half its capacity makes V8 shrink it: an arena's array, of
    // its size class, must keep its capacity for the next query.)
    if (n * 2 > capacityClass(cap)) {
      this.data.length = n;
      return new EventList(n, this.ids.subarray(0, n), this.ts.subarray(0, n), this.dur.subarray(0, n), this.data, ascending);
    }
    // Copies when little of the room was used: a filter's few events must not hold a year's arrays.
    return new EventList(n, prefixCopy(this.ids, n), prefixCopy(this.ts, n), prefixCopy(this.dur, n), dataPrefix(this.data, n), ascending);
  }
}

/**
 * The first `n` entries of `a` in an array of their own. (Not a closure made per call: optimized
 * code that inlined one call's closure deoptimizes at the next.)
 */
function prefixCopy(a: Float64Array, n: number): Float64Array {
  const c = f64(n);
  c.set(a.subarray(0, n));
  return c;
}

/** The first `n` entries of `a` in an array of their own (a loop alone: see intersectInto in transforms.ts). */
function dataPrefix(a: readonly EventData[], n: number): EventData[] {
  const c = dataArray(n);
  for (let i = 0; i < n; i++) c[i] = a[i]!;
  return c;
}

/** The events of `l` at `order` (indices into it), in that order. */
export function gather(l: EventList, order: ArrayLike<number>, ascending: boolean): EventList {
  const b = new ListBuilder(order.length);
  for (let k = 0; k < order.length; k++) b.copy(l, order[k]!);
  return b.done(ascending);
}

/** How many of the indices 0…n−1 satisfy `below`, which holds for a prefix of them (a binary search). */
export function partitionPoint(n: number, below: (i: number) => boolean): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
