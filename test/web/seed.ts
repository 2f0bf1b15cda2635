/**
 * A working day for the web UI tests: AFK breaks, several apps, browser tabs (one audible during an
 * AFK break), and what ActivityWatch's canonical query makes of it, computed here by plain interval
 * arithmetic rather than by the engine.
 */

export interface Span {
  from: number;
  to: number;
}
export interface SeedEvent extends Span {
  data: Record<string, unknown>;
}
export interface Seed {
  host: string;
  day: string;
  buckets: { id: string; type: string; events: SeedEvent[] }[];
}

const at = (day: Date, h: number, m = 0): number => new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m).getTime();

export function workingDay(host: string, day: Date): Seed {
  const t = (h: number, m = 0) => at(day, h, m);
  const win = (from: number, to: number, app: string, title: string): SeedEvent => ({ from, to, data: { app, title } });
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    host,
    day: `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`,
    buckets: [
      {
        id: `aw-watcher-afk_${host}`,
        type: 'afkstatus',
        events: [
          { from: t(9), to: t(12), data: { status: 'not-afk' } },
          { from: t(12), to: t(13), data: { status: 'afk' } },
          { from: t(13), to: t(17), data: { status: 'not-afk' } },
        ],
      },
      {
        id: `aw-watcher-window_${host}`,
        type: 'currentwindow',
        events: [
          win(t(9), t(10, 30), 'Terminal', 'vim main.ts'),
          win(t(10, 30), t(11, 30), 'Firefox', 'GitHub - sundial — Mozilla Firefox'),
          win(t(11, 30), t(12, 30), 'Slack', 'Slack | general'),
          win(t(12, 30), t(13, 30), 'Firefox', 'Lecture - YouTube — Mozilla Firefox'),
          win(t(13, 30), t(17), 'Terminal', 'vim main.ts'),
        ],
      },
      {
        id: `aw-watcher-web-firefox_${host}`,
        type: 'web.tab.current',
        events: [
          { from: t(10, 30), to: t(11, 30), data: { url: 'https://github.com/sundial', title: 'GitHub - sundial', audible: false, incognito: false } },
          { from: t(12, 30), to: t(13, 30), data: { url: 'https://www.youtube.com/watch?v=lecture', title: 'Lecture - YouTube', audible: true, incognito: false } },
        ],
      },
    ],
  };
}

const intersect = (a: Span[], b: Span[]): Span[] =>
  a.flatMap((x) => b.map((y) => ({ from: Math.max(x.from, y.from), to: Math.min(x.to, y.to) }))).filter((s) => s.to > s.from);
const total = (s: Span[]): number => s.reduce((a, x) => a + (x.to - x.from) / 1000, 0);

/** Seconds per app, per domain, per hour slice and in all, as the canonical query defines them. */
export function expected(seed: Seed, categorise: (e: SeedEvent) => string) {
  const [afk, win, web] = seed.buckets.map((b) => b.events) as [SeedEvent[], SeedEvent[], SeedEvent[]];
  const browserWindows = win.filter((e) => /firefox/i.test(String(e.data.app)));
  // Browser time only while the browser window is focused.
  const browser = web.flatMap((e) => intersect([e], browserWindows).map((s) => ({ ...s, data: e.data })));
  // Active: not-afk, plus audible tabs.
  const active: Span[] = [...afk.filter((e) => e.data.status === 'not-afk'), ...browser.filter((e) => e.data.audible === true)];
  const counted = win.flatMap((e) => {
    // The not-afk spans do not overlap each other here except where audible extends them; merge first.
    const merged = mergeSpans(active);
    return intersect([e], merged).map((s) => ({ ...s, data: e.data }));
  });
  const by = (evs: SeedEvent[], key: (e: SeedEvent) => string) => {
    const m = new Map<string, number>();
    for (const e of evs) m.set(key(e), (m.get(key(e)) ?? 0) + (e.to - e.from) / 1000);
    return m;
  };
  return {
    active: total(counted),
    apps: by(counted, (e) => String(e.data.app)),
    categories: by(counted, categorise),
    // Domains as split_url_events names them: without a leading `www.`.
    domains: by(browser, (e) => new URL(String(e.data.url)).hostname.replace(/^www\./, '')),
    browser: total(browser),
    /** Active seconds in [from, to). */
    within: (from: number, to: number) => total(intersect(counted, [{ from, to }])),
  };
}

function mergeSpans(spans: Span[]): Span[] {
  const s = [...spans].sort((a, b) => a.from - b.from);
  const out: Span[] = [];
  for (const x of s) {
    const last = out[out.length - 1];
    if (last && x.from <= last.to) last.to = Math.max(last.to, x.to);
    else out.push({ ...x });
  }
  return out;
}
