import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { openReadonly, openWritable } from '../../src/storage/open.js';
import { createQueryService, runQuery, SqliteSource, type QueryService } from '../../src/query/service.js';
import { activityQuery } from '../../src/query/webui.js';
import { rng } from './helpers.js';

/**
 * End to end: seeded data in a real SQLite file, the web UI's activity query through the worker
 * pool, checked against durations computed here independently with a per-second timeline.
 * Generated gaps are 0 s or ≥ 10 s so that flood() does not move any boundary.
 */

const DAY0 = Date.UTC(2024, 4, 1) / 1000; // seconds
const HOST = 'testhost';
const B = {
  window: `aw-watcher-window_${HOST}`,
  afk: `aw-watcher-afk_${HOST}`,
  firefox: `aw-watcher-web-firefox_${HOST}`,
  chrome: `aw-watcher-web-chrome_${HOST}`,
};

interface Pair { app: string; title: string; cat: string; browser?: 'firefox' | 'chrome' }
const PAIRS: Pair[] = [
  { app: 'Code', title: 'main.ts - sundial - Visual Studio Code', cat: 'Uncategorized' },
  { app: 'vim', title: 'notes.md', cat: 'Work>Programming' },
  { app: 'firefox', title: 'ActivityWatch/aw-server-rust - GitHub — Mozilla Firefox', cat: 'Work>Programming>ActivityWatch', browser: 'firefox' },
  { app: 'firefox', title: 'YouTube — Mozilla Firefox', cat: 'Media>Video', browser: 'firefox' },
  { app: 'Google-chrome', title: 'Inbox - Gmail', cat: 'Comms>Email', browser: 'chrome' },
  { app: 'Slack', title: 'general | Team', cat: 'Comms>IM' },
  { app: 'Terminal', title: 'bash', cat: 'Uncategorized' },
  { app: 'libreoffice', title: 'report.odt', cat: 'Work' },
  { app: 'Spotify', title: 'Some Song', cat: 'Media>Music' },
  // exact firefox app id: also matched by the firefox regex, so window_firefox holds it twice
  { app: 'org.mozilla.firefox', title: 'Reddit — front page', cat: 'Media>Social Media', browser: 'firefox' },
  { app: 'ダウンロード', title: 'ファイル 🎉', cat: 'Uncategorized' },
];
const URLS = {
  firefox: ['https://www.youtube.com/watch?v=x', 'https://github.com/ActivityWatch', 'https://www.reddit.com/r/x'],
  chrome: ['https://mail.google.com/mail/u/0', 'https://example.org/ü'],
};

type Ev = { start: number; dur: number; data: Record<string, unknown> };

/** Back-to-back or ≥10 s apart events over [from, to) seconds. */
function series(r: () => number, from: number, to: number, pick: () => Record<string, unknown>, minDur: number, maxDur: number): Ev[] {
  const out: Ev[] = [];
  let t = from;
  while (t < to) {
    const dur = minDur + Math.floor(r() * (maxDur - minDur));
    out.push({ start: t, dur: Math.min(dur, to - t), data: pick() });
    t += dur + (r() < 0.7 ? 0 : 10 + Math.floor(r() * 120));
  }
  return out;
}

function generate(seed: number, days: number): Record<string, Ev[]> {
  const r = rng(seed);
  const out: Record<string, Ev[]> = { window: [], afk: [], firefox: [], chrome: [] };
  for (let d = 0; d < days; d++) {
    const from = DAY0 + d * 86400 + 3600, to = from + 6 * 3600;
    out.window!.push(...series(r, from, to, () => {
      const p = PAIRS[Math.floor(r() * PAIRS.length)]!;
      return { app: p.app, title: p.title };
    }, 5, 300));
    // AFK: alternating, contiguous
    let t = from - 600, afk = false;
    while (t < to + 600) {
      const dur = afk ? 120 + Math.floor(r() * 800) : 600 + Math.floor(r() * 3000);
      out.afk!.push({ start: t, dur, data: { status: afk ? 'afk' : 'not-afk' } });
      t += dur;
      afk = !afk;
    }
    for (const b of ['firefox', 'chrome'] as const) {
      out[b]!.push(...series(r, from, to, () => ({
        url: URLS[b][Math.floor(r() * URLS[b].length)], title: 'tab', audible: r() < 0.15, incognito: false,
      }), 5, 200));
    }
  }
  return out;
}

