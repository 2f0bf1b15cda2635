import { jsonEqual, type EventData } from '../model/event.js';

/**
 * Event data objects as the engine shares them: frozen, and carrying a hidden memo slot so the
 * transforms' per-data work (a list's distinct data for its filters and merges, categories, URL
 * splits) is a field read instead of a hash-map lookup per event — that lookup was most of a warm
 * query's time.
 *
 * The slot is a non-enumerable symbol property: JSON.stringify, structured clone (the worker's
 * reply), Object.keys, for…in and spreading all ignore it, so results are unchanged.
 */
export interface DataSlot {
  /** Per-pass memo: `value` is valid while `pass` is the running pass (see nextPass). */
  pass: number;
  value: unknown;
  /** One remembered mapping (categorize/tag rules): output data for input under `mapKey`. */
  mapKey: object | null;
  mapOut: EventData | null;
  /** This data with its URL split into $protocol/$domain/$path/$params (itself when nothing to split). */
  split: EventData | null;
}

export const SLOT = Symbol('sundial.data');

/**
 * Event data as the hot loops read its slot: `(e.data as Sealed)[SLOT]` written at each loop (not
 * through one shared helper), so each site's property cache sees only the few shapes of data it
 * handles and stays fast.
 */
export type Sealed = EventData & { readonly [SLOT]?: DataSlot };

/** Freezes `d` with a fresh slot; returns it. `d` must be a new object nobody else holds yet. */
export function sealData(d: Record<string, unknown>): EventData {
  const slot: DataSlot = { pass: 0, value: undefined, mapKey: null, mapOut: null, split: null };
  Object.defineProperty(d, SLOT, { value: slot, enumerable: false });
  return Object.freeze(d) as EventData;
}


let passes = 0;
/**
 * A number no slot's `pass` holds yet: a transform call takes one and memoizes per data object in
 * `slot.pass/value` for that call only. Queries run synchronously on one thread, so passes never
 * interleave.
 */
export const nextPass = (): number => ++passes;

/**
 * Data equality (deep JSON, key order irrelevant), with an identity fast path (the source shares
 * data objects) and an early exit at the first differing key, without allocating key lists.
 */
export function sameData(a: EventData, b: EventData): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    n++;
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    const va = a[k], vb = b[k];
    if (va !== vb && (typeof va !== 'object' || typeof vb !== 'object' || !jsonEqual(va, vb))) return false;
  }
  for (const _ in b) n--;
  return n === 0;
}

const DATA_CACHE_MAX = 200_000;

/**
 * Parses each distinct `data` text once and shares the sealed object between events, which also
 * lets the per-data memos (categorize, merge keys, filters) hit.
 */
export function dataInterner(max = DATA_CACHE_MAX): (text: string) => EventData {
  const cache = new Map<string, EventData>();
  return (text) => {
    let d = cache.get(text);
    if (d === undefined) {
      if (cache.size >= max) cache.clear();
      d = sealData(JSON.parse(text) as Record<string, unknown>);
      cache.set(text, d);
    }
    return d;
  };
}
