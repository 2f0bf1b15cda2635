import { useEffect, useState } from 'preact/hooks';
import { ctl, type ChildStatus, type DaemonStatus } from '../api';
import { formatDateTime, formatDuration } from '../format';
import { ErrorBox, Loading } from './common';

/** A probe's reason, said so that a person knows what is wrong and what to do. */
export function explainProbe(reason: string): string {
  if (/no graphical session/i.test(reason))
    return 'No graphical session: the daemon was started without a display (over SSH, or as a system service). Start Sundial from your desktop session (e.g. as a user service), or set DISPLAY / WAYLAND_DISPLAY.';
  if (/Wayland session .*no probe for it/i.test(reason))
    return 'This Wayland compositor has no built-in probe (Sundial knows sway and other i3-IPC compositors, Hyprland, KDE Plasma and GNOME). Use a watcher made for it, pointed at this daemon, or force one with watchers.probe.';
  if (/Focused Window D-Bus/i.test(reason)) return reason;
  if (/SCREEN-SAVER/i.test(reason)) return 'The X server has no screen-saver extension, so idle time cannot be measured.';
  if (/connection lost|probe closed/i.test(reason)) return 'The connection to the display was lost (the session ended?). The watcher retries by itself.';
  if (/no probe for platform/i.test(reason)) return 'There is no built-in watcher for this operating system; use ActivityWatch watchers pointed at this daemon.';
  if (/libraries|ffi/i.test(reason)) return 'The system libraries the watcher needs could not be loaded.';
  return reason;
}

/** Watchers whose probe is unavailable, grouped by reason (both usually share one). */
function unavailable(watchers: ChildStatus[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const w of watchers) if (typeof w.info.unavailable === 'string') by.set(w.info.unavailable, [...(by.get(w.info.unavailable) ?? []), w.name]);
  return [...by];
}

const WHAT: Record<string, string> = {
  bus: 'message bus (nats-server): carries heartbeats from watchers',
  storage: 'database writer',
  queue: 'heartbeat queue: holds heartbeats until they are stored',
  http: 'web UI and REST API',
  jobs: 'scheduled upkeep: nightly backup, weekly optimize, log pruning',
  'watchers-outbox': "the watchers' writes, kept on disk until the bus takes them",
  sync: 'multi-device sync (end-to-end encrypted)',
  'watcher-afk': 'AFK watcher: are you at the computer?',
  'watcher-window': 'window watcher: which app and title is focused',
};

