import type { EChartsCoreOption, ECharts } from 'echarts/core';

export type { ECharts };
import { useEffect, useRef, useState } from 'preact/hooks';
import { useTheme } from './store';

export type ChartOption = EChartsCoreOption;

let library: Promise<typeof import('./echarts').echarts> | null = null;
/**
 * The chart library, run on first use. index.html preloads its file, so this only evaluates it —
 * which the Activity view does after it has sent its queries, so the library never delays them.
 */
function chartLibrary() {
  return (library ??= import('./echarts').then((m) => m.echarts));
}

/** Chart components rendered so far on this page. */
let charts = 0;
let primed = false;
/**
 * Loads the chart library and draws one throw-away chart of each kind the Activity view draws, off
 * screen, while the view waits for its data: in a fresh browser the first draw otherwise spends most
 * of its time compiling the library's drawing code (≈150 ms measured), after the data is there.
 */
export function primeCharts(): void {
  if (primed) return;
  primed = true;
  void chartLibrary().then((echarts) => {
    // The data came first: the real charts compile the code themselves, a rehearsal would only delay them.
    if (charts > 0) return;
    const el = document.createElement('div');
    el.style.cssText = 'position:fixed;left:-10000px;top:0;width:320px;height:240px;visibility:hidden';
    document.body.append(el);
    const c = echarts.init(el, undefined, { renderer: 'canvas' });
    try {
      c.setOption({
        animation: false,
        legend: { top: 0, type: 'scroll' },
        tooltip: { trigger: 'axis' },
        grid: { left: 40, right: 10, top: 28, bottom: 28 },
        xAxis: { type: 'category', data: ['a', 'b'] },
        yAxis: { type: 'value', axisLabel: { formatter: (v: number) => String(v) } },
        series: [
          { name: 'x', type: 'bar', stack: 's', data: [1, 2] },
          { name: 'y', type: 'bar', stack: 's', data: [2, 1] },
          { type: 'sunburst', radius: ['12%', '95%'], data: [{ name: 'x', value: 2, children: [{ name: 'z', value: 1 }] }], label: { minAngle: 18, overflow: 'truncate', width: 80 } },
        ],
      });
      c.getZr().refreshImmediately();
    } finally {
      c.dispose();
      el.remove();
    }
  });
}

/**
 * One ECharts instance on a div. Marks the div `data-drawn` once the current option is rendered,
 * which is what the browser tests and the UI benchmark wait for.
 */
export function Chart(props: { option: ChartOption; height: number; label: string; onClick?: (p: { name?: string; data?: unknown }) => void; instance?: { current: ECharts | null }; onZoom?: (c: ECharts) => void }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const theme = useTheme();
  const [ready, setReady] = useState(0);
  // Counted while rendering (before any effect), so a rehearsal still waiting for the library skips.
  useState(() => charts++);
  useEffect(() => {
    let c: ECharts | null = null;
    let ro: ResizeObserver | null = null;
    let gone = false;
    void chartLibrary().then((echarts) => {
      if (gone || !el.current) return;
      c = echarts.init(el.current, theme === 'dark' ? 'dark' : undefined, { renderer: 'canvas' });
      chart.current = c;
      if (props.instance) props.instance.current = c;
      ro = new ResizeObserver(() => c?.resize());
      ro.observe(el.current);
      setReady((n) => n + 1);
    });
    return () => {
      gone = true;
      ro?.disconnect();
      c?.dispose();
      chart.current = null;
      if (props.instance) props.instance.current = null;
    };
  }, [theme]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    el.current!.removeAttribute('data-drawn');
    c.off('finished');
    // The value is when (ms since the page's navigation started), for the UI benchmark.
    c.on('finished', () => el.current?.setAttribute('data-drawn', String(Math.round(performance.now()))));
    c.off('click');
    if (props.onClick) c.on('click', (p) => props.onClick!(p as { name?: string; data?: unknown }));
    // No entry animation: the figures are there the moment the data is (a chart that grows into place
    // only delays reading it).
    c.setOption({ backgroundColor: 'transparent', animation: false, ...props.option }, true);
    c.off('datazoom');
    if (props.onZoom) {
      const z = props.onZoom;
      c.on('datazoom', () => z(c));
      z(c);
    }
  }, [props.option, ready]);
  return <div ref={el} class="chart" role="img" aria-label={props.label} style={{ height: `${props.height}px` }} />;
}

// Grey is kept for "Uncategorized" (and AFK), so no category looks like it.
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

/** A stable colour per name (category, app, bucket). */
export function colorOf(name: string): string {
  if (name === 'Uncategorized') return '#9aa0a6';
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}
