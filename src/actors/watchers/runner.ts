import type { Logger } from '../../log.js';
import type { Event } from '../../model/event.js';
import { US_PER_MS, type Micros } from '../../model/time.js';
import { isUnavailable, type Probe, type ProbeFactory } from '../../platform/types.js';
import type { ChildContext, ChildHandle, ChildSpec } from '../../supervisor/types.js';

/** Where watchers send their data; the lead wires it to the message bus. */
export interface WatcherSink {
  ensureBucket(b: { id: string; type: string; client: string; hostname: string }): Promise<void>;
  heartbeat(bucketId: string, event: Event, pulsetimeMicros: number): Promise<void>;
}

/** Wall-clock time and waiting, injectable so tests can run hours of polls in milliseconds. */
export interface Clock {
  now(): Micros;
  /** Resolves after `ms` or when `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now() * US_PER_MS,
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

export interface PollLoopOptions {
  name: string;
  pollMs: number;
  /** Wait between attempts while the probe is unavailable (no display, no permission). */
  retryMs: number;
  clock: Clock;
  log: Logger;
  probeFactory: ProbeFactory;
  /** Runs once the probe is available, before the first poll, and again until it succeeds (bucket creation). */
  setup(): Promise<void>;
  /** One poll. A ProbeUnavailableError switches to slow retries; other errors are logged and skipped. */
  tick(probe: Probe, now: Micros): Promise<void>;
  /** Extra status facts. */
  status(): Record<string, unknown>;
  /** Poll at once when an event-driven probe reports a change (window watcher), the poll stays as the safety net. */
  wakeOnChange?: boolean;
}

/** Event-driven polls no closer together than this: a title changing every frame costs one heartbeat per 200 ms. */
const MIN_WAKE_GAP_MS = 200;

/**
 * The loop shared by the watchers: one running incarnation that never crash-loops on a missing
 * display or permission. It reports `{ unavailable: reason }` and retries every `retryMs` instead.
 */
export function startPollLoop(ctx: ChildContext, o: PollLoopOptions): ChildHandle {
  const stopper = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stopper.signal]);
  let probe: Probe | null = null;
  let choice: { backend: string; reason: string } | null = null;
  let unsubscribe: (() => void) | null = null;
  // Aborted by a probe's change event (or by stopping): ends the current wait early.
  let wake = new AbortController();
  signal.addEventListener('abort', () => wake.abort(), { once: true });
  let lastTickAt = 0;
  let unavailable: string | null = null;
  let ready = false;
  let polls = 0;
  let errors = 0;
  let lastError: string | null = null;

  const noteError = (err: unknown): void => {
    errors++;
    const msg = err instanceof Error ? err.message : String(err);
    if (msg !== lastError) o.log.warn({ watcher: o.name, err: msg }, 'watcher poll failed');
    lastError = msg;
  };

  const closeProbe = (): void => {
    unsubscribe?.();
    unsubscribe = null;
    try {
      probe?.close();
    } catch (err) {
      o.log.debug({ err: (err as Error).message }, 'probe close failed');
    }
    probe = null;
  };

  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      let delay = o.pollMs;
      try {
        if (!probe) {
          probe = await o.probeFactory();
          choice = { backend: probe.kind, reason: probe.reason ?? '' };
          if (o.wakeOnChange && probe.onChange) unsubscribe = probe.onChange(() => wake.abort());
        }
        // The bucket only once there is something to record: a machine without a display gets none.
        if (!ready) {
          await o.setup();
          ready = true;
        }
        if (signal.aborted) break;
        lastTickAt = o.clock.now();
        await o.tick(probe, lastTickAt);
        polls++;
        if (unavailable) o.log.info({ watcher: o.name }, 'watcher: probe available again');
        unavailable = null;
      } catch (err) {
        if (isUnavailable(err)) {
          if (err.choice) choice = err.choice;
          if (unavailable !== err.reason) o.log.warn({ watcher: o.name, reason: err.reason }, 'watcher: probe unavailable, retrying slowly');
          unavailable = err.reason;
          closeProbe();
          delay = o.retryMs;
        } else {
          noteError(err);
        }
      }
      // A change reported during the tick wakes at once; otherwise wait for the poll or a change.
      if (!wake.signal.aborted) await o.clock.sleep(delay, wake.signal);
      if (wake.signal.aborted && !signal.aborted) {
        wake = new AbortController();
        // Woken by a change: keep event-driven polls apart.
        const sinceMs = (o.clock.now() - lastTickAt) / US_PER_MS;
        if (sinceMs < MIN_WAKE_GAP_MS) await o.clock.sleep(MIN_WAKE_GAP_MS - sinceMs, signal);
      }
    }
  };

  const done = loop().then(
    () => closeProbe(),
    (err: unknown) => {
      closeProbe();
      ctx.crash(err);
    },
  );

  return {
    async stop() {
      stopper.abort();
      await done;
    },
    kill() {
      stopper.abort();
      closeProbe();
    },
    status() {
      const s: Record<string, unknown> = { polls, errors, lastError, ...o.status() };
      if (choice) {
        s.probe = choice.backend;
        s.probeReason = choice.reason;
      }
      if (unavailable) s.unavailable = unavailable;
      const notice = probe?.notice?.();
      if (notice) s.notice = notice;
      return s;
    },
  };
}

/** What makes one polling watcher: its identity, and per incarnation its poll and status. */
export interface WatcherDefinition {
  name: string;
  pollMs: number;
  /** Retry interval while the probe is unavailable (default 30 s). */
  retryMs?: number;
  clock: Clock;
  log?: Logger;
  probeFactory: ProbeFactory;
  sink: WatcherSink;
  bucket: { id: string; type: string; client: string; hostname: string };
  /** Poll at once on a probe's change event (see PollLoopOptions). */
  wakeOnChange?: boolean;
  /** Called at each start; `stop` releases what the incarnation holds. */
  incarnation(log: Logger): Pick<PollLoopOptions, 'tick' | 'status'> & { stop?(): void };
}

/** A watcher as a supervised child: creates its bucket, then polls its probe in one long incarnation. */
export function pollingWatcherChild(d: WatcherDefinition): ChildSpec {
  return {
    name: d.name,
    restart: 'permanent',
    shutdownTimeoutMs: 5_000,
    async start(ctx) {
      const log = d.log ?? ctx.log;
      const inc = d.incarnation(log);
      const handle = startPollLoop(ctx, {
        name: d.name,
        pollMs: d.pollMs,
        retryMs: d.retryMs ?? 30_000,
        clock: d.clock,
        log,
        probeFactory: d.probeFactory,
        setup: () => d.sink.ensureBucket(d.bucket),
        tick: inc.tick,
        status: inc.status,
        wakeOnChange: d.wakeOnChange,
      });
      if (!inc.stop) return handle;
      return {
        ...handle,
        async stop() {
          await handle.stop();
          inc.stop!();
        },
        kill() {
          void handle.kill?.();
          inc.stop!();
        },
      };
    },
  };
}
