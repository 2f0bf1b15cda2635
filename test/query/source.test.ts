import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadonly, openWritable } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { runQuery } from '../../src/query/run.js';
import { SqliteSource } from '../../src/query/source.js';
import { T0 } from './helpers.js';

const S = 1_000_000;
const HOUR = 3600 * S;

describe('SqliteSource over a real SQLite file', () => {
  let dir: string, w: Database.Database, r: Database.Database, src: SqliteSource, row: number;
  const insert = (start: number, end: number, data: unknown): number =>
    Number(w.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)').run(row, start, end, JSON.stringify(data)).lastInsertRowid);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-query-src-'));
    const file = path.join(dir, 'db.sqlite');
    w = openWritable(file);
    row = Number(w.prepare("INSERT INTO buckets (name, type, client, hostname, created, data) VALUES ('b', 't', 'c', 'host-ü', 0, '{}')").run().lastInsertRowid);
    w.prepare("INSERT INTO buckets (name, type, client, hostname, created, data) VALUES ('a', 't', 'c', 'other', 0, '{}')").run();
    r = openReadonly(file);
    src = new SqliteSource(r);
  });
  afterAll(() => {
    r?.close();
    w?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('matches the storage Reader (clipping, newest first, ties by id) and shares equal data objects', () => {
    insert(T0 + 2 * HOUR, T0 + 3 * HOUR, { app: 'x' });
    insert(T0 + 2 * HOUR, T0 + 2 * HOUR + S, { app: 'y' });
    insert(T0 + HOUR, T0 + 2 * HOUR, { app: 'x' });
    insert(T0, T0 + HOUR, { app: '日本語', n: 1.5 });
    insert(T0 + 5 * HOUR, T0 + 5 * HOUR, { app: 'zero' });
    const windows: [number, number][] = [[T0, T0 + 6 * HOUR], [T0 + HOUR, T0 + 2 * HOUR], [T0 + 90 * 60 * S, T0 + 150 * 60 * S], [T0 + 5 * HOUR, T0 + 5 * HOUR]];
    const reader = new Reader(r);
    for (const [a, b] of windows) {
      const mine = src.bucketEvents('b', a, b)!.map((e) => ({ ...e }));
      const ref = reader.events(reader.bucket('b')!.row, { start: a, end: b });
      expect(mine).toEqual(ref.map((e) => ({ ...e })));
    }
    const all = src.bucketEvents('b', T0, T0 + 6 * HOUR)!;
    const xs = all.filter((e) => e.data.app === 'x');
    expect(xs).toHaveLength(2);
    expect(xs[0]!.data).toBe(xs[1]!.data);
    expect(src.bucketEvents('nope', 0, 1)).toBeUndefined();
    expect(src.bucketEventCount('b', T0 + HOUR, T0 + 2 * HOUR)).toBe(4);
    expect(src.buckets()).toEqual([{ id: 'a', hostname: 'other' }, { id: 'b', hostname: 'host-ü' }]);
  });

  it('finds a long event that starts far before the window, also after the cached bound was computed', () => {
    const day = 24 * HOUR;
    const win: [number, number] = [T0 + 30 * day, T0 + 30 * day + HOUR];
    expect(src.bucketEvents('b', ...win)).toEqual([]); // caches the longest duration (1 h)
    const id = insert(T0 + 20 * day, T0 + 40 * day, { app: 'long' }); // a new, 20-day event
    const got = src.bucketEvents('b', ...win)!;
    expect(got.map((e) => [e.id, e.timestamp, e.duration])).toEqual([[id, win[0], HOUR]]);
    // a span update (what heartbeats do) is seen too
    w.prepare('UPDATE events SET endtime = ? WHERE id = ?').run(T0 + 30 * day + 10 * 60 * S, id);
    expect(src.bucketEvents('b', ...win)!.map((e) => e.duration)).toEqual([10 * 60 * S]);
    w.prepare('DELETE FROM events WHERE id = ?').run(id);
  });

  it('cuts lists from the cache without changing it: edge events clipped, data objects shared', () => {
    const whole = src.bucketEvents('b', T0, T0 + 6 * HOUR)!;
    const again = src.bucketEvents('b', T0, T0 + 6 * HOUR)!;
    expect(again).not.toBe(whole); // a new list each time (callers may keep it) …
    expect(again).toEqual(whole);
    again.forEach((e, i) => expect(e.data).toBe(whole[i]!.data)); // … whose data objects are the cache's
    // A window cutting events at both edges: the cut ones clipped, the others as they are.
    const cut = src.bucketEvents('b', T0 + 30 * 60 * S, T0 + 2 * HOUR + 30 * 60 * S)!;
    expect(cut.map((e) => [e.timestamp - T0, e.duration])).toEqual([
      [2 * HOUR, 30 * 60 * S],
      [2 * HOUR, S],
      [HOUR, HOUR],
      [30 * 60 * S, 30 * 60 * S],
    ]);
    expect(cut[1]).toEqual(whole.find((e) => e.data.app === 'y'));
    expect(cut[2]).toEqual(whole.find((e) => e.timestamp === T0 + HOUR));
    // The cached events keep their full extent for the next, wider ask; a list handed out earlier
    // stays as it was after a write changes the bucket.
    const before = whole.map((e) => [e.id, e.timestamp, e.duration]);
    const last = whole[0]!;
    w.prepare('UPDATE events SET endtime = endtime + ? WHERE id = ?').run(HOUR, last.id);
    const after = src.bucketEvents('b', T0, T0 + 6 * HOUR)!;
    expect(whole.map((e) => [e.id, e.timestamp, e.duration])).toEqual(before);
    expect(after.find((e) => e.id === last.id)!.duration).toBe(last.duration + HOUR);
    w.prepare('UPDATE events SET endtime = endtime - ? WHERE id = ?').run(HOUR, last.id);
    expect(src.bucketEvents('b', T0, T0 + 6 * HOUR)!.map((e) => [e.id, e.timestamp, e.duration])).toEqual(before);
  });

  it('runQuery reads all buckets of a request from one snapshot', () => {
    const res = runQuery(src, {
      timeperiods: ['2000-01-01T00:00:00Z/2000-01-01T06:00:00Z', '2000-01-01T01:00:00Z/2000-01-01T02:00:00Z'],
      query: ['RETURN = [query_bucket_eventcount("b"), sum_durations(query_bucket("b")), find_bucket("", "host-ü")];'],
    });
    expect(res).toEqual([[5, 3 * 3600 + 1, 'b'], [4, 3600, 'b']]);
  });
});
