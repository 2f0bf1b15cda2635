import { endOf, jsonEqual, type Event } from './event.js';
import type { Micros } from './time.js';

/**
 * The heartbeat merge rule (as ActivityWatch's): merge iff the data is equal,
 * the heartbeat does not start before the last event, and it starts no later than
 * last end + pulsetime (inclusive). A merge only ever extends the last event.
 * Returns the merged event (keeping last's id and start), or null when the heartbeat stands alone.
 */
export function mergeHeartbeat(last: Event | null, hb: Event, pulsetime: Micros): Event | null {
  if (!last || last.duration < 0) return null;
  if (!jsonEqual(last.data, hb.data)) return null;
  if (hb.timestamp < last.timestamp) return null;
  if (hb.timestamp > endOf(last) + pulsetime) return null;
  const end = Math.max(endOf(last), endOf(hb));
  return { id: last.id, timestamp: last.timestamp, duration: end - last.timestamp, data: last.data };
}
