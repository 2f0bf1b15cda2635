import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';

/**
 * The Activity view's two charts, drawn as SVG by Preact itself. A chart library's first draw in a
 * fresh page cost more than the rest of the view (≈ 70 ms to run its module and ≈ 200 ms to compile
 * its drawing code, on the critical path of every cold load); a few dozen rectangles and arcs cost a
 * millisecond. The timeline, which needs zoom and pan, keeps ECharts (chart.tsx).
 */

/** The container's width in CSS pixels, known before the first paint and kept current on resize. */
function useWidth(el: { current: HTMLElement | null }): number {
  const [w, setW] = useState(0);
  useLayoutEffect(() => {
    const node = el.current;
    if (!node) return;
    setW(node.clientWidth);
    const ro = new ResizeObserver(() => setW(node.clientWidth));
    ro.observe(node);
    return () => ro.disconnect();
  }, []);
  return w;
}

/**
 * Marks the chart's div `data-drawn` (ms since navigation) once it has drawn for the current data,
 * which is what the browser tests and the UI benchmark wait for. An effect runs after the commit
 * that put the shapes in the document.
 */
function useDrawnMark(el: { current: HTMLElement | null }, drawn: boolean, ...data: unknown[]) {
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    if (drawn) node.setAttribute('data-drawn', String(Math.round(performance.now())));
    else node.removeAttribute('data-drawn');
  }, [drawn, ...data]);
}

/** A floating box near the pointer, inside the chart's div. */
function Tip(props: { at: { x: number; y: number } | null; width: number; children: ComponentChildren }) {
  if (!props.at) return null;
  // Flip to the pointer's left in the right half, so the box stays inside the chart.
  const left = props.at.x > props.width / 2;
  const style = left ? { right: `${props.width - props.at.x + 12}px`, top: `${props.at.y + 12}px` } : { left: `${props.at.x + 12}px`, top: `${props.at.y + 12}px` };
  return (
    <div class="plot-tip" role="tooltip" style={style}>
      {props.children}
    </div>
  );
}

/** The item an arrow key (or Home/End) moves to from `cur` among `n`; null for any other key. */
function stepped(key: string, cur: number | null, n: number): number | null {
  if (n === 0) return null;
  if (key === 'Home') return 0;
  if (key === 'End') return n - 1;
  if (key === 'ArrowRight' || key === 'ArrowDown') return cur === null ? 0 : Math.min(n - 1, cur + 1);
  if (key === 'ArrowLeft' || key === 'ArrowUp') return cur === null ? n - 1 : Math.max(0, cur - 1);
  return null;
}

const pointer = (e: MouseEvent, node: Element) => {
  const r = node.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
};

export interface BarSeries {
  name: string;
  color: string;
  /** One value per label. */
  values: number[];
}

const PAD = { left: 56, right: 12, top: 8, bottom: 24 };

/**
 * Stacked bars, one per label, with a legend, value ticks every `interval` up to `max` (or the
 * tallest bar) and, on hover, each series' value in the bar under the pointer.
 */
