// A design measured, not the engine: the web UI's activity query over columnar event lists (start
// times and durations in Float64Arrays, data by index into a table of the distinct data objects,
// transforms that only change data map indices and share the times), against the engine's own
// answer on the same seeded data (the answers are compared and must be the same). It shows what a
// columnar engine would buy (docs/performance.md, "Sixth session"); the engine does not use it yet.
//   npm run build && node bench/columnar.mjs [days = 365] [database seeded by bench/data.mjs]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../dist/storage/schema.js';
import { runQuery, SqliteSource } from '../dist/query/service.js';
import { openReadonly } from '../dist/storage/open.js';
import { activityQuery, DEFAULT_CATEGORIES } from '../dist/query/webui.js';
import { categorize } from '../dist/query/classify.js';
import { splitUrlEvents } from '../dist/query/transforms.js';
import { compileRegex } from '../dist/query/regex.js';
import { QDict, QEvent } from '../dist/query/values.js';
import { B, createBuckets, DAY_US, fill, LAST_DAY } from './data.mjs';

const days = Number(process.argv[2] ?? 365);
let file = process.argv[3];
let tmp = null;
if (!file) {
  // The benchmarks' data set: ≈2,400 events a day, as many days as asked.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-columnar-'));
  file = path.join(tmp, 'db.sqlite');
  const w = new Database(file);
  w.pragma('journal_mode = WAL');
  migrate(w);
  console.log(`seeded ${fill(w, createBuckets(w), 0, days)} events over ${days} days`);
  w.close();
}
const iso = (us) => new Date(us / 1000).toISOString();
const end = LAST_DAY + DAY_US, start = end - days * DAY_US;
const src = new SqliteSource(openReadonly(file));
const query = activityQuery({ windowBucket: B.window, afkBucket: B.afk, browserBuckets: { firefox: B.firefox, chrome: B.chrome } });
const body = { timeperiods: [`${iso(start)}/${iso(end)}`], query };

// ---- the data table: distinct data objects get an index (the source interns them already)
const table = [];
const indexOf = new Map();
const idx = (d) => {
  let i = indexOf.get(d);
  if (i === undefined) indexOf.set(d, (i = table.push(d) - 1));
  return i;
};

/** A columnar list: n events, ascending by start. */
const mk = (n) => ({ n, ts: new Float64Array(n), dur: new Float64Array(n), data: new Int32Array(n) });
const cut = (l, n) => ({ n, ts: l.ts.subarray(0, n), dur: l.dur.subarray(0, n), data: l.data.subarray(0, n) });

/** query_bucket's newest-first QEvent list → columnar ascending (what a columnar cache would hold). */
function fromQ(evs) {
  const n = evs.length, l = mk(n);
  for (let i = 0; i < n; i++) {
    const e = evs[n - 1 - i];
    l.ts[i] = e.timestamp;
    l.dur[i] = e.duration;
    l.data[i] = idx(e.data);
  }
  return l;
}

// Data equality by a canonical index per distinct data, worked out once per data (kept across
// queries). By JSON text as stored (the engine also takes other key orders as equal; the seeded
// data has one order).
let canon = new Int32Array(1024).fill(-1);
const canonByText = new Map();
const canonOf = (d) => {
  if (d >= canon.length) { const c2 = new Int32Array(Math.max(d + 1, canon.length * 2)).fill(-1); c2.set(canon); canon = c2; }
  let c = canon[d];
  if (c === -1) {
    const t = JSON.stringify(table[d]);
    c = canonByText.get(t);
    if (c === undefined) canonByText.set(t, (c = d));
    canon[d] = c;
  }
  return c;
};
const same = (a, b) => a === b || canonOf(a) === canonOf(b);

function flood(l, pulse = 5_000_000) {
  if (l.n === 0) return l;
  const o = mk(l.n);
  let k = 0, c = l.data[0], cs = l.ts[0], ce = l.ts[0] + l.dur[0];
  for (let i = 1; i < l.n; i++) {
    const s = l.ts[i], e = s + l.dur[i], d = l.data[i];
    const gap = s - ce;
    if (gap < pulse && (d === c || same(d, c))) {
      if (s < cs) cs = s;
      if (e > ce) ce = e;
      continue;
    }
    let ns = s;
    if (gap >= 0 && gap < pulse) {
      const half = Math.floor(gap / 2);
      ce += half;
      ns = s - (gap - half);
    }
    o.ts[k] = cs; o.dur[k] = ce - cs; o.data[k++] = c;
    c = d; cs = ns; ce = e;
  }
  o.ts[k] = cs; o.dur[k] = ce - cs; o.data[k++] = c;
  return cut(o, k);
}