function writeDb(file: string, data: Record<string, Ev[]>): void {
  const db = openWritable(file);
  const types: Record<string, string> = { window: 'currentwindow', afk: 'afkstatus', firefox: 'web.tab.current', chrome: 'web.tab.current' };
  db.transaction(() => {
    for (const [k, evs] of Object.entries(data)) {
      const row = db.prepare('INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?)')
        .run(B[k as keyof typeof B], types[k], 'test', HOST, DAY0 * 1e6, '{}').lastInsertRowid;
      const ins = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)');
      for (const e of evs) ins.run(row, e.start * 1e6, (e.start + e.dur) * 1e6, JSON.stringify(e.data));
    }
  })();
  db.close();
}

/** Independent expectation over [from, to) seconds, one slot per second. */
function expected(data: Record<string, Ev[]>, from: number, to: number) {
  const n = to - from;
  const paint = <T>(evs: Ev[], f: (e: Ev) => T): (T | undefined)[] => {
    const a = new Array<T | undefined>(n);
    for (const e of evs) for (let s = Math.max(e.start, from); s < Math.min(e.start + e.dur, to); s++) a[s - from] = f(e);
    return a;
  };
  const win = paint(data.window!, (e) => PAIRS.find((p) => p.app === e.data.app && p.title === e.data.title)!);
  const notAfk = paint(data.afk!, (e) => e.data.status === 'not-afk');
  const tabs = { firefox: paint(data.firefox!, (e) => e), chrome: paint(data.chrome!, (e) => e) };
  const res = { duration: 0, apps: {} as Record<string, number>, cats: {} as Record<string, number>, browser: 0, domains: {} as Record<string, number> };
  const add = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);
  for (let s = 0; s < n; s++) {
    const w = win[s];
    let audible = false;
    for (const b of ['firefox', 'chrome'] as const) {
      const tab = tabs[b][s];
      if (tab && w?.browser === b) {
        res.browser++;
        add(res.domains, new URL(tab.data.url as string).hostname.replace(/^www\./, ''));
        if (tab.data.audible) audible = true;
      }
    }
    if (w && (notAfk[s] || audible)) {
      res.duration++;
      add(res.apps, w.app);
      add(res.cats, w.cat);
    }
  }
  return res;
}

type Named = { duration: number; data: Record<string, unknown> };
const byKey = (evs: Named[], key: (e: Named) => string): Record<string, number> =>
  Object.fromEntries(evs.map((e) => [key(e), e.duration]));

const iso = (s: number): string => new Date(s * 1000).toISOString();

