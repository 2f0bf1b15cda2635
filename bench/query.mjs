// Query engine benchmark: seeded, realistic ActivityWatch-like data in a real SQLite file, then the
// web UI's activity query (window + AFK + browsers, default categories) for 1, 30 and 365 days,
// in-process and through the worker pool. Run `npx tsc -p .` first (imports from dist/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../dist/storage/schema.js';
import { openReadonly } from '../dist/storage/open.js';
import { createQueryService, runQuery, SqliteSource } from '../dist/query/service.js';
import { activityQuery } from '../dist/query/webui.js';

const HOST = 'benchhost';
const B = {
  window: `aw-watcher-window_${HOST}`,
  afk: `aw-watcher-afk_${HOST}`,
  firefox: `aw-watcher-web-firefox_${HOST}`,
  chrome: `aw-watcher-web-chrome_${HOST}`,
};
const DAY_US = 86_400_000_000;
const S = 1_000_000;
// The "today" of the data set; days go backwards from here.
const LAST_DAY = Date.UTC(2025, 5, 30) * 1000;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = mulberry32(20260101);
const pick = (a) => a[Math.floor(r() * a.length)];

// ~200 distinct app/title pairs, skewed like real use (a few dominate).
const APPS = ['Code', 'firefox', 'Google-chrome', 'Slack', 'Terminal', 'vim', 'Spotify', 'Thunderbird', 'libreoffice', 'GIMP',
  'Telegram', 'Discord', 'VLC', 'kate', 'Blender', 'Inkscape', 'Minecraft', 'Zoom', 'Evince', 'Nautilus'];
const WORDS = ['main.ts', 'README.md', 'GitHub', 'YouTube', 'Inbox', 'general', 'report', 'aw-server', 'notes', 'Stack Overflow',
  'draft', 'invoice', 'reddit', 'Plex', 'Kdenlive', 'budget', 'holiday', 'design', 'review', 'ActivityWatch'];
const PAIRS = [];
for (const app of APPS) for (let i = 0; i < 10; i++) PAIRS.push(JSON.stringify({ app, title: `${pick(WORDS)} ${pick(WORDS)} — ${app} ${i}` }));
const weighted = () => PAIRS[Math.floor(PAIRS.length * r() ** 2.2)];
const URLS = [];
for (let i = 0; i < 120; i++) URLS.push(`https://${pick(['www.', ''])}${pick(['github.com', 'youtube.com', 'reddit.com', 'news.ycombinator.com', 'docs.rs', 'mail.google.com', 'example.org', 'wikipedia.org'])}/${pick(WORDS).replace(/ /g, '-')}/${i}?q=${i % 7}`);

function dayEvents(dayStart) {
  const out = { window: [], afk: [], firefox: [], chrome: [] };
  const from = dayStart + 7 * 3600 * S, to = from + 16 * 3600 * S;
  let t = from;
  while (t < to) {
    // ≈2000 window events per 16 h day: mean ≈ 28 s
    const dur = Math.floor((2 + r() * 50) * S);
    out.window.push([t, t + dur, weighted()]);
    const g = r();
    t += dur + (g < 0.8 ? 0 : g < 0.95 ? Math.floor(r() * 3 * S) : Math.floor((10 + r() * 300) * S));
  }
  t = from;
  let afk = false;
  while (t < to) {
    // ≈100 AFK events per day: not-afk ~15 min, afk ~4 min
    const dur = Math.floor((afk ? 60 + r() * 420 : 300 + r() * 1500) * S);
    out.afk.push([t, t + dur, afk ? '{"status":"afk"}' : '{"status":"not-afk"}']);
    t += dur;
    afk = !afk;
  }
  for (const [b, n] of [['firefox', 500], ['chrome', 250]]) {
    t = from;
    const mean = (16 * 3600) / n;
    while (t < to) {
      const dur = Math.floor(r() * 2 * mean * S);
      out[b].push([t, t + dur, JSON.stringify({ url: pick(URLS), title: `${pick(WORDS)} tab`, audible: r() < 0.1, incognito: false, tabCount: 1 + Math.floor(r() * 20) })]);
      t += dur + (r() < 0.7 ? 0 : Math.floor(r() * 60 * S));
    }
  }
  return out;
}

