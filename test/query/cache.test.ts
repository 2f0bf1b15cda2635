import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/actors/storage-writer/engine.js';
import { openStorageWriter, type StorageWriter } from '../../src/actors/storage-writer/writer.js';
import { silentLogger } from '../../src/log.js';
import type { Event } from '../../src/model/event.js';
import { createQueryService, runQuery, SqliteSource } from '../../src/query/service.js';
import { activityQuery } from '../../src/query/webui.js';
import { openReadonly, openWritable } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { tempDir } from '../helpers/tmp.js';
import { rng } from './helpers.js';

/**
 * The per-connection event cache of SqliteSource against the truth: after every kind of write
 * through the real storage writer, a long-lived (warm) source answers exactly what a fresh source
 * and the storage Reader answer, for windows that make it extend, truncate and replace its spans.
 */

const S = 1_000_000;
const H = 3600 * S;
const D = 24 * H;
const T = Date.UTC(2024, 4, 1) * 1000;
const bucket = (id: string, type = 'currentwindow') => ({ id, type, client: 'test', hostname: 'h', created: T, data: {} });
const ev = (ts: number, dur: number, data: Record<string, unknown>, id: number | null = null): Event => ({ id, timestamp: ts, duration: dur, data });
const iso = (us: number) => new Date(us / 1000).toISOString();
/** A query's result, or its error's message (a deleted bucket). */
const answer = (src: SqliteSource, body: unknown): unknown => {
  try {
    return runQuery(src, body);
  } catch (err) {
    return (err as Error).message;
  }
};
const plain = (evs: readonly Event[] | undefined) => evs?.map((e) => [e.id, e.timestamp, e.duration, e.data]);

/** Windows in an order that makes a warm source extend its spans down and up, and jump away and back. */
const WINDOWS: [number, number][] = [
  [T + 3 * D, T + 4 * D],
  [T + 2 * D + 12 * H, T + 4 * D],
  [T, T + 4 * D],
  [T + D, T + 2 * D],
  [T + 3 * D + 23 * H, T + 6 * D],
  [T + 100 * D, T + 101 * D],
  [T - D, T + 10 * D],
  [T + D + 5 * H, T + D + 5 * H],
  [T + 4 * D + 12 * H, T + 5 * D],
  [T + 2 * D, T + D], // empty (start after end)
];

function seed(r: () => number, from: number, days: number, apps: string[]): Event[] {
  const out: Event[] = [];
  for (let d = 0; d < days; d++) {
    let t = from + d * D + 8 * H;
    while (t < from + d * D + 12 * H) {
      const dur = Math.floor((1 + r() * 600) * S);
      out.push(ev(t, dur, { app: apps[Math.floor(r() * apps.length)], title: `t${Math.floor(r() * 5)}` }));
      t += dur + (r() < 0.7 ? 0 : Math.floor(r() * 120 * S));
    }
  }
  return out;
}