describe('query service end to end (SQLite + worker threads)', () => {
  let dir: string, file: string, svc: QueryService;
  const data = generate(42, 2);
  const query = activityQuery({ windowBucket: B.window, afkBucket: B.afk, browserBuckets: { firefox: B.firefox, chrome: B.chrome } });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-query-'));
    file = path.join(dir, 'db.sqlite');
    writeDb(file, data);
    svc = createQueryService({ dbFile: file, threads: 2, timeoutMs: 1500, log: silentLogger() });
  });
  afterAll(async () => {
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the canonical activity query matches independently computed durations per period', async () => {
    const periods: [number, number][] = [[DAY0, DAY0 + 86400], [DAY0 + 86400, DAY0 + 2 * 86400], [DAY0, DAY0 + 2 * 86400], [DAY0 + 3600 + 1800, DAY0 + 3 * 3600]];
    const res = (await svc.run({ timeperiods: periods.map(([a, b]) => `${iso(a)}/${iso(b)}`), query })) as {
      window: { app_events: Named[]; title_events: Named[]; cat_events: Named[]; active_events: Named[]; duration: number };
      browser: { domains: Named[]; urls: Named[]; titles: Named[]; duration: number };
      stopwatch: { stopwatch_events: Named[] };
    }[];
    expect(res).toHaveLength(periods.length);
    periods.forEach(([a, b], i) => {
      const want = expected(data, a, b);
      const got = res[i]!;
      expect(want.duration).toBeGreaterThan(1000);
      expect(got.window.duration).toBe(want.duration);
      expect(byKey(got.window.app_events, (e) => e.data.app as string)).toEqual(want.apps);
      expect(byKey(got.window.cat_events, (e) => (e.data.$category as string[]).join('>'))).toEqual(want.cats);
      expect(got.browser.duration).toBe(want.browser);
      expect(byKey(got.browser.domains, (e) => e.data.$domain as string)).toEqual(want.domains);
      // sorted by duration, events serialised as {id, timestamp, duration, data}
      const durs = got.window.title_events.map((e) => e.duration);
      expect(durs).toEqual(durs.slice().sort((x, y) => y - x));
      expect(got.window.title_events[0]).toMatchObject({ id: null, timestamp: expect.stringMatching(/^2024-05-0\dT.*Z$/) });
      expect(got.stopwatch.stopwatch_events).toEqual([]);
      // active_events are non-overlapping not-afk periods with empty data
      const act = got.window.active_events;
      expect(act.every((e) => Object.keys(e.data).length === 0)).toBe(true);
    });
    // The same request in-process over its own connection gives the same answer.
    const db = openReadonly(file);
    try {
      const local = runQuery(new SqliteSource(db), { timeperiods: periods.map(([a, b]) => `${iso(a)}/${iso(b)}`), query });
      expect(local).toEqual(res);
    } finally {
      db.close();
    }
  });

  it('parse and runtime errors come back as 400 with kind and position', async () => {
    await expect(svc.run({ timeperiods: [`${iso(DAY0)}/${iso(DAY0 + 60)}`], query: ['a = 1;', 'b = query_bucket("nope");'] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^BucketQueryError\(.*NoSuchBucket.* at line 2, column 5$/),
    });
    await expect(svc.run({ timeperiods: [`${iso(DAY0)}/${iso(DAY0 + 60)}`], query: ['a = (1;'] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^ParsingError\(.*\) at line 1, column 7$/),
    });
  });

  it('validates the body before using a worker', async () => {
    await expect(svc.run({ timeperiods: ['yesterday'], query: [] })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/timeperiods\[0\]/) });
    await expect(svc.run('nope')).rejects.toMatchObject({ status: 400 });
  });

  it('a runaway query is stopped with 408 and the pool still answers afterwards', async () => {
    // it holds a read snapshot (query_bucket) when it is killed
    const runaway = [`s = query_bucket("${B.afk}");`, 'a = [1];', ...Array.from({ length: 20 }, () => 'a = a + a;'), ...Array.from({ length: 20_000 }, () => 'x = contains(a, "z");'), 'RETURN = 1;'];
    await expect(svc.run({ timeperiods: [`${iso(DAY0)}/${iso(DAY0 + 60)}`], query: [runaway.join('')] })).rejects.toMatchObject({
      kind: 'timeout',
      message: expect.stringMatching(/timed out/),
    });
    const after = await Promise.all([1, 2, 3].map((n) => svc.run({ timeperiods: [`${iso(DAY0)}/${iso(DAY0 + 86400)}`], query: [`RETURN = [${n}, sum_durations(query_bucket("${B.afk}"))];`] })));
    const afkTotal = data.afk!.filter((e) => e.start < DAY0 + 86400).reduce((s, e) => s + Math.min(e.dur, DAY0 + 86400 - e.start), 0);
    expect(after).toEqual([[[1, afkTotal]], [[2, afkTotal]], [[3, afkTotal]]]);
    // the terminated worker's connection left no read lock behind: a full checkpoint succeeds
    const db = openWritable(file);
    try {
      db.prepare('INSERT INTO key_value (key, value, last_modified) VALUES (?, ?, ?)').run('test.checkpoint', '1', 0);
      expect(db.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
    } finally {
      db.close();
    }
  });

  it('queries run in parallel on separate workers and see new writes (WAL)', async () => {
    const db = openWritable(file);
    try {
      const row = (db.prepare('SELECT id FROM buckets WHERE name = ?').get(B.afk) as { id: number }).id;
      db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)').run(row, (DAY0 + 5 * 86400) * 1e6, (DAY0 + 5 * 86400 + 30) * 1e6, '{"status":"afk"}');
    } finally {
      db.close();
    }
    const r = await svc.run({ timeperiods: [`${iso(DAY0 + 5 * 86400)}/${iso(DAY0 + 6 * 86400)}`], query: [`RETURN = query_bucket_eventcount("${B.afk}");`] });
    expect(r).toEqual([1]);
  });
});
