import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { parseTimestamp } from '../../src/model/time.js';
import { BIN, runCli, spawnRunning } from '../helpers/daemon.js';
import { perTest } from '../helpers/tmp.js';

const { cleanups, tmp } = perTest();

interface Expected {
  bucket: { id: string; type: string; client: string; hostname: string; created: number; data: Record<string, unknown> };
  events: { timestamp: number; duration: number; data: Record<string, unknown> }[];
}

const TITLES = ['Größe — Übersicht', '日本語のページ', 'emoji 🎉👩‍💻 test', 'e\u0301 combining', 'quote " and \\ backslash', 'plain'];
const BUCKETS = [
  { id: 'aw-watcher-window_höst', type: 'currentwindow', client: 'aw-watcher-window', hostname: 'höst', created: '2023-11-02T09:15:30.123456+00:00', data: { note: 'ü' }, n: 2500 },
  { id: 'aw-watcher-afk_höst', type: 'afkstatus', client: 'aw-watcher-afk', hostname: 'höst', created: '2023-11-02T09:15:31Z', data: {}, n: 1500 },
  { id: 'aw-watcher-web-firefox', type: 'web.tab.current', client: 'aw-client-web', hostname: 'unknown', created: '2024-01-05T00:00:00Z', data: { browser: 'firefox' }, n: 1200 },
];
const dataOf = (b: number, i: number): Record<string, unknown> =>
  b === 1 ? { status: i % 3 ? 'not-afk' : 'afk' } : { app: `app-${i % 7}`, title: `${TITLES[i % TITLES.length]} #${i}`, nested: { k: [i, null, true] } };

