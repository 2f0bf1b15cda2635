import { useEffect, useMemo, useState } from 'preact/hooks';
import { activityQuery, browserBucketsOf, categoryTimeQuery, multiDeviceActivityQuery, multiDeviceCategoryTimeQuery, type ActivityQueryOptions } from '../../../src/query/webui';
import { api, type AwEvent, type Bucket } from '../api';
import { categoriesOf, queryRules } from '../categories';
import { colorOf } from '../chart';
import { formatDuration } from '../format';
import { StackedBars, Sunburst, type BarSeries, type SunNode } from '../plot';
import { navigate, rememberActivity } from '../router';
import { bounds, dayOf, describe, parseStartOfDay, period, rangeAround, shift, slices, weekStartOf, type Mode, type Range } from '../range';
import { hosts, useStore } from '../store';
import { Empty, ErrorBox, Loading, TopList } from './common';

/** The host selector's value for every device combined (not a possible host name: it has a NUL). */
const ALL_DEVICES = '\u0000all';

interface Summary {
  window: { app_events: AwEvent[]; title_events: AwEvent[]; cat_events: AwEvent[]; active_events: AwEvent[]; duration: number };
  browser: { domains: AwEvent[]; urls: AwEvent[]; titles: AwEvent[]; duration: number };
}
interface Slice {
  cat_events: AwEvent[];
  duration: number;
}

/** The buckets the activity query reads for a host (ActivityWatch's discovery rules). */
export function activityBuckets(buckets: Bucket[], host: string) {
  const mine = buckets.filter((b) => (b.hostname || b.data?.hostname) === host);
  const win = mine.find((b) => b.type === 'currentwindow' && !b.id.startsWith('aw-watcher-android'));
  const afk = mine.find((b) => b.type === 'afkstatus');
  let browsers = mine.filter((b) => b.type === 'web.tab.current');
  if (browsers.length === 0) browsers = buckets.filter((b) => b.type === 'web.tab.current' && b.hostname === 'unknown');
  return { win, afk, browserBuckets: browserBucketsOf(browsers) };
}

function rangeFromUrl(sod: number, ws: number): Range {
  const p = new URLSearchParams(location.search);
  const mode = (p.get('mode') ?? 'day') as Mode;
  const today = dayOf(new Date(), sod);
  const from = p.get('from') ?? today;
  if (mode === 'custom') return { mode, from, to: p.get('to') ?? from };
  return rangeAround(mode === 'week' || mode === 'month' ? mode : 'day', from, ws);
}

function niceInterval(max: number): number {
  const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600];
  return steps.find((st) => max / st <= 5) ?? 43200;
}

const catName = (e: AwEvent): string[] => (Array.isArray(e.data.$category) ? (e.data.$category as string[]) : ['Uncategorized']);

/** Category paths → the nested shape a sunburst draws. */
function sunburstData(cats: AwEvent[]): SunNode[] {
  const root: SunNode[] = [];
  for (const e of cats) {
    let level = root;
    const path = catName(e);
    // Sub-categories wear their top category's colour (lighter by level), so the rings read as one family.
    path.forEach((part) => {
      let n = level.find((x) => x.name === part);
      if (!n) level.push((n = { name: part, value: 0, children: [], color: colorOf(path[0]!) }));
      n.value += e.duration;
      level = n.children;
    });
  }
  return root;
}

