import { describe, expect, it } from 'vitest';
import type { EventData } from '../../src/model/event.js';
import type { FloodMemo } from '../../src/query/event-list.js';
import type { Columns } from '../../src/query/rows.js';
import { SpanCache } from '../../src/query/span-cache.js';

/** A bucket row's events as a loader sees them: starts at 100, 200, … 1000 (span order). */
const STARTS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];
function loader(calls: [number, number][]) {
  return (_row: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): Columns => {
    calls.push([lo, hi]);
    const ts = STARTS.filter((t) => (loIncl ? t >= lo : t > lo) && (hiIncl ? t <= hi : t < hi));
    const n = ts.length;
    return { n, ids: Float64Array.from(ts), ts: Float64Array.from(ts), dur: new Float64Array(n).fill(10), data: ts.map(() => ({}) as EventData) };
  };
}
const memo = { stable: Infinity } as FloodMemo;

describe('SpanCache', () => {
  it('extends a span below and above, and forgets its kept flood only when events move', () => {
    const calls: [number, number][] = [];
    const cache = new SpanCache(loader(calls));
    let sp = cache.cover(1, 450, 750);
    expect([...sp.ts.subarray(0, sp.n)]).toEqual([500, 600, 700]);
    sp.flood = memo;
    // Lower bound moved down over no event (a heartbeat lengthened the bucket's longest event):
    // the same events, so the kept flood stays.
    sp = cache.cover(1, 449, 750);
    expect(sp.lo).toBe(449);
    expect(sp.n).toBe(3);
    expect(sp.flood).toBe(memo);
    // Down over an event: it is prepended, and the flood is forgotten.
    sp = cache.cover(1, 350, 750);
    expect([...sp.ts.subarray(0, sp.n)]).toEqual([400, 500, 600, 700]);
    expect(sp.flood).toBeNull();
    // Above: appended; a kept flood stays, told what may have changed.
    sp.flood = { ...memo };
    sp = cache.cover(1, 350, 950);
    expect([...sp.ts.subarray(0, sp.n)]).toEqual([400, 500, 600, 700, 800, 900]);
    expect(sp.flood?.stable).toBe(750);
    // Each extension read only the new range.
    expect(calls).toEqual([[450, 750], [449, 450], [350, 449], [750, 950]]);
  });
});