/** An aw-server-rust database (schema version 5), times in nanoseconds with sub-microsecond digits. */
function buildRustDb(file: string): Expected[] {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE buckets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, type TEXT NOT NULL, client TEXT NOT NULL,
      hostname TEXT NOT NULL, created TEXT NOT NULL, data_deprecated TEXT, data TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, bucketrow INTEGER NOT NULL, starttime INTEGER NOT NULL, endtime INTEGER NOT NULL,
      data TEXT NOT NULL, FOREIGN KEY (bucketrow) REFERENCES buckets(id));
    CREATE INDEX events_bucketrow_starttime_endtime ON events(bucketrow, starttime DESC, endtime);
    CREATE TABLE key_value (key TEXT PRIMARY KEY, value TEXT, last_modified NUMBER NOT NULL);
    PRAGMA user_version = 5;`);
  db.pragma('journal_mode = WAL');
  const insB = db.prepare('INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?)');
  const insE = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)');
  const out: Expected[] = [];
  db.transaction(() => {
    BUCKETS.forEach((b, bi) => {
      const row = Number(insB.run(b.id, b.type, b.client, b.hostname, b.created, JSON.stringify(b.data)).lastInsertRowid);
      const events: Expected['events'] = [];
      // Interleave the buckets' inserts in time, as a live server does; insert newest-first for one bucket.
      for (let k = 0; k < b.n; k++) {
        const i = bi === 2 ? b.n - 1 - k : k;
        const start = 1_700_000_000_000_000_000n + BigInt(i) * 5_000_000_123n + BigInt(bi) * 777n;
        const end = start + BigInt((i % 11) * 1_000_000_000 + 456_789);
        insE.run(row, start, end, JSON.stringify(dataOf(bi, i)));
        events.push({ timestamp: Number(start / 1000n), duration: Number(end / 1000n - start / 1000n), data: dataOf(bi, i) });
      }
      out.push({ bucket: { id: b.id, type: b.type, client: b.client, hostname: b.hostname, created: parseTimestamp(b.created), data: b.data }, events });
    });
  })();
  db.close();
  return out;
}

/** A legacy aw-server (peewee) database: text timestamps with a space, durations in float seconds. */
function buildPeeweeDb(file: string): { expected: Expected[]; bad: number } {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE bucketmodel (key INTEGER PRIMARY KEY, id VARCHAR(255) NOT NULL UNIQUE, created DATETIME NOT NULL, name VARCHAR(255),
      type VARCHAR(255) NOT NULL, client VARCHAR(255) NOT NULL, hostname VARCHAR(255) NOT NULL, datastr TEXT);
    CREATE TABLE eventmodel (id INTEGER PRIMARY KEY, bucket_id INTEGER NOT NULL REFERENCES bucketmodel(key), timestamp DATETIME NOT NULL,
      duration DECIMAL(10, 5) NOT NULL, datastr VARCHAR(255) NOT NULL);`);
  const insB = db.prepare('INSERT INTO bucketmodel (key, id, created, name, type, client, hostname, datastr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insE = db.prepare('INSERT INTO eventmodel (bucket_id, timestamp, duration, datastr) VALUES (?, ?, ?, ?)');
  const out: Expected[] = [];
  const base = Date.parse('2019-03-01T12:00:00Z');
  db.transaction(() => {
    BUCKETS.forEach((b, bi) => {
      const key = bi + 10;
      insB.run(key, b.id, b.created.replace('T', ' ').replace('Z', '+00:00'), b.id, b.type, b.client, b.hostname, bi === 1 ? null : JSON.stringify(b.data));
      const events: Expected['events'] = [];
      for (let i = 0; i < b.n; i++) {
        const us = (base + i * 4_000 + bi) * 1000 + ((i * 37) % 1000);
        const iso = new Date(Math.floor(us / 1000)).toISOString(); // ms precision …
        const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(us % 1000).padStart(3, '0')}+00:00`; // … plus µs digits
        const secs = (i % 13) + (i % 1000) / 1000 + 0.000123;
        insE.run(key, text, secs, JSON.stringify(dataOf(bi, i)));
        events.push({ timestamp: us, duration: Math.round(secs * 1e6), data: dataOf(bi, i) });
      }
      out.push({ bucket: { id: b.id, type: b.type, client: b.client, hostname: b.hostname, created: parseTimestamp(b.created), data: bi === 1 ? {} : b.data }, events });
    });
    insE.run(10, '2019-03-02 00:00:00.000000+00:00', 1, '{not json'); // skipped, as the reference's importer does
  })();
  db.close();
  return { expected: out, bad: 1 };
}

function stored(dataDir: string): Expected[] {
  const r = new Reader(openReadonly(path.join(dataDir, 'sqlite-testing.db')));
  try {
    return r.buckets().map((b) => ({
      bucket: { id: b.id, type: b.type, client: b.client, hostname: b.hostname, created: b.created, data: b.data },
      events: r.events(b.row).map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data as Record<string, unknown> })),
    }));
  } finally {
    r.db.close();
  }
}

const sorted = (x: Expected[]): Expected[] =>
  [...x]
    .sort((a, b) => a.bucket.id.localeCompare(b.bucket.id))
    .map((b) => ({ bucket: b.bucket, events: [...b.events].sort((p, q) => p.timestamp - q.timestamp || JSON.stringify(p.data).localeCompare(JSON.stringify(q.data))) }));

const hash = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const count = (dataDir: string) => stored(dataDir).reduce((n, b) => n + b.events.length, 0);

describe('sundial import activitywatch', () => {
  it('imports an aw-server-rust database exactly (daemon stopped); a second run adds nothing; the source is untouched', async () => {
    const dir = tmp();
    const src = path.join(dir, 'sqlite.db');
    const expected = buildRustDb(src);
    const before = hash(src);
    const data = path.join(dir, 'data');
    const flags = ['--testing', '--data-dir', data];

    const dry = await runCli(['import', 'activitywatch', '--db', src, '--dry-run', ...flags]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^aw-server-rust: /);
    expect(dry.stdout).toMatch(/aw-watcher-window_höst\s+currentwindow\s+2500 events\s+2023-11-14 → 2023-11-15/);
    expect(dry.stdout).toMatch(/3 buckets, 5200 events \(dry run: nothing imported\)/);
    expect(fs.existsSync(data)).toBe(false);

    const r = await runCli(['import', 'activitywatch', '--db', src, ...flags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 5200 events into 3 buckets/);
    expect(sorted(stored(data))).toEqual(sorted(expected));

    const again = await runCli(['import', 'activitywatch', '--db', src, ...flags]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/imported 0 events into 3 buckets; 5200 were already here/);
    expect(count(data)).toBe(5200);
    expect(hash(src)).toBe(before);
  });

  it('shows a progress bar with events/s and an ETA on a terminal', async () => {
    const dir = tmp();
    const src = path.join(dir, 'sqlite.db');
    buildRustDb(src);
    const cmd = [process.execPath, BIN, 'import', 'activitywatch', '--db', src, '--testing', '--data-dir', path.join(dir, 'data')].map((a) => `'${a}'`).join(' ');
    // script(1) gives the command a pseudo-terminal, as a person's shell would.
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/importing \[#{24}\] 100% 5,200\/5,200 events, [\d,]+ events\/s, ETA \d+ s/);
  });

  it('imports an aw-server (peewee) database through the running daemon; a second run adds nothing', async () => {
    const dir = tmp();
    const src = path.join(dir, 'peewee-sqlite.v2.db');
    const { expected, bad } = buildPeeweeDb(src);
    const data = path.join(dir, 'data');
    const { p, port } = await spawnRunning(data, cleanups);
    const flags = ['--testing', '--data-dir', data];
    const r = await runCli(['import', 'activitywatch', '--db', src, ...flags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`→ the running daemon \\(pid ${p.pid}\\)`));
    expect(r.stdout).toMatch(new RegExp(`imported 5200 events into 3 buckets; ${bad} unreadable events skipped`));
    // Through the REST API the web UI uses, too.
    const list = (await (await fetch(`http://127.0.0.1:${port}/api/0/buckets/`)).json()) as Record<string, { type: string }>;
    expect(Object.keys(list).sort()).toEqual(BUCKETS.map((b) => b.id).sort());
    const again = await runCli(['import', 'activitywatch', '--db', src, ...flags]);
    expect(again.stdout).toMatch(/imported 0 events into 3 buckets; 5200 were already here/);
    p.kill('SIGTERM');
    await new Promise((res) => p.on('exit', res));
    expect(sorted(stored(data))).toEqual(sorted(expected));
  });

  it('sundial export writes the ActivityWatch export format, which imports back exactly; --bucket and --since filter', async () => {
    const dir = tmp();
    const src = path.join(dir, 'sqlite.db');
    const expected = buildRustDb(src);
    const a = path.join(dir, 'a');
    expect((await runCli(['import', 'activitywatch', '--db', src, '--testing', '--data-dir', a])).code).toBe(0);
    const out = path.join(dir, 'export.json');
    const ex = await runCli(['export', '--out', out, '--testing', '--data-dir', a]);
    expect(ex.code).toBe(0);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { buckets: Record<string, { id: string; type: string; events: { timestamp: string }[] }> };
    expect(Object.keys(doc.buckets).sort()).toEqual(BUCKETS.map((b) => b.id).sort());
    expect(doc.buckets['aw-watcher-afk_höst']!.events).toHaveLength(1500);

    const b = path.join(dir, 'b');
    const r = await runCli(['import', 'activitywatch', '--db', out, '--testing', '--data-dir', b]);
    expect(r.stdout).toMatch(/^export JSON: /);
    expect(r.stdout).toMatch(/imported 5200 events/);
    expect(sorted(stored(b))).toEqual(sorted(expected));

    const since = '2023-11-15T00:00:00Z';
    const one = await runCli(['export', '--bucket', 'aw-watcher-afk_höst', '--since', since, '--testing', '--data-dir', a]);
    expect(one.code).toBe(0);
    const part = JSON.parse(one.stdout) as typeof doc;
    expect(Object.keys(part.buckets)).toEqual(['aw-watcher-afk_höst']);
    const want = expected[1]!.events.filter((e) => e.timestamp >= parseTimestamp(since)).length;
    expect(want).toBeGreaterThan(0);
    expect(want).toBeLessThan(1500);
    expect(part.buckets['aw-watcher-afk_höst']!.events).toHaveLength(want);
    const badSince = await runCli(['export', '--since', 'yesterday', '--testing', '--data-dir', a]);
    expect(badSince.code).toBe(2);
  });

  it('an export file with an empty bucket, events before the header fields and an unreadable event', async () => {
    const dir = tmp();
    const file = path.join(dir, 'aw-buckets-export.json');
    const doc = {
      buckets: {
        empty: { id: 'empty', created: '2024-01-01T00:00:00Z', type: 't', client: 'c', hostname: 'h', data: {}, events: [] },
        late: {
          events: [
            { timestamp: '2024-02-01T10:00:00.123456Z', duration: 1.5, data: { title: 'Ünïcode ✓' } },
            { timestamp: 'not a time', duration: 1, data: {} },
            { timestamp: '2024-02-01T09:00:00+01:00', duration: 0, data: { title: 'earlier' } },
          ],
          id: 'late', created: '2024-01-02T00:00:00Z', type: 'currentwindow', client: 'x', hostname: 'hh', data: { k: 1 },
        },
      },
    };
    fs.writeFileSync(file, JSON.stringify(doc));
    const data = path.join(dir, 'data');
    const r = await runCli(['import', 'activitywatch', '--db', file, '--testing', '--data-dir', data]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 2 events into 2 buckets; 1 unreadable events skipped/);
    expect(sorted(stored(data))).toEqual(
      sorted([
        { bucket: { id: 'empty', type: 't', client: 'c', hostname: 'h', created: parseTimestamp('2024-01-01T00:00:00Z'), data: {} }, events: [] },
        {
          bucket: { id: 'late', type: 'currentwindow', client: 'x', hostname: 'hh', created: parseTimestamp('2024-01-02T00:00:00Z'), data: { k: 1 } },
          events: [
            { timestamp: parseTimestamp('2024-02-01T10:00:00.123456Z'), duration: 1_500_000, data: { title: 'Ünïcode ✓' } },
            { timestamp: parseTimestamp('2024-02-01T08:00:00Z'), duration: 0, data: { title: 'earlier' } },
          ],
        },
      ]),
    );
  });

  it('a truncated or foreign SQLite file, or not a database at all: one clear line, nothing changed', async () => {
    const dir = tmp();
    const src = path.join(dir, 'sqlite.db');
    buildRustDb(src);
    const data = path.join(dir, 'data');
    const flags = ['--testing', '--data-dir', data];
    const truncated = path.join(dir, 'truncated.db');
    const whole = fs.readFileSync(src);
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const foreign = path.join(dir, 'foreign.db');
    new Database(foreign).exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi')");
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not a database at all\n');
    for (const [file, msg] of [
      [truncated, /is damaged .*nothing was imported/],
      [foreign, /is a SQLite database but not ActivityWatch's/],
      [text, /is neither an ActivityWatch database nor an export/],
      [path.join(dir, 'missing.db'), /cannot read .*no such file/],
    ] as const) {
      const r = await runCli(['import', 'activitywatch', '--db', file, ...flags]);
      expect(r.code, file).toBe(1);
      expect(r.stderr.trim().split('\n'), file).toHaveLength(1);
      expect(r.stderr, file).toMatch(msg);
      expect(fs.existsSync(data), file).toBe(false);
    }
    const usage = await runCli(['import', 'rescuetime', ...flags]);
    expect(usage.code).toBe(2);
  });
});