/** Events whose data passes `test`, asked once per distinct data. */
function filterData(l, test) {
  const verdict = new Int8Array(table.length).fill(-1);
  const o = mk(l.n);
  let k = 0;
  for (let i = 0; i < l.n; i++) {
    const d = l.data[i];
    let v = verdict[d];
    if (v === -1) {
      v = test(table[d]) ? 1 : 0;
      verdict[d] = v;
    }
    if (v === 1) { o.ts[k] = l.ts[i]; o.dur[k] = l.dur[i]; o.data[k++] = d; }
  }
  return cut(o, k);
}

function intersect(a, f) {
  if (a.n === 0 || f.n === 0) return mk(0);
  const o = mk(a.n + f.n);
  let k = 0, i = 0, j = 0, es = a.ts[0];
  while (i < a.n && j < f.n) {
    const ee = a.ts[i] + a.dur[i], fs = f.ts[j], fe = fs + f.dur[j];
    if (ee - es <= 0 || ee <= fs) { i++; if (i < a.n) es = a.ts[i]; continue; }
    if (es >= fe) { j++; continue; }
    const s = es > fs ? es : fs, t = ee < fe ? ee : fe;
    if (t > s) { o.ts[k] = s; o.dur[k] = t - s; o.data[k++] = a.data[i]; }
    es = t;
  }
  return cut(o, k);
}

/** Two ascending lists merged (stable: a first on ties). */
function mergeSorted(a, b) {
  const o = mk(a.n + b.n);
  let i = 0, j = 0;
  for (let k = 0; k < o.n; k++) {
    const takeA = j >= b.n || (i < a.n && a.ts[i] <= b.ts[j]);
    if (takeA) { o.ts[k] = a.ts[i]; o.dur[k] = a.dur[i]; o.data[k] = a.data[i++]; }
    else { o.ts[k] = b.ts[j]; o.dur[k] = b.dur[j]; o.data[k] = b.data[j++]; }
  }
  return o;
}

function periodUnion(a, b) {
  const all = mergeSorted(a, b);
  const o = mk(all.n);
  if (all.n === 0) return o;
  const empty = idx(Object.freeze({}));
  let k = 0, s = all.ts[0], e = s + all.dur[0];
  for (let i = 1; i < all.n; i++) {
    const t = all.ts[i], te = t + all.dur[i];
    if (t <= e) { if (te > e) e = te; } else { o.ts[k] = s; o.dur[k] = e - s; o.data[k++] = empty; s = t; e = te; }
  }
  o.ts[k] = s; o.dur[k] = e - s; o.data[k++] = empty;
  return cut(o, k);
}

/** A data-only transform: times shared, data indices mapped once per distinct data (memo kept across queries, as the engine's slots are). */
const memos = new Map();
function mapData(l, f) {
  let map = memos.get(f);
  if (!map || map.length < table.length) {
    const m2 = new Int32Array(Math.max(1024, table.length * 2)).fill(-1);
    if (map) m2.set(map);
    memos.set(f, (map = m2));
  }
  const data = new Int32Array(l.n);
  for (let i = 0; i < l.n; i++) {
    const d = l.data[i];
    let m = map[d];
    if (m === -1) { m = idx(f(table[d])); map[d] = m; }
    data[i] = m;
  }
  return { n: l.n, ts: l.ts, dur: l.dur, data };
}

/** merge_events_by_keys: duration per key value, in first-seen order. */
function mergeBy(l, keys) {
  const groupOfData = new Int32Array(table.length).fill(-2);
  const byKey = new Map();
  const groups = [];
  const one = keys.length === 1 ? keys[0] : null;
  for (let i = 0; i < l.n; i++) {
    const d = l.data[i];
    let g = groupOfData[d];
    if (g === -2) {
      const data = table[d];
      if (!keys.every((k) => Object.prototype.hasOwnProperty.call(data, k))) g = -1;
      else {
        const v = one !== null ? data[one] : undefined;
        const key = typeof v === 'string' ? v : JSON.stringify(keys.map((k) => data[k]));
        g = byKey.get(key);
        if (g === undefined) { byKey.set(key, (g = groups.length)); groups.push({ first: i, data: d, dur: 0, ts: l.ts[i] }); }
      }
      groupOfData[d] = g;
    }
    if (g >= 0) groups[g].dur += l.dur[i];
  }
  return groups;
}
const sum = (l) => { let s = 0; for (let i = 0; i < l.n; i++) s += l.dur[i]; return s; };