export function ActivityView() {
  const s = useStore();
  const sod = parseStartOfDay(s.settings?.startOfDay ?? '04:00');
  const ws = weekStartOf(s.settings?.startOfWeek);
  const [range, setRange] = useState<Range>(() => rangeFromUrl(sod, ws));
  useEffect(() => rememberActivity(location.pathname + location.search), []);
  const hostList = useMemo(() => hosts(s.buckets ?? [], s.info?.hostname), [s.buckets, s.info]);
  const [host, setHost] = useState<string | null>(null);
  const h = host ?? hostList[0] ?? null;
  const [data, setData] = useState<{ summary: Summary; key: string } | null>(null);
  const [bars, setBars] = useState<{ slices: Slice[]; labels: string[]; key: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rules = useMemo(() => queryRules(categoriesOf(s.settings)), [s.settings]);
  // "All devices": each host with window and AFK buckets (its own, or synced from another device), combined.
  const all = h === ALL_DEVICES;
  const devices = useMemo(() => {
    if (!s.buckets || !h) return [];
    return (all ? hostList : [h]).map((x) => activityBuckets(s.buckets!, x)).flatMap((f): ActivityQueryOptions[] => (f.win && f.afk ? [{ windowBucket: f.win.id, afkBucket: f.afk.id, browserBuckets: f.browserBuckets }] : []));
  }, [s.buckets, h, hostList]);
  const sl = useMemo(() => slices(range, sod), [range, sod]);

  const go = (r: Range) => {
    // A custom range typed backwards is the same range.
    if (r.from > r.to) r = { ...r, from: r.to, to: r.from };
    setRange(r);
    const p = new URLSearchParams({ mode: r.mode, from: r.from });
    if (r.mode === 'custom') p.set('to', r.to);
    history.replaceState(null, '', `/?${p}`);
    rememberActivity(`/?${p}`);
  };

  const key = JSON.stringify([range, sod, h, rules, devices.map((d) => d.windowBucket)]);
  useEffect(() => {
    if (devices.length === 0) return;
    let stale = false;
    setError(null);
    const os = devices.map((d) => ({ ...d, categories: rules }));
    const [summaryQ, slicesQ] = all ? [multiDeviceActivityQuery(os), multiDeviceCategoryTimeQuery(os)] : [activityQuery(os[0]!), categoryTimeQuery(os[0]!)];
    const b = bounds(range, sod);
    // Two requests for the whole view, each shown as it comes: the summary of the range (figures,
    // lists, categories) and the time per category of each bar.
    const fail = (e: Error) => !stale && setError(e.message);
    const labels = sl.map((x) => x.label);
    api.query<Summary>([period(b.start, b.end)], summaryQ).then(([summary]) => !stale && setData({ summary: summary!, key }), fail);
    api.query<Slice>(sl.map((x) => period(x.start, x.end)), slicesQ).then((slices) => !stale && setBars({ slices, labels, key }), fail);
    return () => void (stale = true);
  }, [key]);

  const controls = (
    <div class="toolbar" role="toolbar" aria-label="Range">
      <div class="seg">
        {(['day', 'week', 'month'] as const).map((m) => (
          <button key={m} aria-pressed={range.mode === m} onClick={() => go(rangeAround(m, range.from, ws))}>
            {m[0]!.toUpperCase() + m.slice(1)}
          </button>
        ))}
        <button aria-pressed={range.mode === 'custom'} onClick={() => go({ ...range, mode: 'custom' })}>
          Custom
        </button>
      </div>
      <button aria-label="Previous" onClick={() => go(shift(range, -1, ws))}>
        ‹
      </button>
      <button onClick={() => go(range.mode === 'custom' ? { mode: 'day', from: dayOf(new Date(), sod), to: dayOf(new Date(), sod) } : rangeAround(range.mode, dayOf(new Date(), sod), ws))}>Today</button>
      <button aria-label="Next" onClick={() => go(shift(range, 1, ws))}>
        ›
      </button>
      {range.mode === 'custom' ? (
        <>
          <label>
            From <input type="date" value={range.from} onChange={(e) => go({ ...range, from: e.currentTarget.value })} />
          </label>
          <label>
            to <input type="date" value={range.to} onChange={(e) => go({ ...range, to: e.currentTarget.value })} />
          </label>
        </>
      ) : (
        <input type="date" aria-label="Date" value={range.from} onChange={(e) => e.currentTarget.value && go(rangeAround(range.mode as 'day', e.currentTarget.value, ws))} />
      )}
      <h2 class="range-title">{describe(range)}</h2>
      {hostList.length > 1 && (
        <label>
          Host{' '}
          <select value={h ?? ''} onChange={(e) => setHost(e.currentTarget.value)}>
            {hostList.map((x) => (
              <option key={x}>{x}</option>
            ))}
            <option value={ALL_DEVICES}>All devices</option>
          </select>
        </label>
      )}
    </div>
  );

  if (s.buckets === null) return <Loading />;
  if (s.bucketsError) return <ErrorBox error={s.bucketsError} />;
  if (devices.length === 0) {
    return (
      <div class="view">
        {controls}
        <Empty>
          No window and AFK data yet{h && !all ? ` for ${h}` : ''} — is a watcher running? See <a href="/status" onClick={(e) => (e.preventDefault(), navigate('/status'))}>Status</a>. Data imported from ActivityWatch shows up under{' '}
          <a href="/buckets" onClick={(e) => (e.preventDefault(), navigate('/buckets'))}>Buckets</a>.
        </Empty>
      </div>
    );
  }
  return (
    <div class="view">
      {controls}
      <ErrorBox error={error} />
      {!data && !error && <Loading />}
      {data && <ActivityBody summary={data.summary} bars={bars} hourly={sl.length === 24} stale={data.key !== key} barsStale={bars?.key !== key} />}
    </div>
  );
}

// A shared empty list, so memoised chart options stay put while the first bars are still coming.
const NONE: never[] = [];

/**
 * The view once a summary is there. The bars (time per period) come from their own request and may
 * arrive before or after it; until the current range's come, the last ones stay, dimmed.
 */
function ActivityBody(props: { summary: Summary; bars: { slices: Slice[]; labels: string[] } | null; hourly: boolean; stale: boolean; barsStale: boolean }) {
  const { window: w, browser } = props.summary;
  const active = w.duration;
  const slices = props.bars?.slices ?? NONE;
  const labels = props.bars?.labels ?? NONE;
  const tops = useMemo(() => {
    const names = new Set<string>();
    slices.forEach((x) => x.cat_events.forEach((e) => names.add(catName(e)[0]!)));
    return [...names].sort();
  }, [slices]);
  const series = useMemo<BarSeries[]>(
    () => tops.map((t) => ({ name: t, color: colorOf(t), values: slices.map((x) => x.cat_events.filter((e) => catName(e)[0] === t).reduce((a, e) => a + e.duration, 0)) })),
    [slices, tops],
  );
  const sun = useMemo(() => sunburstData(w.cat_events), [w.cat_events]);
  const noData = active === 0;
  return (
    <div class={props.stale ? 'stale' : ''}>
      <div class="cards">
        <div class="card stat" data-testid="active-time">
          <span class="stat-label">Active time</span>
          <span class="stat-value">{formatDuration(active)}</span>
        </div>
        <div class="card stat" data-testid="browser-time">
          <span class="stat-label">In the browser</span>
          <span class="stat-value">{formatDuration(browser.duration)}</span>
        </div>
        <div class="card stat" data-testid="top-category">
          <span class="stat-label">Top category</span>
          <span class="stat-value">{w.cat_events[0] ? catName(w.cat_events[0]).join(' › ') : '—'}</span>
        </div>
      </div>
      {noData ? (
        <Empty>No activity recorded in this range. Pick another day, or check on the Status page that the watchers are running.</Empty>
      ) : (
        <div class="grid2">
          <section class={props.barsStale && !props.stale ? 'card stale' : 'card'} data-testid="time-chart">
            <h3>{props.hourly ? 'By hour' : 'By day'}</h3>
            {props.bars ? (
              <StackedBars
                labels={labels}
                series={series}
                height={236}
                // Ticks at durations people count in: quarter hours within an hour, whole hours beyond.
                interval={niceInterval(Math.max(0, ...slices.map((x) => x.duration)))}
                // An hour holds at most an hour.
                max={labels.length === 24 ? 3600 : undefined}
                format={formatDuration}
                label="Active time per period by category"
              />
            ) : (
              <div class="chart-wait">
                <Loading />
              </div>
            )}
            <table class="visually-hidden" data-testid="time-table">
              <caption>Active time {props.hourly ? 'per hour' : 'per day'}</caption>
              <tbody>
                {labels.map((l, i) => (
                  <tr key={l}>
                    <th>{l}</th>
                    <td>{formatDuration(slices[i]?.duration ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card" data-testid="category-chart">
            <h3>Categories</h3>
            <Sunburst data={sun} height={260} format={formatDuration} label="Time per category" />
          </section>
        </div>
      )}
      <div class="grid2">
        <TopList
          testid="top-categories"
          title="Categories"
          empty="Nothing categorised in this range."
          rows={w.cat_events.slice(0, 15).map((e) => ({ key: catName(e).join('>'), label: catName(e).join(' › '), seconds: e.duration, color: colorOf(catName(e)[0]!) }))}
        />
        <TopList
          testid="top-apps"
          title="Applications"
          empty="No application time in this range."
          rows={w.app_events.slice(0, 15).map((e) => ({ key: String(e.data.app), label: String(e.data.app), seconds: e.duration, color: colorOf(String(e.data.app)) }))}
        />
        <TopList
          testid="top-titles"
          title="Window titles"
          empty="No window titles in this range."
          rows={w.title_events.slice(0, 15).map((e, i) => ({ key: `${i}`, label: String(e.data.title), sub: String(e.data.app), seconds: e.duration }))}
        />
        <TopList
          testid="top-domains"
          title="Browser domains"
          empty="No browser time: install the ActivityWatch browser extension (aw-watcher-web) and point it at this daemon."
          rows={browser.domains.slice(0, 15).map((e) => ({ key: String(e.data.$domain), label: String(e.data.$domain || '(no domain)'), seconds: e.duration }))}
        />
        <TopList
          testid="top-urls"
          title="URLs"
          empty="No browser URLs in this range."
          rows={browser.urls.slice(0, 15).map((e) => ({ key: String(e.data.url), label: String(e.data.url), seconds: e.duration }))}
        />
      </div>
    </div>
  );
}
