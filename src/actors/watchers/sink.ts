import type { Event } from '../../model/event.js';
import { mergeHeartbeat } from '../../model/heartbeat.js';
import { microsToSeconds, formatTimestamp, US_PER_MS, type Micros } from '../../model/time.js';
import type { PluginClient } from '../../plugin/client.js';
import type { ChildSpec } from '../../supervisor/types.js';
import type { WatcherSink } from './runner.js';

/** A sink that may hold back heartbeats: `flush` writes what it holds. */
export interface HoldingSink extends WatcherSink {
  flush(): Promise<void>;
}

/**
 * The built-in watchers write through the plugin library, in the daemon's process: the same
 * outbox, ordering and exactly-once guarantees as any plugin, without a process per watcher.
 * A poll is done once its heartbeat is in the outbox file; the bus being down never blocks it.
 *
 * With a commit interval, a heartbeat that only extends the previous one (same data, within
 * pulsetime) is merged here in memory and written at most once per interval (measured on the
 * heartbeats' own timestamps); a heartbeat with new data writes the held one and itself at once.
 * Each write costs an outbox commit, a bus round trip, a queue commit and a database commit, so at
 * a 1 s poll this divides that work by the interval. A crash loses at most the last interval's
 * growth of the current event's duration, never an event's start (docs/performance.md).
 */
export function pluginSink(client: PluginClient, commitIntervalMs = 0): HoldingSink {
  const write = (bucketId: string, e: Event, pulsetimeMicros: Micros): Promise<void> =>
    client.heartbeat(bucketId, { timestamp: formatTimestamp(e.timestamp), duration: microsToSeconds(e.duration), data: e.data }, microsToSeconds(pulsetimeMicros));
  const commitMicros = commitIntervalMs * US_PER_MS;
  /** Per bucket: the newest heartbeat merged so far, whether it holds growth not yet written, and when it was last written. */
  const held = new Map<string, { event: Event; pulsetime: Micros; dirty: boolean; writtenAt: Micros }>();
  const writeHeld = async (bucketId: string): Promise<void> => {
    const h = held.get(bucketId);
    if (!h?.dirty) return;
    h.dirty = false;
    await write(bucketId, h.event, h.pulsetime);
  };
  return {
    ensureBucket: (b) => client.ensureBucket(b),
    async heartbeat(bucketId, e, pulsetimeMicros) {
      if (commitMicros <= 0) return write(bucketId, e, pulsetimeMicros);
      const h = held.get(bucketId);
      const merged = h ? mergeHeartbeat(h.event, e, pulsetimeMicros) : null;
      if (h && merged) {
        h.event = merged;
        h.pulsetime = pulsetimeMicros;
        h.dirty = true;
        if (e.timestamp - h.writtenAt < commitMicros) return;
        h.writtenAt = e.timestamp;
        return writeHeld(bucketId);
      }
      // New data (or a gap): what was held first, so the stored series stays in order.
      await writeHeld(bucketId);
      held.set(bucketId, { event: e, pulsetime: pulsetimeMicros, dirty: false, writtenAt: e.timestamp });
      await write(bucketId, e, pulsetimeMicros);
    },
    async flush() {
      for (const bucketId of held.keys()) await writeHeld(bucketId);
    },
  };
}

/**
 * The watchers' outbox as a child placed before them: it shows in status (queued writes, bus
 * connection), and at shutdown — after the watchers stopped, before the queue does — it writes
 * what the sink holds and gives the outbox time to empty. What is left is sent at the next start.
 */
export function outboxChild(client: PluginClient, sink?: HoldingSink, flushMs = 5_000): ChildSpec {
  return {
    name: 'watchers-outbox',
    restart: 'permanent',
    shutdownTimeoutMs: flushMs + 1_000,
    start: async () => ({
      stop: async () => {
        await sink?.flush();
        await client.flush(flushMs);
      },
      kill: () => undefined,
      status: () => ({ ...client.status() }),
    }),
  };
}
