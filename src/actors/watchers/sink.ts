import { microsToSeconds, formatTimestamp } from '../../model/time.js';
import type { PluginClient } from '../../plugin/client.js';
import type { ChildSpec } from '../../supervisor/types.js';
import type { WatcherSink } from './runner.js';

/**
 * The built-in watchers write through the plugin library, in the daemon's process: the same
 * outbox, ordering and exactly-once guarantees as any plugin, without a process per watcher.
 * A poll is done once its heartbeat is in the outbox file; the bus being down never blocks it.
 */
export function pluginSink(client: PluginClient): WatcherSink {
  return {
    ensureBucket: (b) => client.ensureBucket(b),
    heartbeat: (bucketId, e, pulsetimeMicros) =>
      client.heartbeat(bucketId, { timestamp: formatTimestamp(e.timestamp), duration: microsToSeconds(e.duration), data: e.data }, microsToSeconds(pulsetimeMicros)),
  };
}

/**
 * The watchers' outbox as a child placed before them: it shows in status (queued writes, bus
 * connection), and at shutdown — after the watchers stopped, before the queue does — it gives
 * the outbox time to empty. What is left is sent at the next start.
 */
export function outboxChild(client: PluginClient, flushMs = 5_000): ChildSpec {
  return {
    name: 'watchers-outbox',
    restart: 'permanent',
    shutdownTimeoutMs: flushMs + 1_000,
    start: async () => ({
      stop: async () => void (await client.flush(flushMs)),
      kill: () => undefined,
      status: () => ({ ...client.status() }),
    }),
  };
}