export function StackedBars(props: { labels: string[]; series: BarSeries[]; height: number; interval: number; max?: number; format: (v: number) => string; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const width = useWidth(el);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const { labels, series, height, interval } = props;
  const totals = useMemo(() => labels.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0)), [labels, series]);
  const top = props.max ?? Math.max(interval, Math.ceil(Math.max(0, ...totals) / interval) * interval);
  const plotW = Math.max(0, width - PAD.left - PAD.right);
  const plotH = height - PAD.top - PAD.bottom;
  const band = labels.length > 0 ? plotW / labels.length : 0;
  const barW = Math.max(1, band * 0.6);
  const y = (v: number) => PAD.top + plotH - (Math.min(v, top) / top) * plotH;
  const ticks: number[] = [];
  for (let v = 0; v <= top + 1e-9; v += interval) ticks.push(v);
  // Labels thin out so they never overlap: at most one per ≈ 44 px.
  const every = Math.max(1, Math.ceil(44 / Math.max(1, band)));
  useDrawnMark(el, width > 0, labels, series);

  const onMove = (e: MouseEvent) => {
    const p = pointer(e, e.currentTarget as Element);
    const i = Math.floor((p.x - PAD.left) / band);
    setHover(band > 0 && i >= 0 && i < labels.length && p.y >= PAD.top && p.y <= PAD.top + plotH ? { i, ...p } : null);
  };
  // The keyboard's hover: arrows move from bar to bar.
  const onKey = (e: KeyboardEvent) => {
    const i = stepped(e.key, hover?.i ?? null, labels.length);
    if (i === null) return;
    e.preventDefault();
    setHover({ i, x: PAD.left + (i + 0.5) * band, y: PAD.top + plotH / 3 });
  };
  return (
    <div class="plot">
      <ul class="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span class="swatch" style={{ background: s.color }} />
            {s.name}
          </li>
        ))}
      </ul>
      <div ref={el} class="chart" role="img" tabIndex={0} aria-label={`${props.label} (arrow keys: each bar's figures)`} style={{ height: `${height}px` }} onMouseMove={onMove} onMouseLeave={() => setHover(null)} onKeyDown={onKey} onBlur={() => setHover(null)}>
        {width > 0 && (
          <svg width={width} height={height} aria-hidden="true">
            {ticks.map((v) => (
              <g key={v} class="tick">
                <line x1={PAD.left} x2={PAD.left + plotW} y1={y(v)} y2={y(v)} />
                <text x={PAD.left - 6} y={y(v)} dy="0.32em" text-anchor="end">
                  {props.format(v)}
                </text>
              </g>
            ))}
            {hover && <rect class="hover-band" x={PAD.left + hover.i * band} y={PAD.top} width={band} height={plotH} />}
            {labels.map((l, i) => {
              let acc = 0;
              const x = PAD.left + i * band + (band - barW) / 2;
              return (
                <g key={l}>
                  {series.map((s) => {
                    const v = s.values[i] ?? 0;
                    if (v <= 0) return null;
                    const y0 = y(acc), y1 = y((acc += v));
                    return <rect key={s.name} x={x} y={y1} width={barW} height={Math.max(0, y0 - y1)} fill={s.color} />;
                  })}
                  {i % every === 0 && (
                    <text class="axis" x={PAD.left + (i + 0.5) * band} y={height - 6} text-anchor="middle">
                      {l}
                    </text>
                  )}
                </g>
              );
            })}
            <line class="axis-line" x1={PAD.left} x2={PAD.left + plotW} y1={PAD.top + plotH} y2={PAD.top + plotH} />
          </svg>
        )}
        <Tip at={hover} width={width}>
          {hover && (
            <>
              <strong>{labels[hover.i]}</strong>
              {series
                .filter((s) => (s.values[hover.i] ?? 0) > 0)
                .map((s) => (
                  <div key={s.name}>
                    <span class="swatch" style={{ background: s.color }} />
                    {s.name}: {props.format(s.values[hover.i]!)}
                  </div>
                ))}
              <div>Total: {props.format(totals[hover.i] ?? 0)}</div>
            </>
          )}
        </Tip>
      </div>
    </div>
  );
}

export interface SunNode {
  name: string;
  value: number;
  color: string;
  children: SunNode[];
}

interface Arc {
  path: string[];
  value: number;
  color: string;
  depth: number;
  a0: number;
  a1: number;
}

/** Each node as an arc: its share of its parent's angle, in the ring of its depth. */
function arcsOf(roots: SunNode[]): { arcs: Arc[]; depth: number } {
  const total = roots.reduce((a, n) => a + n.value, 0);
  const arcs: Arc[] = [];
  let depth = 0;
  const walk = (nodes: SunNode[], path: string[], a0: number, perValue: number, d: number) => {
    if (nodes.length > 0) depth = Math.max(depth, d + 1);
    let a = a0;
    for (const n of nodes) {
      const a1 = a + n.value * perValue;
      arcs.push({ path: [...path, n.name], value: n.value, color: n.color, depth: d, a0: a, a1 });
      walk(n.children, [...path, n.name], a, perValue, d + 1);
      a = a1;
    }
  };
  if (total > 0) walk(roots, [], 0, (2 * Math.PI) / total, 0);
  return { arcs, depth };
}

