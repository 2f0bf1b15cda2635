import type { Event } from '../model/event.js';
import { formatTimestamp, microsToSeconds } from '../model/time.js';
import type { BusLink } from './link.js';
import { SUBJECTS, type Reply } from './subjects.js';

/**
 * The built-in watchers' way out: the same bus subjects plugins use. A request that times out
 * (nats-server restarting) is tried again a few times; a re-sent heartbeat merges into itself.
 */
export function busSink(link: Pick<BusLink, 'request'>, opts: { attempts?: number; timeoutMs?: number } = {}) {
  const attempts = opts.attempts ?? 3;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const ask = async (subject: string, payload: unknown): Promise<void> => {
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const r = await link.request<Reply>(subject, payload, timeoutMs);
        if (r.ok) return;
        throw new Error(r.error); // refused: sending it again would not help
      } catch (err) {
        if (!(err as { code?: string }).code) throw err;
        lastErr = err; // a transport error (timeout, no responders): try again
        await new Promise((res) => setTimeout(res, 200 * (i + 1)));
      }
    }
    throw lastErr;
  };
  return {
    ensureBucket: (b: { id: string; type: string; client: string; hostname: string }) =>
      ask(SUBJECTS.createBucket, { bucket: b.id, type: b.type, client: b.client, hostname: b.hostname }),
    heartbeat: (bucketId: string, e: Event, pulsetimeMicros: number) =>
      ask(SUBJECTS.heartbeat, {
        bucket: bucketId,
        pulsetime: microsToSeconds(pulsetimeMicros),
        event: { timestamp: formatTimestamp(e.timestamp), duration: microsToSeconds(e.duration), data: e.data },
      }),
  };
}
