import { endOf } from '../../model/event.js';
import { US_PER_S, type Micros } from '../../model/time.js';
import type { Reader } from '../../storage/read.js';

/** The bucket type of media watchers (Sundial's media plugin, or anyone's writing the same). */
export const MEDIA_TYPE = 'media.playing';
/** Delay allowed between a media heartbeat and its being stored (outbox, bus, queue, writer). */
const TRANSPORT_SLACK: Micros = 5 * US_PER_S;
const DEFAULT_PULSETIME_S = 10;

/**
 * Is media playing right now? Yes when the last event of some `media.playing` bucket ended no
 * longer ago than that bucket's pulsetime (its data's `pulsetime`, seconds): its watcher sends
 * heartbeats only while something plays, so a fresh event means it still plays. Reading the
 * database keeps the AFK watcher independent of which process publishes media, and of the bus.
 */
export function mediaPlaying(reader: Reader, now: Micros): boolean {
  // Runs at every AFK poll: read the (few) media buckets and their last event only, no span scans.
  const rows = reader.db.prepare('SELECT id, data FROM buckets WHERE type = ?').all(MEDIA_TYPE) as { id: number; data: string }[];
  for (const b of rows) {
    const data = JSON.parse(b.data) as Record<string, unknown>;
    const pulse = typeof data.pulsetime === 'number' && data.pulsetime > 0 ? data.pulsetime : DEFAULT_PULSETIME_S;
    const last = reader.lastEvent(b.id);
    if (last && endOf(last) >= now - pulse * US_PER_S - TRANSPORT_SLACK) return true;
  }
  return false;
}
