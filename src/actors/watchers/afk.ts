import os from 'node:os';
import { createActor } from 'xstate';
import type { Logger } from '../../log.js';
import { US_PER_MS, US_PER_S } from '../../model/time.js';
import type { ProbeFactory } from '../../platform/types.js';
import type { ChildSpec } from '../../supervisor/types.js';
import { afkMachine, type HeartbeatsEmitted } from './afk-machine.js';
import { pollingWatcherChild, systemClock, type Clock, type WatcherSink } from './runner.js';

export const AFK_CLIENT = 'aw-watcher-afk';
export const AFK_TYPE = 'afkstatus';

export interface AfkWatcherOptions {
  probeFactory: ProbeFactory;
  sink: WatcherSink;
  hostname?: string;
  /** Default 5 000 ms. */
  pollMs?: number;
  /** Default 180 000 ms; must be ≥ pollMs. */
  timeoutMs?: number;
  /** Retry interval while the probe is unavailable. Default 30 000 ms. */
  retryMs?: number;
  /** Poll delay that counts as sleep / suspend. Default max(3 × poll, poll + 15 s). */
  sleepGapMs?: number;
  clock?: Clock;
  log?: Logger;
  name?: string;
  /** Media playing counts as activity (watchers.afk.media_counts_as_active): no AFK while it is true. */
  mediaPlaying?: () => boolean;
}

export const afkBucketId = (hostname: string): string => `${AFK_CLIENT}_${hostname}`;

/** The AFK watcher as a supervised child (one bucket `aw-watcher-afk_<host>`, type `afkstatus`). */
export function afkWatcherChild(opts: AfkWatcherOptions): ChildSpec {
  const pollMs = opts.pollMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 180_000;
  if (!(pollMs > 0) || !(timeoutMs >= pollMs)) throw new RangeError('AFK watcher needs poll > 0 and timeout >= poll');
  const hostname = opts.hostname ?? os.hostname();
  const bucketId = afkBucketId(hostname);
  const clock = opts.clock ?? systemClock;
  const name = opts.name ?? 'watcher-afk';

  return pollingWatcherChild({
    ...opts, // probeFactory, sink, retryMs, log
    name,
    pollMs,
    clock,
    bucket: { id: bucketId, type: AFK_TYPE, client: AFK_CLIENT, hostname },
    incarnation(log) {
      const actor = createActor(afkMachine, {
        input: {
          timeoutMicros: timeoutMs * US_PER_MS,
          pollMicros: pollMs * US_PER_MS,
          sleepGapMicros: opts.sleepGapMs === undefined ? undefined : opts.sleepGapMs * US_PER_MS,
        },
      });
      let pending: HeartbeatsEmitted | null = null;
      actor.on('heartbeats', (e) => {
        pending = e;
      });
      actor.start();
      let sent = 0;
      let gaps = 0;
      let media = false;

      return {
        async tick(probe) {
          const [idle, locked] = await Promise.all([probe.idleSeconds(), probe.locked ? probe.locked() : Promise.resolve(false)]);
          // Read the clock after the probe answered, so "now − idle" is as close to the input as can be.
          const now = clock.now();
          pending = null;
          const before = actor.getSnapshot().value;
          // Watching a video is not being away: while media plays, this poll counts as input now.
          media = opts.mediaPlaying?.() ?? false;
          const idleMicros = media ? 0 : Math.max(0, Math.round(idle * US_PER_S));
          actor.send({ type: 'POLL', now, idleMicros, locked });
          const out = pending as HeartbeatsEmitted | null;
          if (!out) return;
          if (out.afterGap) {
            gaps++;
            log.info({ watcher: name }, 'afk: poll after a sleep / suspend, starting a new period');
          }
          const after = actor.getSnapshot().value;
          if (after !== before) log.debug({ watcher: name, state: after }, 'afk: state change');
          // In order: the second heartbeat of a transition must start after the first.
          for (const h of out.heartbeats) {
            await opts.sink.heartbeat(bucketId, h.event, h.pulsetimeMicros);
            sent++;
          }
        },
        status: () => ({ bucket: bucketId, state: actor.getSnapshot().value === 'afk' ? 'afk' : 'not-afk', heartbeats: sent, sleeps: gaps, ...(opts.mediaPlaying ? { mediaPlaying: media } : {}) }),
        stop: () => actor.stop(),
      };
    },
  });
}
