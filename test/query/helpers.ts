import type { EventData } from '../../src/model/event.js';
import { runQuery } from '../../src/query/run.js';
import { memorySource, type QuerySource } from '../../src/query/source.js';
import { QEvent } from '../../src/query/values.js';

/** 2000-01-01T00:00:00Z in microseconds: the base of the worked examples in query2.md. */
export const T0 = Date.UTC(2000, 0, 1) * 1000;
const S = 1_000_000;

/** "hh:mm:ss(.f)" on 2000-01-01 (or seconds after midnight) → microseconds. */
export function at(t: string | number): number {
  if (typeof t === 'number') return T0 + Math.round(t * S);
  const [h, m, s] = t.split(':').map(Number) as [number, number, number];
  return T0 + Math.round(((h * 60 + m) * 60 + (s ?? 0)) * S);
}

/** An event [start, duration in seconds, data]. */
export function E(start: string | number, durSec: number, data: EventData = {}, id: number | null = null): QEvent {
  return new QEvent(id, at(start), Math.round(durSec * S), data);
}

/** Compact form for assertions: [seconds after midnight, duration s, data]. */
export function brief(evs: readonly { timestamp: number; duration: number; data: EventData }[]): [number, number, EventData][] {
  return evs.map((e) => [(e.timestamp - T0) / S, e.duration / S, e.data]);
}

export const PERIOD = '2000-01-01T00:00:00Z/2000-01-02T00:00:00Z';

/** Runs a program text for one period over in-memory buckets; returns that period's result. */
export function q(program: string, buckets: Record<string, QEvent[]> = {}, period = PERIOD, source?: QuerySource): unknown {
  const src = source ?? memorySource(Object.entries(buckets).map(([id, events]) => ({ id, hostname: 'h', events })));
  return runQuery(src, { timeperiods: [period], query: [program] })[0];
}

/** The error message (and status) a program fails with. */
export function qErr(program: string, buckets: Record<string, QEvent[]> = {}): { message: string; status: number } {
  try {
    q(program, buckets);
  } catch (e) {
    return { message: (e as Error).message, status: (e as { status: number }).status };
  }
  throw new Error(`expected ${JSON.stringify(program)} to fail`);
}

/** Seeded PRNG (mulberry32) for property tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
