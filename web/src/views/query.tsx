import { useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { categoriesOf, queryRules } from '../categories';
import { formatDateTime, formatDuration } from '../format';
import { bounds, dayOf, parseStartOfDay, period, rangeAround, weekStartOf } from '../range';
import { useStore } from '../store';
import { Empty, ErrorBox } from './common';

const HISTORY_KEY = 'sundial.queries';
const DEFAULT_QUERY = `afk_events = query_bucket(find_bucket("aw-watcher-afk_"));
window_events = query_bucket(find_bucket("aw-watcher-window_"));
window_events = filter_period_intersect(window_events, filter_keyvals(afk_events, "status", ["not-afk"]));
merged_events = merge_events_by_keys(window_events, ["app", "title"]);
merged_events = categorize(merged_events, __CATEGORIES__);
RETURN = sort_by_duration(merged_events);`;

const history = (): string[] => {
  try {
    const h = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(h) ? h.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};

/** "… at line 3, column 7" → {line, col}. */
function position(message: string): { line: number; col: number } | null {
  const m = /at line (\d+), column (\d+)/.exec(message);
  return m ? { line: Number(m[1]), col: Number(m[2]) } : null;
}

export function QueryView() {
  const s = useStore();
  const sod = parseStartOfDay(s.settings?.startOfDay ?? '04:00');
  const [text, setText] = useState(() => history()[0] ?? DEFAULT_QUERY);
  const today = dayOf(new Date(), sod);
  const [from, setFrom] = useState(rangeAround('week', today, weekStartOf(s.settings?.startOfWeek)).from);
  const [to, setTo] = useState(today);
  const [result, setResult] = useState<unknown[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asJson, setAsJson] = useState(false);
  const [running, setRunning] = useState(false);
  const [saved, setSaved] = useState(history);
  const editor = useRef<HTMLTextAreaElement>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    const h = [text, ...saved.filter((q) => q !== text)].slice(0, 20);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(h));
    setSaved(h);
    const cats = JSON.stringify(queryRules(categoriesOf(s.settings)));
    const b = bounds({ mode: 'custom', from, to }, sod);
    try {
      // One element: line and column numbers in errors then refer to the editor's text.
      setResult(await api.query([period(b.start, b.end)], [text.replaceAll('__CATEGORIES__', cats)]));
    } catch (e) {
      setResult(null);
      const msg = (e as Error).message;
      setError(msg);
      const pos = position(msg);
      const ta = editor.current;
      if (pos && ta) {
        const lines = text.split('\n');
        const off = lines.slice(0, pos.line - 1).reduce((a, l) => a + l.length + 1, 0) + pos.col - 1;
        ta.focus();
        ta.setSelectionRange(off, off + 1);
      }
    } finally {
      setRunning(false);
    }
  };

  const pos = error ? position(error) : null;
  const errLine = pos ? text.split('\n')[pos.line - 1] : undefined;
  return (
    <div class="view">
      <div class="toolbar">
        <h2>Query explorer</h2>
        <label>
          From <input type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          to <input type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
        {saved.length > 0 && (
          <label>
            Recent{' '}
            <select aria-label="Recent queries" onChange={(e) => e.currentTarget.value && setText(e.currentTarget.value)}>
              <option value="">—</option>
              {saved.map((q, i) => (
                <option key={i} value={q}>
                  {q.replace(/\s+/g, ' ').slice(0, 60)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <textarea
        ref={editor}
        class="editor"
        aria-label="Query"
        spellcheck={false}
        value={text}
        rows={Math.min(20, Math.max(6, text.split('\n').length + 1))}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void run();
          }
        }}
      />
      <div class="toolbar">
        <button class="primary" onClick={() => void run()} disabled={running}>
          {running ? 'Running…' : 'Run'} <kbd>Ctrl+Enter</kbd>
        </button>
        <span class="hint">
          <code>__CATEGORIES__</code> stands for your categories.
        </span>
        <div class="seg">
          <button aria-pressed={!asJson} onClick={() => setAsJson(false)}>
            Table
          </button>
          <button aria-pressed={asJson} onClick={() => setAsJson(true)}>
            JSON
          </button>
        </div>
      </div>
      {error && (
        <div class="error" role="alert" data-testid="query-error">
          {pos && (
            <div class="errpos">
              Line {pos.line}, column {pos.col}
            </div>
          )}
          <div>{error}</div>
          {errLine !== undefined && (
            <pre class="errline">
              {errLine}
              {'\n'}
              {' '.repeat(Math.max(0, pos!.col - 1))}^
            </pre>
          )}
        </div>
      )}
      {result && (asJson ? <pre class="card json">{JSON.stringify(result[0], null, 2)}</pre> : <ResultTable value={result[0]} />)}
    </div>
  );
}

const isEvent = (v: unknown): v is { timestamp: string; duration: number; data: Record<string, unknown> } =>
  typeof v === 'object' && v !== null && 'timestamp' in v && 'duration' in v && 'data' in v;

function ResultTable(props: { value: unknown }) {
  const v = props.value;
  const keys = useMemo(() => (Array.isArray(v) && v.every(isEvent) ? [...new Set(v.flatMap((e) => Object.keys(e.data)))] : []), [v]);
  if (Array.isArray(v) && v.length === 0) return <Empty>The query returned an empty list.</Empty>;
  if (Array.isArray(v) && v.every(isEvent)) {
    const shown = v.slice(0, 1000);
    return (
      <div class="card table-wrap">
        <table data-testid="result-table">
          <thead>
            <tr>
              <th>Time</th>
              <th class="num">Duration</th>
              {keys.map((k) => (
                <th key={k}>{k}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((e, i) => (
              <tr key={i}>
                <td class="nowrap">{formatDateTime(e.timestamp)}</td>
                <td class="num">{formatDuration(e.duration)}</td>
                {keys.map((k) => (
                  <td key={k}>{typeof e.data[k] === 'object' ? JSON.stringify(e.data[k]) : String(e.data[k] ?? '')}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {v.length > shown.length && <p class="hint">Showing 1000 of {v.length} events; switch to JSON for all.</p>}
      </div>
    );
  }
  return <pre class="card json">{JSON.stringify(v, null, 2)}</pre>;
}
