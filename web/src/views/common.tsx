import type { ComponentChildren } from 'preact';
import { formatDuration } from '../format';

export function ErrorBox(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      {props.error}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function Loading() {
  return (
    <div class="loading" aria-live="polite">
      Loading…
    </div>
  );
}

/** A ranked list with bars proportional to the longest entry. */
export function TopList(props: { title: string; rows: { key: string; label: string; sub?: string; seconds: number; color?: string }[]; empty: ComponentChildren; testid: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.seconds));
  return (
    <section class="card toplist" data-testid={props.testid}>
      <h3>{props.title}</h3>
      {props.rows.length === 0 ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <ol>
          {props.rows.map((r) => (
            <li key={r.key} title={r.sub ? `${r.label}\n${r.sub}` : r.label}>
              <div class="bar" style={{ width: `${(100 * r.seconds) / max}%`, background: r.color }} />
              <span class="label">{r.label}</span>
              <span class="dur">{formatDuration(r.seconds)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
