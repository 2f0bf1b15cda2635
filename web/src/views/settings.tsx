import { useEffect, useMemo, useState } from 'preact/hooks';
import { canonicalEvents } from '../../../src/query/webui';
import { api, type AwEvent } from '../api';
import { categoriesOf, defaultCategories, queryRules, regexError, type Category } from '../categories';
import { formatDuration } from '../format';
import { period } from '../range';
import { hosts, saveSetting, themeSetting, useStore } from '../store';
import { activityBuckets } from './activity';
import { Empty, ErrorBox } from './common';
import { PauseControls } from './status';

const SEP = ' > ';

export function SettingsView() {
  const s = useStore();
  return (
    <div class="view settings">
      <h2>Settings</h2>
      <ErrorBox error={s.settingsError} />
      <GeneralSettings />
      <CategoryEditor />
      <section class="card">
        <h3>Privacy</h3>
        <p>Pause recording for a while, or until you resume. Nothing is stored while paused.</p>
        <PauseControls />
        <p class="hint">
          Rules that drop or redact events (by app, title, URL) live in the config file under <code>privacy.rules</code>; <code>sundial forget</code> removes what
          was recorded. See docs/config.md.
        </p>
      </section>
    </div>
  );
}

function GeneralSettings() {
  const s = useStore();
  const [sod, setSod] = useState(String(s.settings?.startOfDay ?? '04:00'));
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const save = (k: string, v: unknown, what: string) =>
    saveSetting(k, v).then(
      () => (setMsg(`${what} saved.`), setError(null)),
      (e: Error) => setError(e.message),
    );
  return (
    <section class="card">
      <h3>General</h3>
      <div class="form-row">
        <label for="sod">Start of day</label>
        <input id="sod" type="time" value={sod} onChange={(e) => setSod(e.currentTarget.value)} />
        <button onClick={() => void save('startOfDay', sod, 'Start of day')} disabled={!/^\d\d:\d\d$/.test(sod)}>
          Save
        </button>
        <span class="hint">A day runs from this time to the same time the next day (e.g. 04:00 keeps late nights on the day they belong to).</span>
      </div>
      <div class="form-row">
        <label for="sow">Weeks start on</label>
        <select id="sow" value={s.settings?.startOfWeek === 'Sunday' ? 'Sunday' : 'Monday'} onChange={(e) => void save('startOfWeek', e.currentTarget.value, 'Start of week')}>
          <option>Monday</option>
          <option>Sunday</option>
        </select>
      </div>
      <div class="form-row">
        <label for="theme">Theme</label>
        <select id="theme" value={themeSetting()} onChange={(e) => void save('theme', e.currentTarget.value, 'Theme')}>
          <option value="auto">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </div>
      <ErrorBox error={error} />
      {msg && (
        <div class="notice" role="status">
          {msg}
        </div>
      )}
    </section>
  );
}

interface Row {
  key: number;
  name: string;
  type: 'regex' | 'none';
  regex: string;
  ignoreCase: boolean;
  color?: string;
}

const toRows = (cats: Category[]): Row[] =>
  cats
    .filter((c) => c.rule.type !== null || c.name.join() !== 'Uncategorized')
    .map((c, i) => ({ key: i, name: c.name.join(SEP), type: c.rule.type === 'regex' ? 'regex' : 'none', regex: c.rule.regex ?? '', ignoreCase: !!c.rule.ignore_case, color: c.data?.color }));

const toCategories = (rows: Row[]): Category[] =>
  rows.map((r, i) => ({
    id: i + 1,
    name: r.name.split('>').map((x) => x.trim()).filter(Boolean),
    rule: r.type === 'regex' ? { type: 'regex', regex: r.regex, ...(r.ignoreCase ? { ignore_case: true } : {}) } : { type: 'none' },
    ...(r.color ? { data: { color: r.color } } : {}),
  }));