describe('event cache through the real storage writer', () => {
  let tmp: ReturnType<typeof tempDir>, file: string, w: StorageWriter, rdb: Database.Database, warm: SqliteSource;
  /** Keeps the flood of every list it cuts (not only of long ones), asked the same periods again and again. */
  let floodWarm: SqliteSource;
  const hb = (b: string, ts: number, data: Record<string, unknown>) => w.submit({ kind: 'heartbeat', bucket: b, event: ev(ts, 0, data), pulsetime: 60 * S });
  const rowOf = (b: string) => new Reader(rdb).bucket(b)!.row;
  const changesAfter = (seq: number) =>
    rdb.prepare('SELECT bucketrow, min_start FROM bucket_changes WHERE seq > ? ORDER BY seq').raw(true).all(seq) as [number, number][];
  const maxSeq = () => (rdb.prepare('SELECT max(seq) FROM bucket_changes').pluck(true).get() as number | null) ?? 0;

  /** Warm answers equal a fresh source's and the storage Reader's, for every window and bucket. */
  function expectExact(buckets = ['w', 'a']): void {
    const fresh = new SqliteSource(rdb);
    const reader = new Reader(rdb);
    for (const b of buckets) {
      for (const [s, e] of WINDOWS) {
        const got = plain(warm.bucketEvents(b, s, e));
        expect(got, `${b} [${(s - T) / H} h, ${(e - T) / H} h]`).toEqual(plain(fresh.bucketEvents(b, s, e)));
        const row = reader.bucket(b)?.row;
        expect(got).toEqual(row === undefined ? undefined : plain(reader.events(row, { start: s, end: e })));
        expect(warm.bucketEventCount(b, s, e)).toBe(fresh.bucketEventCount(b, s, e));
      }
      // A kept flood, resumed where the cache says events changed, answers as a fresh flood does.
      const body = { timeperiods: [`${iso(T)}/${iso(T + 4 * D)}`], query: [`RETURN = flood(query_bucket("${b}"));`] };
      expect(answer(floodWarm, body), `flood of ${b}`).toEqual(answer(fresh, body));
    }
    expect(warm.stats.drops).toBe(0);
  }

  beforeAll(async () => {
    tmp = tempDir('sundial-query-cache-');
    file = path.join(tmp.dir, 'db.sqlite');
    w = await openStorageWriter(file, { log: silentLogger() });
    const r = rng(7);
    await w.submit({ kind: 'createBucket', bucket: bucket('w'), events: seed(r, T, 4, ['Code', 'firefox', 'Slack']) });
    await w.submit({ kind: 'createBucket', bucket: bucket('a', 'afkstatus'), events: seed(r, T, 4, ['afk', 'not-afk']) });
    // equal starts (answer order: id ascending) and a long event reaching into the next day
    await w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T + D + 5 * H, 10 * S, { app: 'tie1' }), ev(T + D + 5 * H, 20 * S, { app: 'tie2' }), ev(T + D + 20 * H, 10 * H, { app: 'long' })] });
    rdb = openReadonly(file);
    warm = new SqliteSource(rdb);
    floodWarm = new SqliteSource(rdb, undefined, 0);
    expectExact();
  });
  afterAll(async () => {
    await w?.close();
    rdb?.close();
    tmp?.cleanup();
  });

  it('heartbeat merges re-read only the changed tail', async () => {
    const last = new Reader(rdb).lastEvent(rowOf('w'))!;
    const read0 = warm.stats.rowsRead;
    warm.bucketEvents('w', T, T + 4 * D); // cached: reads nothing
    expect(warm.stats.rowsRead).toBe(read0);
    const seq = maxSeq();
    const merged = await hb('w', last.timestamp + last.duration + 30 * S, last.data);
    expect(merged).toMatchObject({ id: last.id, timestamp: last.timestamp });
    expect(changesAfter(seq)).toEqual([[rowOf('w'), last.timestamp]]);
    warm.bucketEvents('w', T, T + 4 * D);
    expect(warm.stats.rowsRead - read0).toBe(1);
    for (let i = 1; i <= 3; i++) await hb('w', last.timestamp + last.duration + 30 * S + i * S, last.data);
    await hb('w', T + 3 * D + 13 * H, { app: 'new' }); // not mergeable: a new event
    await hb('a', T + 3 * D + 13 * H, { app: 'not-afk' });
    expectExact();
  });

  it('inserts in the middle of history, including a new longest event', async () => {
    const seq = maxSeq();
    await w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T + D + 9 * H, 5 * S, { app: 'mid' }), ev(T + D + 5 * H, 1 * S, { app: 'tie3' })] });
    expect(changesAfter(seq)).toEqual([[rowOf('w'), T + D + 5 * H]]);
    expectExact();
    await w.submit({ kind: 'insertEvents', bucket: 'a', events: [ev(T - 2 * D, 4 * D, { app: 'very long' })] });
    expectExact();
    // longer than any before and starting after the previous longest: only found if the bound grows
    await w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T + 3 * D + 20 * H, 20 * H, { app: 'longer' })] });
    expect(plain(warm.bucketEvents('w', T + 4 * D + 12 * H, T + 5 * D))).toEqual([[expect.any(Number), T + 4 * D + 12 * H, 4 * H, { app: 'longer' }]]);
    expectExact();
  });

  it('replace by id, moving events earlier and later', async () => {
    const reader = new Reader(rdb);
    const evs = reader.events(rowOf('w'), { start: T + 2 * D, end: T + 3 * D });
    const [x, y] = [evs[5]!, evs[evs.length - 5]!];
    const seq = maxSeq();
    await w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T + 12 * H, 7 * S, { app: 'moved back' }, x.id), ev(y.timestamp + 3 * H, y.duration, y.data, y.id)] });
    expect(changesAfter(seq)).toEqual([[rowOf('w'), T + 12 * H]]);
    expectExact();
    await w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T + 3 * D + 9 * H, 7 * S, { app: 'moved forward' }, x.id)] });
    expectExact();
  });

  it('deletes: one event, events across buckets, and the longest event', async () => {
    const reader = new Reader(rdb);
    const evs = reader.events(rowOf('w'), { start: T + D, end: T + 2 * D });
    const victim = evs[10]!;
    const seq = maxSeq();
    await w.submit({ kind: 'deleteEvent', bucket: 'w', id: victim.id! });
    expect(changesAfter(seq)).toEqual([[rowOf('w'), victim.timestamp]]);
    expectExact();
    const long = reader.events(rowOf('a'), { start: T - 2 * D, end: T - 2 * D })[0]!;
    const a2 = reader.events(rowOf('a'), { start: T + 2 * D, end: T + 3 * D })[3]!;
    await w.submit({ kind: 'deleteEvents', ids: [evs[20]!.id!, long.id!, a2.id!, 999_999] });
    expectExact();
  });

  it('a failed op of a batch leaves no change record; its batch mates do', async () => {
    const seq = maxSeq();
    const otherId = new Reader(rdb).lastEvent(rowOf('a'))!.id;
    const [ok, bad] = await Promise.allSettled([
      hb('a', T + 3 * D + 14 * H, { app: 'afk' }),
      w.submit({ kind: 'insertEvents', bucket: 'w', events: [ev(T, S, { app: 'x' }), ev(T, S, { app: 'y' }, otherId)] }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(changesAfter(seq)).toEqual([[rowOf('a'), T + 3 * D + 14 * H]]);
    // a batch that changed no events still advances the log (readers tell writer commits from others)
    await w.submit({ kind: 'setSetting', key: 'k', value: 1 });
    expect(changesAfter(seq + 1)).toEqual([[0, Number.MAX_SAFE_INTEGER]]);
    expectExact();
  });

  it('delete and re-create a bucket (same row number) and import into it', async () => {
    const row = rowOf('a'); // the highest row number, which SQLite hands out again
    await w.submit({ kind: 'deleteBucket', id: 'a' });
    expectExact();
    await w.submit({ kind: 'createBucket', bucket: bucket('a', 'afkstatus'), events: seed(rng(8), T + D, 2, ['afk', 'not-afk']) });
    expect(rowOf('a')).toBe(row);
    expectExact();
    const seq = maxSeq();
    const res = await w.submit({ kind: 'importEvents', bucket: 'a', events: [...seed(rng(9), T + 2 * D + 2 * H, 1, ['afk']), ev(T + 3 * D, 10 * S, { app: 'late' })] });
    expect(res.inserted).toBeGreaterThan(10);
    expect(changesAfter(seq)).toEqual([[row, T + 2 * D + 10 * H]]);
    expectExact();
  });

  it('a write that bypasses the writer drops the cache instead of answering stale', async () => {
    warm.bucketEvents('a', T, T + 4 * D);
    const db = openWritable(file);
    try {
      const info = db.prepare('UPDATE events SET endtime = endtime + ? WHERE bucketrow = ? AND starttime < ?').run(H, rowOf('a'), T + 2 * D);
      expect(info.changes).toBeGreaterThan(10);
    } finally {
      db.close();
    }
    const fresh = new SqliteSource(rdb);
    expect(plain(warm.bucketEvents('a', T, T + 4 * D))).toEqual(plain(fresh.bucketEvents('a', T, T + 4 * D)));
    expect(warm.stats.drops).toBe(1);
    warm.stats.drops = 0;
    expectExact();
  });

  it('stays exact with a tiny cache bound (eviction, spans too large to keep)', async () => {
    const small = new SqliteSource(rdb, 150);
    const fresh = new SqliteSource(rdb);
    for (let i = 0; i < 3; i++) {
      for (const b of ['w', 'a']) {
        for (const [s, e] of WINDOWS) expect(plain(small.bucketEvents(b, s, e))).toEqual(plain(fresh.bucketEvents(b, s, e)));
      }
      await hb('w', T + 3 * D + 15 * H + i * S, { app: 'new' });
    }
  });

  it('the web UI query on the worker pool matches a cold source after writes', async () => {
    const svc = createQueryService({ dbFile: file, threads: 1, log: silentLogger() });
    try {
      await w.submit({ kind: 'createBucket', bucket: bucket('f', 'web.tab.current'), events: seed(rng(3), T, 4, ['tab']) });
      const query = activityQuery({ windowBucket: 'w', afkBucket: 'a', browserBuckets: { firefox: 'f' } });
      const body = { timeperiods: [`${new Date(T / 1000).toISOString()}/${new Date((T + 4 * D) / 1000).toISOString()}`], query };
      for (let i = 0; i < 4; i++) {
        const got = await svc.run(body);
        expect(got).toEqual(runQuery(new SqliteSource(rdb), body));
        const last = new Reader(rdb).lastEvent(rowOf('w'))!;
        await hb('w', last.timestamp + last.duration + S, last.data);
        if (i === 2) await w.submit({ kind: 'insertEvents', bucket: 'a', events: [ev(T + D + 9 * H, H, { status: 'afk' })] });
      }
    } finally {
      await svc.close();
    }
  });
});

describe('change log pruning', () => {
  it('the engine keeps the newest rows, and a reader behind the oldest reloads', () => {
    const tmp = tempDir('sundial-query-prune-');
    const file = path.join(tmp.dir, 'db.sqlite');
    const engine = openEngine(file, { changeRetention: 2, pruneEvery: 1 });
    const rdb = openReadonly(file);
    try {
      const run = (op: Parameters<typeof engine.run>[0][number]) => {
        const [o] = engine.run([op]);
        expect(o).toMatchObject({ ok: true });
      };
      run({ kind: 'createBucket', bucket: bucket('x'), events: seed(rng(1), T, 2, ['A', 'B']) });
      run({ kind: 'createBucket', bucket: bucket('y'), events: [] });
      const warm = new SqliteSource(rdb);
      const fresh = () => new SqliteSource(rdb);
      const win: [number, number] = [T, T + 2 * D];
      expect(plain(warm.bucketEvents('x', ...win))).toEqual(plain(fresh().bucketEvents('x', ...win)));
      // a change to x, then enough other commits that its log row is pruned
      run({ kind: 'insertEvents', bucket: 'x', events: [ev(T + 10 * H, H, { app: 'inserted' })] });
      for (let i = 0; i < 4; i++) run({ kind: 'heartbeat', bucket: 'y', event: ev(T + i * S, 0, { app: 'y' }), pulsetime: 5 * S });
      const seqs = rdb.prepare('SELECT seq FROM bucket_changes ORDER BY seq').pluck(true).all() as number[];
      expect(seqs).toHaveLength(3);
      const got = plain(warm.bucketEvents('x', ...win));
      expect(got).toEqual(plain(fresh().bucketEvents('x', ...win)));
      expect(got!.some((e) => (e[3] as { app: string }).app === 'inserted')).toBe(true);
      expect(warm.stats.pruned).toBe(1);
      expect(warm.stats.drops).toBe(0);
    } finally {
      engine.close();
      rdb.close();
      tmp.cleanup();
    }
  });
});
