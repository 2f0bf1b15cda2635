import os from 'node:os';
import type { Logger } from '../../log.js';
import { InputError } from '../../model/errors.js';
import { US_PER_MS, type Micros } from '../../model/time.js';
import { UNKNOWN, type ActiveWindow, type ProbeFactory } from '../../platform/types.js';
import type { ChildSpec } from '../../supervisor/types.js';
import { pollingWatcherChild, systemClock, type Clock, type WatcherSink } from './runner.js';

export const WINDOW_CLIENT = 'aw-watcher-window';
export const WINDOW_TYPE = 'currentwindow';
export const EXCLUDED = 'excluded';

export interface WindowWatcherOptions {
  probeFactory: ProbeFactory;
  sink: WatcherSink;
  hostname?: string;
  /** Default 1 000 ms. */
  pollMs?: number;
  /** Replace every title by "excluded". */
  exclude_title?: boolean;
  /** Regexes searched case-insensitively in the title; a match replaces it by "excluded". */
  exclude_titles?: string[];
  retryMs?: number;
  /**
   * With a probe that counts its changes (X11), how long an unchanged answer is reused before the
   * window is read again anyway: the safety net for a missed event. Default 10 000 ms.
   */
  recheckMs?: number;
  clock?: Clock;
  log?: Logger;
  name?: string;
}

export const windowBucketId = (hostname: string): string => `${WINDOW_CLIENT}_${hostname}`;

/** Heartbeat pulsetime max(1.5 × poll, poll + 1 s), as aw-watcher-window sends. */
export const windowPulsetime = (pollMs: number): Micros => Math.round(Math.max(1.5 * pollMs, pollMs + 1_000) * US_PER_MS);

/** Compiles the title exclusion once; an invalid pattern is a configuration error. */
export function titleFilter(cfg: { exclude_title?: boolean; exclude_titles?: string[] }): (title: string) => string {
  if (cfg.exclude_title) return () => EXCLUDED;
  const res = (cfg.exclude_titles ?? []).map((p) => {
    try {
      return new RegExp(p, 'i');
    } catch (err) {
      throw new InputError(`exclude_titles: invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}`);
    }
  });
  if (res.length === 0) return (t) => t;
  return (t) => (res.some((re) => re.test(t)) ? EXCLUDED : t);
}

/** {app, title} as stored: "unknown" for parts the platform could not give, exclusion applied. */
export function windowData(w: ActiveWindow, filter: (title: string) => string): { app: string; title: string } {
  const app = typeof w.app === 'string' && w.app !== '' ? w.app : UNKNOWN;
  const title = typeof w.title === 'string' ? w.title : UNKNOWN;
  return { app, title: filter(title) };
}

/** The window watcher as a supervised child (bucket `aw-watcher-window_<host>`, type `currentwindow`). */
export function windowWatcherChild(opts: WindowWatcherOptions): ChildSpec {
  const pollMs = opts.pollMs ?? 1_000;
  if (!(pollMs > 0)) throw new RangeError('window watcher needs poll > 0');
  const hostname = opts.hostname ?? os.hostname();
  const bucketId = windowBucketId(hostname);
  const pulsetime = windowPulsetime(pollMs);
  const filter = titleFilter(opts);
  const clock = opts.clock ?? systemClock;
  const name = opts.name ?? 'watcher-window';
  const recheckMicros = (opts.recheckMs ?? 10_000) * US_PER_MS;

  return pollingWatcherChild({
    ...opts, // probeFactory, sink, retryMs, log
    name,
    pollMs,
    clock,
    // Event-driven probes (X11, sway, Hyprland, KDE, GNOME) report a focus or title change at once.
    wakeOnChange: true,
    bucket: { id: bucketId, type: WINDOW_TYPE, client: WINDOW_CLIENT, hostname },
    incarnation() {
      let sent = 0;
      let skipped = 0;
      let reads = 0;
      let current: { app: string; title: string } | null = null;
      // The last answer read, and the probe's change count and the time when it was asked.
      let last: { window: ActiveWindow | null; changes: number; at: Micros } | null = null;
      return {
        async tick(probe, now) {
          // A heartbeat every poll as before, but the window is only asked for again after a change
          // event (which also wakes this loop at once) or when the answer is `recheckMs` old.
          const changes = probe.changeCount?.();
          let w: ActiveWindow | null;
          if (last && changes !== undefined && changes === last.changes && now - last.at < recheckMicros) w = last.window;
          else {
            w = await probe.activeWindow();
            reads++;
            last = changes === undefined ? null : { window: w, changes, at: now };
          }
          if (!w) {
            // Definitively no foreground window (lock screen, UAC prompt): skip the poll.
            skipped++;
            current = null;
            return;
          }
          const data = windowData(w, filter);
          current = data;
          await opts.sink.heartbeat(bucketId, { id: null, timestamp: now, duration: 0, data }, pulsetime);
          sent++;
        },
        status: () => ({ bucket: bucketId, current, heartbeats: sent, skipped, reads }),
      };
    },
  });
}
