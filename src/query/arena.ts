import type { EventData } from '../model/event.js';

/**
 * Scratch arrays for one query's event lists, handed back when the query is answered and reused
 * by the next one. A year's activity query makes ≈ 100 MB of lists that die with it: their typed
 * arrays are memory outside the heap, whose growth makes V8 scavenge ("external memory pressure"),
 * and their data arrays are large objects, allocated straight in the old generation, which fill
 * it until a mark-compact (34–105 ms) about every second query. The same query asks for lists of
 * nearly the same sizes each time, so arrays kept by size class serve it without allocating.
 *
 * Only inside `withArena` (runQuery): a list made there must not outlive the query (runQuery
 * returns plain values). What is kept across queries (the cache's columns, a kept flood's arrays)
 * is allocated with `new`, never here. Outside `withArena` every call allocates.
 */

/** Smaller arrays are cheap to allocate (young generation, no external memory): not pooled. */
const MIN_POOLED = 4096;

/**
 * Bytes of idle arrays kept for the next query (more are left to the GC): by default twice the
 * default event cache (`query.cache_mb`, 64 MiB). A year's activity query over 886k events takes
 * ≈ 93 MB; with 64 MB kept it scavenged twice as often and took 40–55 ms longer.
 */
let keepBytes = scratchBytesFor(64);

/** The scratch budget that goes with an event cache of `cacheMb` MiB (config `query.cache_mb`). */
export function scratchBytesFor(cacheMb: number): number {
  return 2 * cacheMb * 1024 * 1024;
}

/** Sets the bytes of idle arrays kept between queries (this thread's arena). */
export function keepScratch(bytes: number): void {
  keepBytes = Math.max(0, bytes);
}

/** Idle arrays are let go this long after the last query, so a daemon nobody asks holds none. */
const IDLE_MS = 60_000;

/**
 * Capacity class of `n`: the least of 2^k × (1, 1.25, 1.5, 1.75) that holds it. Classes are at
 * most 1.25× apart, so an array handed out for `n` never has its length cut below half its
 * capacity, which would make V8 shrink its backing store (see `dataArray`).
 */
export function capacityClass(n: number): number {
  let base = 1;
  while (base * 2 <= n) base *= 2;
  for (const q of [4, 5, 6, 7, 8]) {
    const c = (base * q) / 4;
    if (c >= n) return c;
  }
  return base * 2;
}

interface Pool<T> {
  free: Map<number, T[]>;
  used: [number, T][];
}

const f64s: Pool<ArrayBuffer> = { free: new Map(), used: [] };
const datas: Pool<EventData[]> = { free: new Map(), used: [] };
let open = false;
let idle: ReturnType<typeof setTimeout> | null = null;

function take<T>(pool: Pool<T>, c: number, make: () => T): T {
  const x = pool.free.get(c)?.pop() ?? make();
  pool.used.push([c, x]);
  return x;
}

/** A Float64Array of length `n`; its contents are undefined (whatever the last query left). */
export function f64(n: number): Float64Array {
  if (!open || n < MIN_POOLED) return new Float64Array(n);
  const c = capacityClass(n);
  return new Float64Array(take(f64s, c, () => new ArrayBuffer(c * 8)), 0, n);
}

/** An array of length `n` for event data; its entries are undefined or stale until written. */
export function dataArray(n: number): EventData[] {
  if (!open || n < MIN_POOLED) return new Array<EventData>(n);
  const c = capacityClass(n);
  const a = take(datas, c, () => new Array<EventData>(c));
  // Within its capacity (n > c / 2): V8 keeps the backing store and only moves the length.
  a.length = n;
  return a;
}

/**
 * Runs `f` (one query) with scratch arrays on; afterwards the arrays it took are idle again,
 * whatever it returned or threw. Queries run one at a time on a thread; a nested call is part of
 * the outer one.
 */
export function withArena<T>(f: () => T): T {
  if (open) return f();
  open = true;
  if (idle !== null) clearTimeout(idle);
  idle = null;
  try {
    return f();
  } finally {
    open = false;
    settle(datas, settle(f64s, arenaStats().bytes));
    idle = setTimeout(letGo, IDLE_MS);
    idle.unref?.();
  }
}

/** Moves the arrays `pool` handed out back to its free lists while idle arrays total at most `keepBytes`. */
function settle<T>(pool: Pool<T>, kept: number): number {
  for (const [c, x] of pool.used) {
    const bytes = c * 8; // a double, or a pointer (node has no pointer compression)
    if (kept + bytes > keepBytes) continue;
    kept += bytes;
    let list = pool.free.get(c);
    if (list === undefined) pool.free.set(c, (list = []));
    list.push(x);
  }
  pool.used = [];
  return kept;
}

/** Drops every idle array. */
export function letGo(): void {
  f64s.free.clear();
  datas.free.clear();
  idle = null;
}

/** Idle arrays and their bytes (tests and benchmarks). */
export function arenaStats(): { arrays: number; bytes: number } {
  let arrays = 0, bytes = 0;
  for (const free of [f64s.free, datas.free]) {
    for (const [c, list] of free) {
      arrays += list.length;
      bytes += list.length * c * 8;
    }
  }
  return { arrays, bytes };
}
