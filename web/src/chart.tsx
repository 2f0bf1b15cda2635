import type { EChartsCoreOption, ECharts } from 'echarts/core';

export type { ECharts };
import { useEffect, useRef, useState } from 'preact/hooks';
import { useTheme } from './store';

export type ChartOption = EChartsCoreOption;

let library: Promise<typeof import('./echarts').echarts> | null = null;
/** The chart library (only the timeline uses it), fetched and run on first use. */
function chartLibrary() {
  return (library ??= import('./echarts').then((m) => m.echarts));
}

/**
 * One ECharts instance on a div. Marks the div `data-drawn` once the current option is rendered,
 * which is what the timeline's browser test waits for.
 */
export function Chart(props: { option: ChartOption; height: number; label: string; onClick?: (p: { name?: string; data?: unknown }) => void; instance?: { current: ECharts | null }; onZoom?: (c: ECharts) => void }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const theme = useTheme();
  const [ready, setReady] = useState(0);
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
