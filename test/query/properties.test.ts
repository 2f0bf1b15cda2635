import { describe, expect, it } from 'vitest';
import type { EventData } from '../../src/model/event.js';
import { EventList, type FloodMemo } from '../../src/query/event-list.js';
import * as T from '../../src/query/transforms.js';
import { QEvent } from '../../src/query/values.js';
import { rng } from './helpers.js';

/** Seeded random event lists (microsecond integers, small gaps and overlaps on purpose). */
function randomEvents(r: () => number, n: number, opts: { overlap: boolean; kinds: number }): QEvent[] {
  const out: QEvent[] = [];
  let t = 0;
  const datas = Array.from({ length: opts.kinds }, (_, i) => ({ k: `v${i}` }));
  for (let i = 0; i < n; i++) {
    const dur = r() < 0.1 ? 0 : Math.floor(r() * 20_000_000);
    out.push(new QEvent(i + 1, t, dur, datas[Math.floor(r() * datas.length)]!));
    const step = Math.floor(r() * 12_000_000);
    t += opts.overlap ? step : dur + step;
  }
  return out;
}

type Iv = [number, number];
const intervals = (evs: readonly QEvent[]): Iv[] => evs.filter((e) => e.duration > 0).map((e) => [e.timestamp, e.end]);

/** Length of the union of intervals. */
function covered(ivs: Iv[]): number {
  const s = ivs.slice().sort((a, b) => a[0] - b[0]);
  let total = 0, cs = -Infinity, ce = -Infinity;
  for (const [a, b] of s) {
    if (a > ce) {
      total += ce - cs > 0 ? ce - cs : 0;
      cs = a;
      ce = b;
    } else if (b > ce) ce = b;
  }
  return total + (ce - cs > 0 ? ce - cs : 0);
}
const insideAny = (a: number, b: number, ivs: Iv[]): boolean => {
  // [a, b] must be covered by the union of ivs: check by measure.
  const clipped = ivs.map(([s, e]): Iv => [Math.max(s, a), Math.min(e, b)]).filter(([s, e]) => e > s);
  return covered(clipped) === b - a;
};

const SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i);

describe('property: filter_period_intersect', () => {
  it('never yields time outside both inputs, and never more than the filter covers', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      const evs = randomEvents(r, 60, { overlap: false, kinds: 3 });
      const filter = randomEvents(r, 30, { overlap: true, kinds: 1 });
      const out = T.filterPeriodIntersect(evs.slice().reverse(), filter);
      const ei = intervals(evs), fi = intervals(filter);
      for (const e of out) {
        expect(e.duration).toBeGreaterThan(0);
        expect(insideAny(e.timestamp, e.end, ei)).toBe(true);
        expect(insideAny(e.timestamp, e.end, fi)).toBe(true);
      }
      // non-overlapping input events: output is exactly the measure of the intersection
      const total = out.reduce((s, e) => s + e.duration, 0);
      const inter = ei.flatMap(([a, b]) => fi.map(([c, d]): Iv => [Math.max(a, c), Math.min(b, d)])).filter(([a, b]) => b > a);
      expect(total).toBe(covered(inter));
      for (let i = 1; i < out.length; i++) expect(out[i]!.timestamp).toBeGreaterThanOrEqual(out[i - 1]!.end);
    }
  });
});

describe('property: flood', () => {
  it('creates no overlap for non-overlapping input, keeps coverage, output sorted', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      const evs = randomEvents(r, 80, { overlap: false, kinds: 3 });
      const out = T.flood(evs.slice().reverse());
      for (let i = 1; i < out.length; i++) {
        expect(out[i]!.timestamp).toBeGreaterThanOrEqual(out[i - 1]!.end);
        expect(out[i]!.duration).toBeGreaterThanOrEqual(0);
      }
      // every input instant is still covered by an event with the same data
      for (const e of evs) {
        if (e.duration === 0) continue;
        const same = out.filter((o) => o.data === e.data).map((o): Iv => [o.timestamp, o.end]);
        expect(insideAny(e.timestamp, e.end, same)).toBe(true);
      }
      // gaps below 5 s are gone; the span is unchanged
      for (let i = 1; i < out.length; i++) {
        const gap = out[i]!.timestamp - out[i - 1]!.end;
        expect(gap === 0 || gap >= 5_000_000).toBe(true);
      }
      expect(out[0]!.timestamp).toBe(evs[0]!.timestamp);
      expect(Math.max(...out.map((o) => o.end))).toBe(Math.max(...evs.map((e) => e.end)));
    }
  });
  it('is idempotent', () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const once = T.flood(randomEvents(rng(seed), 50, { overlap: false, kinds: 2 }));
      expect(T.flood(once).map((e) => [e.timestamp, e.duration])).toEqual(once.map((e) => [e.timestamp, e.duration]));
    }
  });
});

