import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../../src/actors/storage-writer/engine.js';
import type { WriteOp } from '../../src/actors/storage-writer/ops.js';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { migrate, SCHEMA_VERSION } from '../../src/storage/schema.js';
import { perTest } from '../helpers/tmp.js';

const { cleanups, tmp } = perTest();
const S = 1_000_000;
const T0 = 1_750_000_000 * S;

/** Each bucket's span as a full scan finds it: what Reader.buckets() must agree with. */
function scannedSpans(file: string): Record<string, { start: number | null; end: number | null }> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT b.name, (SELECT min(starttime) FROM events WHERE bucketrow = b.id) AS s, (SELECT max(endtime) FROM events WHERE bucketrow = b.id) AS e FROM buckets b')
      .all() as { name: string; s: number | null; e: number | null }[];
    return Object.fromEntries(rows.map((r) => [r.name, { start: r.s, end: r.e }]));
  } finally {
    db.close();
  }
}

function readerSpans(reader: Reader): Record<string, { start: number | null; end: number | null }> {
  return Object.fromEntries(reader.buckets().map((b) => [b.id, { start: b.start, end: b.end }]));
}

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

describe('bucket spans (metadata start/end)', () => {
  it('find the latest end when an older, longer event ends after the newest one', () => {
    const file = path.join(tmp(), 'db.sqlite');
    const engine = openEngine(file);
    cleanups.push(() => engine.close());
    const bucket = { id: 'w', type: 'currentwindow', client: 'test', hostname: 'h', created: T0, data: {} };
    const ev = (at: number, dur: number, title: string) => ({ id: null, timestamp: T0 + at * S, duration: dur * S, data: { app: 'a', title } });
    // Many short events, then one that heartbeats grow to 10 hours, then a short one starting
    // after it that ends long before it does: the newest event is not the one ending last.
    const events = [...Array.from({ length: 200 }, (_, i) => ev(i * 10, 5, `t${i}`)), ev(2_000, 1, 'long')];
    const ops: WriteOp[] = [
      { kind: 'createBucket', bucket, events },
      { kind: 'heartbeat', bucket: 'w', pulsetime: 40_000 * S, event: ev(37_995, 5, 'long') },
      { kind: 'insertEvents', bucket: 'w', events: [ev(2_100, 5, 'after')] },
    ];
    for (const op of ops) expect(engine.run([op])[0]!.ok).toBe(true);
    const reader = new Reader(openReadonly(file));
    cleanups.push(() => reader.db.close());
    expect(readerSpans(reader)).toEqual({ w: { start: T0, end: T0 + 38_000 * S } });
    expect(reader.bucketInfo('w')).toMatchObject({ start: T0, end: T0 + 38_000 * S });
  });

  it('agree with a full scan through inserts, heartbeats, imports and deletes', () => {
    const file = path.join(tmp(), 'db.sqlite');
    const engine = openEngine(file);
    cleanups.push(() => engine.close());
    const reader = new Reader(openReadonly(file));
    cleanups.push(() => reader.db.close());
    const rand = rng(7);
    const names = ['a', 'b', 'c'];
    for (const id of names) {
      engine.run([{ kind: 'createBucket', bucket: { id, type: 'test', client: 'test', hostname: 'h', created: T0, data: {} } }]);
    }
    const pick = () => names[Math.floor(rand() * names.length)]!;
    // Durations from a second to a day, some far longer than anything before them.
    const dur = () => Math.floor(rand() ** 4 * 86_400 * S);
    const at = () => T0 + Math.floor(rand() * 30 * 86_400 * S);
    for (let step = 0; step < 400; step++) {
      const r = rand();
      const bucket = pick();
      let op: WriteOp;
      if (r < 0.35) op = { kind: 'insertEvents', bucket, events: [{ id: null, timestamp: at(), duration: dur(), data: { n: step } }] };
      else if (r < 0.65) {
        // A heartbeat onto the bucket's newest event: the same data, a little later, merges.
        const last = reader.events(reader.bucket(bucket)!.row, { limit: 1 })[0];
        const timestamp = last ? last.timestamp + last.duration + Math.floor(rand() * 4 * S) : at();
        op = { kind: 'heartbeat', bucket, pulsetime: 5 * S, event: { id: null, timestamp, duration: Math.floor(rand() * 3_600 * S), data: last?.data ?? { n: step } } };
      } else if (r < 0.75) {
        op = { kind: 'importEvents', bucket, events: Array.from({ length: 3 }, () => ({ id: null, timestamp: at(), duration: dur(), data: { i: step } })) };
      } else {
        const mine = reader.events(reader.bucket(bucket)!.row, {});
        if (mine.length === 0) continue;
        // Deleting the longest events is what could leave a stale bound or end behind.
        const longest = mine.reduce((x, y) => (y.duration > x.duration ? y : x));
        op = { kind: 'deleteEvent', bucket, id: rand() < 0.5 ? longest.id! : mine[Math.floor(rand() * mine.length)]!.id! };
      }
      const out = engine.run([op])[0]!;
      expect(out.ok, JSON.stringify(out)).toBe(true);
      expect(readerSpans(reader), `after step ${step} (${op.kind})`).toEqual(scannedSpans(file));
    }
  });

  it('find the latest end when the newest event has a negative duration (an old ActivityWatch import)', () => {
    const file = path.join(tmp(), 'db.sqlite');
    const db = new Database(file);
    migrate(db);
    db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES ('w', 't', 'c', 'h', 0)").run();
    const insert = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (1, ?, ?, ?)');
    // The bound becomes 20 min (twice the 10-min event); the newest event starts 2,000 s in and
    // ends 500 s in, before the older one ends, which starts more than the bound before it.
    insert.run(T0, T0 + 600 * S, '{}');
    insert.run(T0 + 2_000 * S, T0 + 500 * S, '{}');
    db.close();
    const reader = new Reader(openReadonly(file));
    cleanups.push(() => reader.db.close());
    expect(readerSpans(reader)).toEqual(scannedSpans(file));
    expect(readerSpans(reader)).toEqual({ w: { start: T0, end: T0 + 600 * S } });
  });

  it('are right in a database from before the bound (the migration computes it)', () => {
    const file = path.join(tmp(), 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // The schema as it was before the bound: every migration but the last.
    migrate(db, SCHEMA_VERSION - 1);
    db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES ('w', 't', 'c', 'h', 0)").run();
    const insert = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (1, ?, ?, ?)');
    insert.run(T0, T0 + 50_000 * S, '{}');
    for (let i = 1; i <= 100; i++) insert.run(T0 + i * 100 * S, T0 + i * 100 * S + 10 * S, '{}');
    migrate(db);
    expect(db.prepare('SELECT dur_bound FROM buckets').pluck().get()).toBe(50_000 * S);
    db.close();
    const reader = new Reader(openReadonly(file));
    cleanups.push(() => reader.db.close());
    expect(readerSpans(reader)).toEqual({ w: { start: T0, end: T0 + 50_000 * S } });
  });
});
