import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openEngine } from '../../src/actors/storage-writer/engine.js';
import type { Event } from '../../src/model/event.js';
import { arenaStats, capacityClass, dataArray, f64, keepScratch, letGo, scratchBytesFor, withArena } from '../../src/query/arena.js';
import { runQuery, SqliteSource } from '../../src/query/service.js';
import { activityQuery } from '../../src/query/webui.js';
import { openReadonly } from '../../src/storage/open.js';
import { tempDir } from '../helpers/tmp.js';
import { rng } from './helpers.js';

const S = 1_000_000;
const H = 3600 * S;
const D = 24 * H;
const T = Date.UTC(2024, 4, 1) * 1000;

describe('query arena', () => {
  it('size classes hold n, at most 1.25× apart', () => {
    let last = 0;
    for (let n = 1; n < 300_000; n += 1 + Math.floor(n / 7)) {
      const c = capacityClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c).toBeGreaterThanOrEqual(last); // monotonic
      if (n >= 4) expect(c / n).toBeLessThanOrEqual(1.25);
      last = c;
    }
  });

  it('hands the same arrays to the next query, and none outside one', () => {
    letGo();
    const first = withArena(() => ({ t: f64(10_000), d: dataArray(10_000) }));
    expect(first.t.length).toBe(10_000);
    expect(first.d.length).toBe(10_000);
    expect(arenaStats().arrays).toBe(2);
    const again = withArena(() => ({ t: f64(9_000), d: dataArray(9_000) }));
    expect(again.t.buffer).toBe(first.t.buffer); // same size class
    expect(again.d).toBe(first.d);
    expect(again.d.length).toBe(9_000);
    // Outside a query, and for small lists, arrays are new.
    expect(f64(10_000).buffer).not.toBe(first.t.buffer);
    expect(withArena(() => f64(100)).buffer).not.toBe(withArena(() => f64(100)).buffer);
    letGo();
    expect(arenaStats()).toEqual({ arrays: 0, bytes: 0 });
  });

  it('keeps idle arrays within its budget, and lets them go after a minute without queries', () => {
    letGo();
    vi.useFakeTimers();
    try {
      keepScratch(100_000); // one array of 10,240 entries (81,920 bytes) fits, two do not
      withArena(() => [f64(10_000), dataArray(10_000)]);
      expect(arenaStats()).toEqual({ arrays: 1, bytes: 81_920 });
      keepScratch(scratchBytesFor(64));
      withArena(() => [f64(10_000), dataArray(10_000)]);
      expect(arenaStats().arrays).toBe(2);
      vi.advanceTimersByTime(59_000);
      expect(arenaStats().arrays).toBe(2);
      vi.advanceTimersByTime(2_000);
      expect(arenaStats()).toEqual({ arrays: 0, bytes: 0 });
    } finally {
      keepScratch(scratchBytesFor(64));
      vi.useRealTimers();
    }
  });

  it('a year of large lists, heartbeats between the asks: warm answers equal fresh ones', () => {
    // Lists of thousands of events, so that the arena serves them, and the window bucket's flood
    // kept across queries (its arrays must not come from the arena: the next query would overwrite them).
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'arena.db');
    const engine = openEngine(file);
    const r = rng(11);
    const events = (n: number, data: () => Record<string, unknown>): Event[] => {
      const out: Event[] = [];
      let t = T;
      for (let i = 0; i < n; i++) {
        const dur = Math.floor((1 + r() * 300) * S);
        out.push({ id: null, timestamp: t, duration: dur, data: data() });
        t += dur + (r() < 0.8 ? 0 : Math.floor(r() * 600 * S));
      }
      return out;
    };
    const bucket = (id: string, type: string) => ({ id, type, client: 'test', hostname: 'h', created: T, data: {} });
    const apps = ['Code', 'Firefox', 'Slack', 'Terminal'];
    const window = events(30_000, () => ({ app: apps[Math.floor(r() * 4)], title: `t${Math.floor(r() * 50)}` }));
    const afk = events(6_000, () => ({ status: r() < 0.7 ? 'not-afk' : 'afk' }));
    const web = events(12_000, () => ({ url: `https://site${Math.floor(r() * 30)}.example/p${Math.floor(r() * 400)}`, title: 'page', audible: r() < 0.1 }));
    const ok = (o: { ok: boolean }[]) => expect(o.every((x) => x.ok)).toBe(true);
    ok(engine.run([
      { kind: 'createBucket', bucket: bucket('w', 'currentwindow'), events: window },
      { kind: 'createBucket', bucket: bucket('a', 'afkstatus'), events: afk },
      { kind: 'createBucket', bucket: bucket('f', 'web.tab.current'), events: web },
    ]));
    const query = activityQuery({ windowBucket: 'w', afkBucket: 'a', browserBuckets: { firefox: 'f' } });
    const end = window[window.length - 1]!.timestamp + D;
    const body = (days: number) => ({ timeperiods: [`${new Date((end - days * D) / 1000).toISOString()}/${new Date(end / 1000).toISOString()}`], query });
    const rdb = openReadonly(file);
    const warm = new SqliteSource(rdb);
    try {
      letGo();
      let last = window[window.length - 1]!;
      for (let k = 0; k < 8; k++) {
        // A heartbeat that extends the newest window event, or (every third) starts a new one.
        const start = last.timestamp + last.duration;
        const data = k % 3 === 2 ? { app: 'Other', title: `new ${k}` } : last.data;
        ok(engine.run([{ kind: 'heartbeat', bucket: 'w', pulsetime: 5 * S, event: { id: null, timestamp: start, duration: 2 * S, data } }]));
        if (data !== last.data) last = { id: null, timestamp: start, duration: 2 * S, data };
        else last = { ...last, duration: last.duration + 2 * S };
        for (const days of [400, 30, 400]) {
          const fresh = runQuery(new SqliteSource(rdb), body(days));
          expect(runQuery(warm, body(days))).toEqual(fresh);
        }
      }
      expect(arenaStats().arrays).toBeGreaterThan(0); // the queries did take arrays from the arena
    } finally {
      rdb.close();
      engine.close();
      letGo();
      tmp.cleanup();
    }
  });
});