export function StatusView() {
  const [st, setSt] = useState<DaemonStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const refresh = () =>
    ctl.status().then(
      (x) => (setSt(x), setError(null)),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 2000);
    return () => clearInterval(t);
  }, []);
  const act = async (name: string, action: 'restart' | 'stop' | 'start') => {
    setBusy(`${name}:${action}`);
    try {
      await ctl.child(name, action);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
      void refresh();
    }
  };
  if (!st && !error) return <Loading />;
  const watchers = st?.children.filter((c) => c.name.startsWith('watcher-')) ?? [];
  const depth = st?.queue?.depth;
  return (
    <div class="view">
      <h2>Status</h2>
      <ErrorBox error={error && `Cannot read the daemon's status: ${error}`} />
      {st && (
        <>
          <div class="cards">
            <div class="card stat">
              <span class="stat-label">Daemon</span>
              <span class="stat-value">up {formatDuration(st.uptimeMs / 1000)}</span>
              <span class="hint">
                v{st.version} · pid {st.pid}
              </span>
            </div>
            <div class="card stat" data-testid="bus">
              <span class="stat-label">Bus</span>
              <span class={`stat-value ${st.bus.connected ? 'ok' : 'bad'}`}>{st.bus.connected ? 'connected' : 'disconnected'}</span>
              <span class="hint">{st.bus.mode === 'embedded' ? 'embedded nats-server' : `external: ${st.bus.url}`}</span>
            </div>
            <div class="card stat" data-testid="queue">
              <span class="stat-label">Heartbeat queue</span>
              <span class="stat-value">{typeof depth === 'number' ? `${depth.toLocaleString()} waiting` : '—'}</span>
              <span class="hint">{String(st.queue?.mode ?? '')}</span>
            </div>
            <div class="card stat" data-testid="recording">
              <span class="stat-label">Recording</span>
              <span class={`stat-value ${st.paused.paused ? 'bad' : 'ok'}`}>{st.paused.paused ? 'paused' : 'on'}</span>
              <span class="hint">{st.paused.paused ? (st.paused.until ? `until ${formatDateTime(new Date(st.paused.until))}` : 'until resumed') : ''}</span>
            </div>
          </div>
          <section class="card">
            <h3>Recording</h3>
            <PauseControls status={st} onChange={refresh} />
          </section>
          {watchers.length === 0 && (
            <div class="notice">
              The built-in watchers are off (config <code>watchers.enabled</code>); only data sent by other watchers over the REST API or the bus is recorded.
            </div>
          )}
          {unavailable(watchers).map(([reason, names]) => (
            <div class="warn" role="status" key={reason}>
              <b>{names.join(', ')}: unavailable.</b> {explainProbe(reason)}
            </div>
          ))}
          <section class="card table-wrap">
            <h3>Supervised parts</h3>
            <table data-testid="children">
              <thead>
                <tr>
                  <th>Part</th>
                  <th>State</th>
                  <th class="num">Restarts</th>
                  <th>Uptime</th>
                  <th>Last error</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {st.children.map((c) => (
                  <ChildRow key={c.name} c={c} busy={busy} act={act} />
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </div>
  );
}

function ChildRow(props: { c: ChildStatus; busy: string | null; act: (n: string, a: 'restart' | 'stop' | 'start') => void }) {
  const { c } = props;
  const running = c.state === 'running' || c.state === 'starting';
  const b = (a: 'restart' | 'stop' | 'start', label: string, disabled: boolean) => (
    <button class="small" disabled={disabled || props.busy !== null} aria-label={`${label} ${c.name}`} onClick={() => props.act(c.name, a)}>
      {props.busy === `${c.name}:${a}` ? '…' : label}
    </button>
  );
  return (
    <tr data-child={c.name}>
      <td>
        <b>{c.name}</b>
        <div class="hint">{WHAT[c.name] ?? (c.name.startsWith('plugin-') ? 'plugin process' : '')}</div>
      </td>
      <td>
        <span class={`state state-${c.state}`} data-testid="state">
          {c.state}
        </span>
        {typeof c.info.unavailable === 'string' && <div class="hint">probe unavailable</div>}
      </td>
      <td class="num" data-testid="restarts">
        {c.restarts}
      </td>
      <td data-testid="uptime" data-ms={c.uptimeMs ?? ''}>
        {c.uptimeMs === null ? '—' : formatDuration(c.uptimeMs / 1000)}
      </td>
      <td class="lasterr">{c.lastError ?? ''}</td>
      <td class="actions">
        {b('restart', 'Restart', false)}
        {running ? b('stop', 'Stop', c.name === 'http') : b('start', 'Start', false)}
      </td>
    </tr>
  );
}

/** Pause recording for a duration or until resumed; resume. */
export function PauseControls(props: { status?: DaemonStatus; onChange?: () => void }) {
  const [minutes, setMinutes] = useState('30');
  const [paused, setPaused] = useState<DaemonStatus['paused'] | null>(props.status?.paused ?? null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (props.status) setPaused(props.status.paused);
    else ctl.status().then((s) => setPaused(s.paused), (e: Error) => setError(e.message));
  }, [props.status]);
  const run = async (p: Promise<unknown>) => {
    try {
      setPaused((await p) as DaemonStatus['paused']);
      setError(null);
      props.onChange?.();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div class="toolbar">
      {paused?.paused ? (
        <>
          <span>Paused {paused.until ? `until ${formatDateTime(new Date(paused.until))}` : 'until resumed'}.</span>
          <button class="primary" onClick={() => void run(ctl.resume())}>
            Resume recording
          </button>
        </>
      ) : (
        <>
          <label>
            Pause for{' '}
            <select value={minutes} onChange={(e) => setMinutes(e.currentTarget.value)} aria-label="Pause duration">
              <option value="15">15 minutes</option>
              <option value="30">30 minutes</option>
              <option value="60">1 hour</option>
              <option value="240">4 hours</option>
              <option value="0">until I resume</option>
            </select>
          </label>
          <button onClick={() => void run(ctl.pause(Number(minutes) || null))}>Pause recording</button>
        </>
      )}
      <ErrorBox error={error} />
    </div>
  );
}
