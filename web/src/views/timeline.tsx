import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type AwEvent, type Bucket } from '../api';
import { Chart, colorOf, type ChartOption, type ECharts } from '../chart';
import { formatDuration, formatTime } from '../format';
import { bounds, dayOf, describe, parseStartOfDay, rangeAround, shift, type Range } from '../range';
import { useStore } from '../store';
import { Empty, ErrorBox, Loading } from './common';

/** What a timeline block is called: the field that names the activity in each bucket type. */
function labelOf(b: Bucket, e: AwEvent): string {
  const d = e.data;
  if (b.type === 'afkstatus') return String(d.status ?? '');
  if (b.type === 'currentwindow') return String(d.app ?? '');
  if (b.type === 'web.tab.current') {
    try {
      return new URL(String(d.url)).hostname || String(d.title ?? '');
    } catch {
      return String(d.title ?? d.url ?? '');
    }
  }
  return String(d.label ?? d.app ?? d.title ?? Object.values(d)[0] ?? '');
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function TimelineView() {
  const s = useStore();
  const sod = parseStartOfDay(s.settings?.startOfDay ?? '04:00');
  const [range, setRange] = useState<Range>(() => rangeAround('day', dayOf(new Date(), sod)));
  const [lanes, setLanes] = useState<{ bucket: Bucket; events: AwEvent[] }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const b = bounds(range, sod);
  const chart = useRef<ECharts | null>(null);
  const [visible, setVisible] = useState<[number, number] | null>(null);
  const onZoom = (c: ECharts) => {
    const dz = (c.getOption() as { dataZoom?: { startValue?: number; endValue?: number }[] }).dataZoom?.[0];
    if (dz?.startValue !== undefined && dz.endValue !== undefined) setVisible([dz.startValue, dz.endValue]);
  };
  /** Zoom (factor < 1 zooms in) and pan (shift in window widths) from the keyboard-reachable buttons. */
  const zoom = (factor: number, shiftBy = 0) => {
    const c = chart.current;
    const dz = (c?.getOption() as { dataZoom?: { start: number; end: number }[] } | undefined)?.dataZoom?.[0];
    if (!c || !dz) return;
    const width = Math.min(100, Math.max(0.5, (dz.end - dz.start) * factor));
    let start = (dz.start + dz.end) / 2 - width / 2 + shiftBy * (dz.end - dz.start);
    start = Math.min(100 - width, Math.max(0, start));
    c.dispatchAction({ type: 'dataZoom', start, end: start + width });
  };

  useEffect(() => {
    if (!s.buckets) return;
    let stale = false;
    setError(null);
    Promise.all(s.buckets.map(async (bucket) => ({ bucket, events: await api.events(bucket.id, { start: b.start.toISOString(), end: b.end.toISOString(), limit: -1 }) })))
      .then((l) => !stale && setLanes(l))
      .catch((e: Error) => !stale && setError(e.message));
    return () => void (stale = true);
  }, [s.buckets, range.from, sod]);

  const option = useMemo<ChartOption | null>(() => {
    if (!lanes) return null;
    const shown = lanes.filter((l) => l.events.length > 0);
    const data = shown.flatMap((l, i) =>
      l.events.map((e) => {
        const start = Date.parse(e.timestamp);
        const label = labelOf(l.bucket, e);
        return {
          value: [i, start, start + e.duration * 1000, label],
          itemStyle: { color: l.bucket.type === 'afkstatus' ? (label === 'afk' ? '#9aa0a6' : '#59a14f') : colorOf(label) },
          details: e,
        };
      }),
    );
    // Open zoomed to the recorded part of the day (with a little margin); zoom out to see all of it.
    const first = Math.min(...data.map((d) => d.value[1] as number));
    const last = Math.max(...data.map((d) => d.value[2] as number));
    const margin = Math.max(15 * 60_000, (last - first) * 0.03);
    const zoom = data.length ? { startValue: Math.max(b.start.getTime(), first - margin), endValue: Math.min(b.end.getTime(), last + margin) } : {};
    return {
      // Zooming and panning redraw at once; animated blocks would lag behind the axis.
      animation: false,
      grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
      tooltip: {
        formatter: (p: { value: [number, number, number, string]; data: { details: AwEvent } }) => {
          const [, st, en] = p.value;
          const rows = Object.entries(p.data.details.data)
            .map(([k, v]) => `<tr><td>${escape(k)}</td><td>${escape(String(v)).slice(0, 120)}</td></tr>`)
            .join('');
          return `<b>${formatTime(new Date(st))} – ${formatTime(new Date(en))}</b> (${formatDuration((en - st) / 1000)})<table>${rows}</table>`;
        },
      },
      dataZoom: [
        { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter', ...zoom },
        { type: 'slider', xAxisIndex: 0, filterMode: 'weakFilter', bottom: 12, ...zoom, labelFormatter: (v: number) => formatTime(new Date(v)) },
      ],
      xAxis: { type: 'time', min: b.start.getTime(), max: b.end.getTime(), axisLabel: { formatter: (v: number) => formatTime(new Date(v)) } },
      yAxis: { type: 'category', data: shown.map((l) => l.bucket.id), inverse: true },
      series: [
        {
          type: 'custom',
          encode: { x: [1, 2], y: 0 },
          data,
          renderItem: (params: unknown, api: { value(i: number): number; coord(p: number[]): number[]; size(p: number[]): number[]; style(): unknown }) => {
            const lane = api.value(0);
            const a = api.coord([api.value(1), lane]);
            const z = api.coord([api.value(2), lane]);
            const h = api.size([0, 1])[1]! * 0.6;
            const p = params as { coordSys: { x: number; y: number; width: number; height: number } };
            const x = Math.max(a[0]!, p.coordSys.x);
            const w = Math.min(z[0]!, p.coordSys.x + p.coordSys.width) - x;
            if (w <= 0) return null;
            return { type: 'rect', shape: { x, y: a[1]! - h / 2, width: Math.max(w, 1), height: h }, style: api.style() };
          },
        },
      ],
    };
  }, [lanes]);

  const shownCount = lanes?.filter((l) => l.events.length > 0).length ?? 0;
  return (
    <div class="view">
      <div class="toolbar" role="toolbar" aria-label="Day">
        <button aria-label="Previous day" onClick={() => setRange(shift(range, -1))}>
          ‹
        </button>
        <button onClick={() => setRange(rangeAround('day', dayOf(new Date(), sod)))}>Today</button>
        <button aria-label="Next day" onClick={() => setRange(shift(range, 1))}>
          ›
        </button>
        <input type="date" aria-label="Date" value={range.from} onChange={(e) => e.currentTarget.value && setRange(rangeAround('day', e.currentTarget.value))} />
        <h2 class="range-title">{describe(range)}</h2>
        <div class="seg" role="group" aria-label="Zoom">
          <button aria-label="Zoom in" onClick={() => zoom(0.5)}>
            +
          </button>
          <button aria-label="Zoom out" onClick={() => zoom(2)}>
            −
          </button>
          <button aria-label="Earlier" onClick={() => zoom(1, -0.5)}>
            ◀
          </button>
          <button aria-label="Later" onClick={() => zoom(1, 0.5)}>
            ▶
          </button>
        </div>
        {visible && option && (
          <span data-testid="visible-window">
            {formatTime(new Date(visible[0]))} – {formatTime(new Date(visible[1]))}
          </span>
        )}
        <span class="hint">Scroll to zoom, drag to pan, hover for details.</span>
      </div>
      <ErrorBox error={error} />
      {!lanes && !error && <Loading />}
      {lanes && shownCount === 0 && <Empty>Nothing recorded on this day. Try another day, or see Status to check the watchers.</Empty>}
      {option && shownCount > 0 && (
        <section class="card" data-testid="timeline">
          <Chart option={option} height={90 + shownCount * 44} label="Timeline of every bucket" instance={chart} onZoom={onZoom} />
        </section>
      )}
    </div>
  );
}