/** An annular sector as an SVG path, angles clockwise from twelve o'clock. */
function sector(cx: number, cy: number, r0: number, r1: number, a0: number, a1: number): string {
  // A full ring cannot be one arc (its ends coincide): draw it as two halves.
  if (a1 - a0 >= 2 * Math.PI - 1e-9) return sector(cx, cy, r0, r1, a0, a0 + Math.PI) + sector(cx, cy, r0, r1, a0 + Math.PI, a1);
  const pt = (r: number, a: number) => `${(cx + r * Math.sin(a)).toFixed(2)} ${(cy - r * Math.cos(a)).toFixed(2)}`;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return `M${pt(r1, a0)}A${r1} ${r1} 0 ${large} 1 ${pt(r1, a1)}L${pt(r0, a1)}A${r0} ${r0} 0 ${large} 0 ${pt(r0, a0)}Z`;
}

const OPACITY = [1, 0.72, 0.5, 0.4];
/** Arcs narrower than this carry no label. */
const LABEL_MIN_ANGLE = (18 * Math.PI) / 180;

/**
 * Nested rings: top categories inside, sub-categories outside, each arc's angle its share of the
 * whole. Hover shows the path and its time.
 */
export function Sunburst(props: { data: SunNode[]; height: number; format: (v: number) => string; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const width = useWidth(el);
  const [hover, setHover] = useState<{ arc: Arc; x: number; y: number } | null>(null);
  const { arcs, depth } = useMemo(() => arcsOf(props.data), [props.data]);
  const h = props.height;
  const cx = width / 2, cy = h / 2;
  const outer = (Math.min(width, h) / 2) * 0.95, inner = (Math.min(width, h) / 2) * 0.12;
  const ring = depth > 0 ? (outer - inner) / depth : 0;
  useDrawnMark(el, width > 0, props.data);
  const onKey = (e: KeyboardEvent) => {
    const i = stepped(e.key, hover ? arcs.indexOf(hover.arc) : null, arcs.length);
    if (i === null) return;
    e.preventDefault();
    const a = arcs[i]!, mid = (a.a0 + a.a1) / 2, r = inner + (a.depth + 0.5) * ring;
    setHover({ arc: a, x: cx + r * Math.sin(mid), y: cy - r * Math.cos(mid) });
  };
  return (
    <div ref={el} class="chart" role="img" tabIndex={0} aria-label={`${props.label} (arrow keys: each category's time)`} style={{ height: `${h}px` }} onMouseLeave={() => setHover(null)} onKeyDown={onKey} onBlur={() => setHover(null)}>
      {width > 0 && (
        <svg width={width} height={h} aria-hidden="true">
          {arcs.map((a) => {
            const r0 = inner + a.depth * ring, r1 = r0 + ring;
            const mid = (a.a0 + a.a1) / 2, rm = (r0 + r1) / 2;
            // Text along the radius, turned to read left to right on either side.
            const deg = (mid * 180) / Math.PI;
            const rot = mid < Math.PI ? deg - 90 : deg + 90;
            const fits = Math.max(1, Math.floor((ring - 8) / 6.5));
            const name = a.path[a.path.length - 1]!;
            return (
              <g key={a.path.join('\u0000')} onMouseMove={(e) => setHover({ arc: a, ...pointer(e, el.current!) })}>
                <path d={sector(cx, cy, r0, r1, a.a0, a.a1)} fill={a.color} fill-opacity={OPACITY[Math.min(a.depth, OPACITY.length - 1)]} class={hover?.arc === a ? 'arc on' : 'arc'} />
                {a.a1 - a.a0 >= LABEL_MIN_ANGLE && (
                  <text class="arc-label" transform={`translate(${cx + rm * Math.sin(mid)} ${cy - rm * Math.cos(mid)}) rotate(${rot})`} text-anchor="middle" dy="0.32em">
                    {name.length > fits ? `${name.slice(0, Math.max(1, fits - 1))}…` : name}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      )}
      <Tip at={hover} width={width}>
        {hover && `${hover.arc.path.join(' › ')}: ${props.format(hover.arc.value)}`}
      </Tip>
    </div>
  );
}
