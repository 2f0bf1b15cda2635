// Seeded, realistic ActivityWatch-like data for the benchmarks (query, ui): one host with window, AFK and
// two browser buckets; ≈2,850 events per day (07:00–23:00 UTC). Deterministic for a given call order.

export const HOST = 'benchhost';
export const B = {
  window: `aw-watcher-window_${HOST}`,
  afk: `aw-watcher-afk_${HOST}`,
  firefox: `aw-watcher-web-firefox_${HOST}`,
  chrome: `aw-watcher-web-chrome_${HOST}`,
};
export const DAY_US = 86_400_000_000;
export const S = 1_000_000;
// The "today" of the data set; days go backwards from here.
export const LAST_DAY = Date.UTC(2025, 5, 30) * 1000;

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

/** Inserts the events of days `fromDay` … `toDay - 1` before `lastDay` (day 0 is `lastDay` itself). */
export function fill(db, rows, fromDay, toDay, lastDay = LAST_DAY) {
  const ins = db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (?, ?, ?, ?)');
  let n = 0;
  db.transaction(() => {
    for (let d = fromDay; d < toDay; d++) {
      const evs = dayEvents(lastDay - d * DAY_US);
      for (const [k, list] of Object.entries(evs)) for (const [s, e, data] of list) {
        ins.run(rows[k], s, e, data);
        n++;
      }
    }
  })();
  return n;
}


export const TYPES = { window: 'currentwindow', afk: 'afkstatus', firefox: 'web.tab.current', chrome: 'web.tab.current' };

/** The four buckets in a migrated database; returns their row ids by role. */
export function createBuckets(db, created = LAST_DAY - 400 * DAY_US) {
  const rows = {};
  for (const [k, id] of Object.entries(B)) {
    rows[k] = db.prepare('INSERT INTO buckets (name, type, client, hostname, created, data) VALUES (?, ?, ?, ?, ?, ?)').run(id, TYPES[k], 'bench', HOST, created, '{}').lastInsertRowid;
  }
  return rows;
}