describe('property: merge_events_by_keys', () => {
  it('keeps the total duration of the events having the keys, one event per distinct value', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      const evs = randomEvents(r, 100, { overlap: true, kinds: 5 }).map((e, i) =>
        i % 7 === 0 ? new QEvent(e.id, e.timestamp, e.duration, { other: 1 }) : e,
      );
      const out = T.mergeEventsByKeys(evs, ['k']);
      const withKey = evs.filter((e) => 'k' in e.data);
      expect(out.reduce((s, e) => s + e.duration, 0)).toBe(withKey.reduce((s, e) => s + e.duration, 0));
      expect(out.length).toBe(new Set(withKey.map((e) => e.data.k)).size);
    }
  });
});

describe('property: period_union and union_no_overlap', () => {
  it('period_union covers exactly the union and never overlaps', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      const a = randomEvents(r, 30, { overlap: true, kinds: 1 }), b = randomEvents(r, 30, { overlap: true, kinds: 1 });
      const out = T.periodUnion(a, b);
      for (let i = 1; i < out.length; i++) expect(out[i]!.timestamp).toBeGreaterThan(out[i - 1]!.end);
      expect(out.reduce((s, e) => s + e.duration, 0)).toBe(covered([...intervals(a), ...intervals(b)]));
    }
  });
  it('union_no_overlap of sorted non-overlapping lists never overlaps and covers the union', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      const a = randomEvents(r, 30, { overlap: false, kinds: 2 }), b = randomEvents(r, 30, { overlap: false, kinds: 2 });
      const out = T.unionNoOverlap(a, b).filter((e) => e.duration > 0);
      const sorted = out.slice().sort((x, y) => x.timestamp - y.timestamp);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.timestamp).toBeGreaterThanOrEqual(sorted[i - 1]!.end);
      expect(out.reduce((s, e) => s + e.duration, 0)).toBe(covered([...intervals(a), ...intervals(b)]));
      // everything of `a` survives untouched
      for (const e of a) if (e.duration > 0) expect(out).toContain(e);
    }
  });
});

describe('property: ordering', () => {
  /** `runs` ascending runs of random starts (ties within and across runs), concatenated. */
  const ofRuns = (r: () => number, runs: number): QEvent[] => {
    let id = 0;
    return Array.from({ length: runs }, () => {
      const n = Math.floor(r() * 30);
      let t = Math.floor(r() * 50) * 1_000_000;
      return Array.from({ length: n }, () => new QEvent(++id, (t += Math.floor(r() * 3) * 1_000_000), 1_000_000, { k: 'v' }));
    }).flat();
  };
  const ids = (evs: readonly QEvent[]): (number | null)[] => evs.map((e) => e.id);

  it('sort_by_timestamp is the stable sort by start, whatever the number of ascending runs', () => {
    for (const seed of SEEDS) {
      const r = rng(seed);
      for (const runs of [1, 2, 3, 5, 16, 17, 40]) {
        const evs = ofRuns(r, runs);
        const want = evs.slice().sort((a, b) => a.timestamp - b.timestamp); // Array#sort is stable
        expect(ids(T.sortByTimestamp(evs))).toEqual(ids(want));
        expect(ids(T.sortByTimestamp(evs.slice().reverse()))).toEqual(ids(evs.slice().reverse().sort((a, b) => a.timestamp - b.timestamp)));
      }
    }
  });

  it('flood gives the same for a list and for the list newest first', () => {
    for (const seed of SEEDS) {
      const evs = randomEvents(rng(seed), 80, { overlap: false, kinds: 3 });
      const plain = (xs: QEvent[]) => xs.map((e) => [e.id, e.timestamp, e.duration, e.data]);
      expect(plain(T.flood(evs.slice().reverse()))).toEqual(plain(T.flood(evs)));
    }
  });

  it("a transform's sorted output stays sorted for the next one (flood → intersect → limit)", () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const r = rng(seed);
      const evs = randomEvents(r, 80, { overlap: true, kinds: 3 }), filter = randomEvents(r, 20, { overlap: false, kinds: 1 });
      const flooded = T.flood(evs.slice().reverse());
      const cut = T.filterPeriodIntersect(T.limitEvents(flooded, 60), filter);
      for (let i = 1; i < cut.length; i++) expect(cut[i]!.timestamp).toBeGreaterThanOrEqual(cut[i - 1]!.timestamp);
      // and a list given in another order is still sorted before use
      const starts = (xs: readonly QEvent[]) => xs.map((e) => e.timestamp);
      const shuffled = cut.slice().sort(() => r() - 0.5);
      expect(starts(T.sortByTimestamp(shuffled))).toEqual(starts(cut));
    }
  });
});