function CategoryEditor() {
  const s = useStore();
  const [rows, setRows] = useState<Row[]>(() => toRows(categoriesOf(s.settings)));
  const [selected, setSelected] = useState<number | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  let nextKey = Math.max(0, ...rows.map((r) => r.key)) + 1;
  const problems = rows.map((r) => (r.name.trim() === '' ? 'needs a name' : r.type === 'regex' ? regexError(r.regex) : null));
  const dirty = JSON.stringify(toCategories(rows)) !== JSON.stringify(toCategories(toRows(categoriesOf(s.settings))));
  const update = (key: number, patch: Partial<Row>) => setRows(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  const save = () =>
    saveSetting('classes', toCategories(rows)).then(
      () => (setMsg('Categories saved.'), setError(null)),
      (e: Error) => setError(e.message),
    );

  return (
    <section class="card">
      <h3>Categories</h3>
      <p class="hint">
        A category matches window titles and app names by regular expression; the deepest matching category wins. Name sub-categories as <code>Work &gt; Programming</code>. Shared with ActivityWatch's web UI (setting <code>classes</code>).
      </p>
      <div class="table-wrap">
        <table class="cats" data-testid="category-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Rule</th>
              <th>Pattern</th>
              <th>Ignore case</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.key} data-category={r.name} class={selected === r.key ? 'selected' : ''} onFocusIn={() => setSelected(r.key)}>
                <td>
                  <input aria-label="Category name" value={r.name} onInput={(e) => update(r.key, { name: e.currentTarget.value })} />
                </td>
                <td>
                  <select aria-label="Rule type" value={r.type} onChange={(e) => update(r.key, { type: e.currentTarget.value as Row['type'] })}>
                    <option value="regex">Regex</option>
                    <option value="none">None</option>
                  </select>
                </td>
                <td>
                  {r.type === 'regex' && (
                    <>
                      <input
                        aria-label="Pattern"
                        class={problems[i] ? 'invalid' : ''}
                        aria-invalid={!!problems[i]}
                        value={r.regex}
                        spellcheck={false}
                        onInput={(e) => update(r.key, { regex: e.currentTarget.value })}
                      />
                      {problems[i] && <div class="field-error">{problems[i]}</div>}
                    </>
                  )}
                  {r.type !== 'regex' && problems[i] && <div class="field-error">{problems[i]}</div>}
                </td>
                <td>{r.type === 'regex' && <input type="checkbox" aria-label="Ignore case" checked={r.ignoreCase} onChange={(e) => update(r.key, { ignoreCase: e.currentTarget.checked })} />}</td>
                <td>
                  <button class="small" aria-label={`Remove ${r.name}`} onClick={() => setRows(rows.filter((x) => x.key !== r.key))}>
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="toolbar">
        <button onClick={() => (setRows([...rows, { key: nextKey++, name: '', type: 'regex', regex: '', ignoreCase: false }]), setSelected(nextKey - 1))}>Add category</button>
        <button class="primary" disabled={!dirty || problems.some(Boolean)} onClick={() => void save()}>
          Save categories
        </button>
        <button onClick={() => setRows(toRows(categoriesOf(s.settings)))} disabled={!dirty}>
          Undo changes
        </button>
        <button onClick={() => setRows(toRows(defaultCategories()))}>Reset to defaults</button>
        {problems.some(Boolean) && <span class="field-error">Fix the marked rules to save.</span>}
      </div>
      <ErrorBox error={error} />
      {msg && !dirty && (
        <div class="notice" role="status">
          {msg}
        </div>
      )}
      <RulePreview row={rows.find((r) => r.key === selected) ?? null} valid={selected !== null && !problems[rows.findIndex((r) => r.key === selected)]} />
    </section>
  );
}

/** What the selected rule matches in the last 7 days, refreshed as it is typed. */
function RulePreview(props: { row: Row | null; valid: boolean }) {
  const s = useStore();
  const [out, setOut] = useState<{ top: AwEvent[]; duration: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const host = useMemo(() => hosts(s.buckets ?? [], s.info?.hostname)[0], [s.buckets, s.info]);
  const found = useMemo(() => (host && s.buckets ? activityBuckets(s.buckets, host) : null), [s.buckets, host]);
  const r = props.row;
  const rule = r && r.type === 'regex' && props.valid ? queryRules(toCategories([{ ...r, name: 'preview' }]))[0]![1] : null;
  const key = JSON.stringify(rule);
  useEffect(() => {
    if (!rule || !found?.win || !found.afk) return setOut(null);
    let stale = false;
    const t = setTimeout(() => {
      const end = new Date();
      const start = new Date(end.getTime() - 7 * 86_400_000);
      const q = [
        ...canonicalEvents({ windowBucket: found.win!.id, afkBucket: found.afk!.id, browserBuckets: found.browserBuckets, categories: [[['preview'], rule]] }),
        `events = filter_keyvals(events, "$category", [["preview"]]);`,
        `RETURN = {"top": limit_events(sort_by_duration(merge_events_by_keys(events, ["app", "title"])), 8), "duration": sum_durations(events)};`,
      ];
      api.query<{ top: AwEvent[]; duration: number }>([period(start, end)], q).then(
        ([res]) => !stale && (setOut(res!), setError(null)),
        (e: Error) => !stale && setError(e.message),
      );
    }, 300);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [key, found]);
  if (!r) return <p class="hint">Select a rule to preview what it matches in the last 7 days.</p>;
  if (r.type !== 'regex') return <p class="hint">“{r.name}” has no rule of its own; it groups its sub-categories.</p>;
  return (
    <div class="preview" data-testid="rule-preview" aria-live="polite">
      <h4>
        “{r.name || 'new rule'}” in the last 7 days{out ? `: ${formatDuration(out.duration)}` : ''}
      </h4>
      <ErrorBox error={error} />
      {!found?.win && <Empty>No window data to preview against yet.</Empty>}
      {out && out.top.length === 0 && <Empty>Matches nothing in the last 7 days (taken alone, before deeper categories).</Empty>}
      {out && out.top.length > 0 && (
        <ul>
          {out.top.map((e, i) => (
            <li key={i}>
              <span class="dur">{formatDuration(e.duration)}</span> {String(e.data.app)} — {String(e.data.title)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