// ---- the rules as the engine takes them
const rules = DEFAULT_CATEGORIES.map(([name, r]) => [name, new QDict(new Map(Object.entries(r)))]);
const categorized = (d) => categorize([new QEvent(null, 0, 0, d)], rules)[0].data;
const splitOne = (d) => splitUrlEvents([new QEvent(null, 0, 0, d)])[0].data;

function columnarActivity(read) {
  const events0 = flood(read(B.window));
  let notAfk = filterData(flood(read(B.afk)), (d) => d.status === 'not-afk');
  let browser = mk(0);
  // The browser app ids and patterns of src/query/webui.ts.
  const apps = { firefox: { names: ['org.mozilla.firefox', 'io.gitlab.librewolf-community', 'net.waterfox.waterfox'], re: '(?i)(firefox|librewolf|waterfox|nightly)' }, chrome: { names: [], re: '(?i)^(google[-_ ]?chrome|chrome|chromium)' } };
  for (const [name, bucket] of [['firefox', B.firefox], ['chrome', B.chrome]]) {
    let evs = flood(read(bucket));
    const re = compileRegex(apps[name].re);
    const names = new Set(apps[name].names);
    const byName = names.size ? filterData(events0, (d) => names.has(d.app)) : mk(0);
    const win = mergeSorted(byName, filterData(events0, (d) => typeof d.app === 'string' && re.test(d.app)));
    evs = mapData(intersect(evs, win), splitOne);
    browser = mergeSorted(browser, evs);
  }
  notAfk = periodUnion(notAfk, filterData(browser, (d) => d.audible === true));
  const events = mapData(intersect(events0, notAfk), categorized);
  const titles = mergeBy(events, ['app', 'title']);
  const cats = mergeBy(events, ['$category']);
  const duration = sum(events);
  browser = mapData(browser, splitOne);
  const urls = mergeBy(browser, ['url']), domains = mergeBy(browser, ['$domain']), btitles = mergeBy(browser, ['title']);
  const top = (gs) => gs.sort((a, b) => b.dur - a.dur).slice(0, 100);
  return { titles: top(titles), apps: null, cats: top(cats), duration, notAfk, urls: top(urls), domains: top(domains), btitles: top(btitles), bduration: sum(browser) };
}

// ---- the engine's answer, warm
for (let i = 0; i < 3; i++) runQuery(src, body);
const engineTimes = [];
let ref;
for (let i = 0; i < 8; i++) { const t = performance.now(); ref = runQuery(src, body)[0]; engineTimes.push(performance.now() - t); }

// ---- columnar: the columnar "cache" built once (as a columnar span cache would hold it), then the query
const tb = performance.now();
const raw = {};
for (const b of Object.values(B)) raw[b] = fromQ(src.bucketEvents(b, start, end));
const buildMs = performance.now() - tb;
const read = (b) => raw[b];
for (let i = 0; i < 3; i++) columnarActivity(read);
const colTimes = [];
let col;
for (let i = 0; i < 8; i++) { const t = performance.now(); col = columnarActivity(read); colTimes.push(performance.now() - t); }
const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1].toFixed(0);
console.log(`${days} days, the activity query warm: engine ${med(engineTimes)} ms, columnar ${med(colTimes)} ms (medians of 8; ${table.length} distinct data objects)`);
console.log(`  (the columnar lists were built once from the engine's cache in ${buildMs.toFixed(0)} ms, as a columnar cache would hold them; the columnar figure makes no JSON answer)`);

// ---- same answer?
const secs = (us) => Math.trunc(us / 1000) / 1000;
const check = (label, a, b) => console.log(`${a === b ? 'same' : 'DIFFERENT'} ${label}: engine ${a} columnar ${b}`);
check('window duration', ref.window.duration, secs(col.duration));
check('browser duration', ref.browser.duration, secs(col.bduration));
check('top title', `${ref.window.title_events[0].data.title} ${ref.window.title_events[0].duration}`, `${table[col.titles[0].data].title} ${col.titles[0].dur / 1e6}`);
check('categories', ref.window.cat_events.map((e) => `${e.data.$category.join('>')}=${e.duration}`).join(','), col.cats.map((g) => `${table[g.data].$category.join('>')}=${g.dur / 1e6}`).join(','));
check('top domain', `${ref.browser.domains[0].data.$domain} ${ref.browser.domains[0].duration}`, `${table[col.domains[0].data].$domain} ${col.domains[0].dur / 1e6}`);
check('active periods', ref.window.active_events.length, col.notAfk.n);
const differs = [];
if (ref.window.duration !== secs(col.duration)) differs.push('window duration');
if (ref.window.active_events.length !== col.notAfk.n) differs.push('active periods');
if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
if (differs.length > 0) {
  console.error(`the answers differ: ${differs.join(', ')}`);
  process.exitCode = 1;
}