describe('property: flood resumed from the answer kept for the same cut', () => {
  /** Strictly increasing starts (query_bucket's lists are, read from their end), gaps and overlaps around the pulsetime. */
  function history(r: () => number, from: number, t0: number, n: number, datas: EventData[]): QEvent[] {
    const out: QEvent[] = [];
    let t = t0;
    for (let i = 0; i < n; i++) {
      const dur = r() < 0.1 ? 0 : Math.floor(r() * 20_000_000);
      // A copy each: equal data, never the same object (what is reused is then told apart below).
      out.push(new QEvent(from + i, t, dur, { ...datas[Math.floor(r() * datas.length)]! }));
      t += 1 + Math.floor(r() * 12_000_000) + (r() < 0.5 ? dur : 0);
    }
    return out;
  }
  const plain = (l: EventList) => l.events().map((e) => [e.id, e.timestamp, e.duration, JSON.stringify(e.data)]);

  it('equals a flood from scratch after each change from a random event on, and reuses what did not change', () => {
    let reused = 0;
    for (const seed of SEEDS) {
      const r = rng(seed);
      const datas: EventData[] = [{ app: 'a' }, { app: 'b' }, { app: 'c', t: [1] }];
      const desc = seed % 2 === 0; // query_bucket's newest-first order, and ascending
      const holder = { flood: null as FloodMemo | null };
      const cut = (evs: QEvent[], memo: boolean): EventList => {
        const l = EventList.of(desc ? evs.slice().reverse() : evs);
        if (memo) l.origin = { holder, start: 0, end: 1 };
        return l;
      };
      let evs = history(r, 1, 0, 200 + Math.floor(r() * 300), datas);
      let prev = T.floodList(cut(evs, true));
      expect(plain(prev)).toEqual(plain(T.floodList(cut(evs, false))));
      // Nothing changed: the kept answer's arrays, in a list of its own (what a query makes of it
      // — its events, to return them — is not kept with the cache).
      prev.events();
      const again = T.floodList(cut(evs, true));
      expect(again).not.toBe(prev);
      expect(again.ts).toBe(prev.ts);
      expect(again.data).toBe(prev.data);
      for (let change = 0; change < 6; change++) {
        // Events from a random one on change (replaced, merged, dropped, added), as the cache reports
        // them: by the earliest start that may differ. The events before it are equal copies.
        const k = Math.floor(r() * evs.length);
        const from = evs[k]!.timestamp;
        const kept = evs.slice(0, k).map((e) => new QEvent(e.id, e.timestamp, e.duration, { ...e.data }));
        const after = history(r, 10_000 * (change + 1), from, Math.floor(r() * 40), datas);
        evs = kept.concat(after);
        if (evs.length === 0) break;
        holder.flood!.stable = Math.min(holder.flood!.stable, from);
        // (The last answer's arrays are the next resume's to write in: what it held is read first.)
        const first = prev.data[0];
        const out = T.floodList(cut(evs, true));
        const fresh = T.floodList(cut(evs, false));
        expect(plain(out), `seed ${seed}, change ${change}`).toEqual(plain(fresh));
        // A reused answer keeps the data objects it was made with; a fresh flood has the copies.
        if (out.data[0] === first) {
          reused++;
          expect(fresh.data[0]).not.toBe(first);
        }
        expect(holder.flood!.out.ts).toBe(out.ts);
        prev = out;
      }
    }
    expect(reused).toBeGreaterThan(100);
  });

  it('a resumed answer is written into the kept arrays while they have room, into new ones once they do not', () => {
    const datas: EventData[] = [{ app: 'a' }, { app: 'b' }, { app: 'c' }];
    const r = rng(11);
    const holder = { flood: null as FloodMemo | null };
    const cut = (evs: QEvent[]): EventList => Object.assign(EventList.of(evs), { origin: { holder, start: 0, end: 1 } });
    let evs = history(r, 1, 0, 2_000, datas);
    let prev = T.floodList(cut(evs));
    const grow = (n: number) => {
      const from = evs[evs.length - 1]!.timestamp;
      evs = evs.slice(0, -1).concat(history(r, 50_000 + evs.length, from, n, datas));
      holder.flood!.stable = Math.min(holder.flood!.stable, from);
      const out = T.floodList(cut(evs));
      expect(plain(out)).toEqual(plain(T.floodList(EventList.of(evs))));
      const inPlace = out.ts.buffer === prev.ts.buffer;
      prev = out;
      return inPlace;
    };
    // Heartbeat-sized changes: the same arrays, again and again.
    for (let i = 0; i < 10; i++) expect(grow(3)).toBe(true);
    // A change bigger than the room left: new arrays (with room again for the next small one).
    expect(grow(1_000)).toBe(false);
    expect(grow(2)).toBe(true);
  });

  it('a kept answer for another period or pulsetime is not used', () => {
    const datas: EventData[] = [{ app: 'a' }, { app: 'b' }];
    const evs = history(rng(5), 1, 0, 300, datas);
    const holder = { flood: null as FloodMemo | null };
    const l = (start: number) => Object.assign(EventList.of(evs), { origin: { holder, start, end: 10 } });
    const a = T.floodList(l(0));
    expect(T.floodList(l(1)).ts).not.toBe(a.ts);
    const b = T.floodList(l(1), 1_000_000);
    expect(plain(b)).toEqual(plain(T.floodList(EventList.of(evs), 1_000_000)));
    expect(T.floodList(l(1), 1_000_000).ts).toBe(b.ts);
  });
});