function fill(db, rows, fromDay, toDay) {
  const ins = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)');
  let n = 0;
  db.transaction(() => {
    for (let d = fromDay; d < toDay; d++) {
      const evs = dayEvents(LAST_DAY - d * DAY_US);
      for (const [k, list] of Object.entries(evs)) for (const [s, e, data] of list) {
        ins.run(rows[k], s, e, data);
        n++;
      }
    }
  })();
  return n;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const iso = (us) => new Date(us / 1000).toISOString();
const query = activityQuery({ windowBucket: B.window, afkBucket: B.afk, browserBuckets: { firefox: B.firefox, chrome: B.chrome } });

async function bench(label, days, svc, src, db) {
  const end = LAST_DAY + DAY_US, start = end - days * DAY_US;
  const body = { timeperiods: [`${iso(start)}/${iso(end)}`], query };
  const count = db.prepare('SELECT count(*) FROM events WHERE endtime >= ? AND starttime <= ?').pluck().get(start, end);
  const runs = days <= 1 ? 30 : days <= 30 ? 10 : 3;
  for (let i = 0; i < 2; i++) runQuery(src, body);
  const inproc = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    runQuery(src, body);
    inproc.push(performance.now() - t0);
  }
  for (let i = 0; i < 3; i++) await svc.run(body);
  const pooled = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await svc.run(body);
    pooled.push(performance.now() - t0);
  }
  const a = median(inproc), b = median(pooled);
  console.log(
    `${label.padEnd(9)} ${String(count).padStart(8)} events  in-process ${a.toFixed(1).padStart(7)} ms (${Math.round(count / a * 1000).toLocaleString('en')} ev/s)` +
      `  worker pool ${b.toFixed(1).padStart(7)} ms (${Math.round(count / b * 1000).toLocaleString('en')} ev/s)  [median of ${runs}]`,
  );
  return { a, b };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-query-'));
const file = path.join(dir, 'bench.sqlite');
try {
  const w = new Database(file);
  w.pragma('journal_mode = WAL');
  w.pragma('synchronous = OFF');
  migrate(w);
  const rows = {};
  const types = { window: 'currentwindow', afk: 'afkstatus', firefox: 'web.tab.current', chrome: 'web.tab.current' };
  for (const [k, id] of Object.entries(B)) {
    rows[k] = w.prepare('INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?)').run(id, types[k], 'bench', HOST, LAST_DAY - 400 * DAY_US, '{}').lastInsertRowid;
  }
  let t0 = performance.now();
  let total = fill(w, rows, 0, 40);
  console.log(`generated ${total} events (40 days) in ${(performance.now() - t0).toFixed(0)} ms`);

  const rdb = openReadonly(file);
  const src = new SqliteSource(rdb);
  const svc = createQueryService({ dbFile: file, threads: 2, timeoutMs: 120_000 });
  console.log(`database: ${total} events`);
  const d1 = await bench('1 day', 1, svc, src, rdb);
  const d30 = await bench('30 days', 30, svc, src, rdb);

  if (!process.env.BENCH_QUERY_SHORT) {
    t0 = performance.now();
    total += fill(w, rows, 40, 365);
    console.log(`\ngenerated up to 365 days: ${total} events in the database (+${(performance.now() - t0).toFixed(0)} ms)`);
    await bench('1 day', 1, svc, src, rdb);
    await bench('30 days', 30, svc, src, rdb);
    await bench('365 days', 365, svc, src, rdb);
  }
  w.close();

  console.log(`\ngoals (≈100k events in db, worker pool): 1 day ≤ 20 ms → ${d1.b.toFixed(1)} ms ${d1.b <= 20 ? 'OK' : 'MISSED'}; ` +
    `30 days ≤ 150 ms → ${d30.b.toFixed(1)} ms ${d30.b <= 150 ? 'OK' : 'MISSED'}`);
  await svc.close();
  rdb.close();
} finally {
  if (process.env.BENCH_QUERY_KEEP) console.log(`kept ${file}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
