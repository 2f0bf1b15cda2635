import type { Logger } from '../../log.js';
import { SundialError, Timeout, Unavailable } from '../../model/errors.js';
import { eventToJson } from '../../model/event.js';
import { formatTimestamp, microsToSeconds } from '../../model/time.js';
import type { WriteOp, Writer } from '../storage-writer/ops.js';
import type { QueueItem } from './items.js';
import type { StoredItem } from './store.js';

/**
 * Hands a run of queued items (in sequence order) to their destination. Reports how many of the
 * leading items are finished (stored, or dropped because they can never succeed); the rest are
 * retried later, from the first unfinished one, so order per bucket holds.
 */
export interface Deliverer {
  deliver(items: StoredItem[]): Promise<{ finished: number; dropped: number; error?: unknown }>;
}

export const QUEUE_SOURCE = 'heartbeat-queue';

function toWriteOp(item: QueueItem, seq: number): WriteOp {
  const delivery = { source: QUEUE_SOURCE, seq };
  switch (item.kind) {
    case 'heartbeat':
      return { kind: 'heartbeat', bucket: item.bucket, event: item.event, pulsetime: item.pulsetime, ...delivery };
    case 'createBucket':
      return { kind: 'createBucket', bucket: item.spec, ...delivery };
    case 'insertEvents':
      return { kind: 'insertEvents', bucket: item.bucket, events: item.events, ...delivery };
  }
}

/** The writer refused the op itself (bad input, no such bucket): a retry would be refused again. */
const refusedForGood = (err: unknown): err is SundialError =>
  err instanceof SundialError && !(err instanceof Unavailable) && !(err instanceof Timeout);

/**
 * Local mode: into the storage writer. All items of a run are submitted at once and share a
 * group commit; the writer commits a prefix of what it was given, so "finished" is a prefix too,
 * and the per-source sequence number in the database makes a redelivery a no-op.
 */
export function writerDeliverer(writer: Writer, log: Logger): Deliverer {
  return {
    async deliver(items) {
      const outcomes = await Promise.allSettled(items.map((it) => writer.submit(toWriteOp(it.item, it.seq))));
      let finished = 0, dropped = 0;
      for (const [i, o] of outcomes.entries()) {
        if (o.status === 'rejected') {
          if (!refusedForGood(o.reason)) return { finished, dropped, error: o.reason };
          // e.g. the bucket was deleted after the item was accepted: it can never be stored.
          log.warn({ seq: items[i]!.seq, bucket: items[i]!.item.bucket, err: o.reason.message }, 'dropping queued write');
          dropped++;
        }
        finished++;
      }
      return { finished, dropped };
    },
  };
}

/**
 * Forward mode (a watchers-only machine): deliver to a remote ActivityWatch-compatible server
 * over its REST API, one request at a time. Network errors and 5xx are retried; a heartbeat or
 * insert into a bucket the server does not know re-creates the bucket first (if we ever saw its
 * spec) and tries again; other 4xx can never succeed and are dropped.
 */
export function forwardDeliverer(baseUrl: string, log: Logger, specs: Map<string, QueueItem & { kind: 'createBucket' }>): Deliverer {
  const base = baseUrl.replace(/\/+$/, '');
  const enc = encodeURIComponent;
  const post = async (p: string, body: unknown): Promise<number> => {
    const res = await fetch(`${base}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const send = async (item: QueueItem): Promise<number> => {
    switch (item.kind) {
      case 'createBucket': {
        const { spec } = item;
        return post(`/api/0/buckets/${enc(spec.id)}`, {
          client: spec.client, type: spec.type, hostname: spec.hostname, data: spec.data, created: formatTimestamp(spec.created),
        });
      }
      case 'heartbeat':
        return post(`/api/0/buckets/${enc(item.bucket)}/heartbeat?pulsetime=${microsToSeconds(item.pulsetime)}`, eventToJson({ ...item.event, id: null }));
      case 'insertEvents':
        return post(`/api/0/buckets/${enc(item.bucket)}/events`, item.events.map((e) => eventToJson({ ...e, id: null })));
    }
  };
  return {
    async deliver(items) {
      let finished = 0, dropped = 0;
      for (const { seq, item } of items) {
        try {
          if (item.kind === 'createBucket') specs.set(item.bucket, item);
          let status = await send(item);
          if (status === 404 && item.kind !== 'createBucket' && specs.has(item.bucket)) {
            const created = await send(specs.get(item.bucket)!);
            if (created < 400) status = await send(item);
          }
          if (status >= 500) return { finished, dropped, error: new Error(`server answered ${status}`) };
          if (status >= 400) {
            log.warn({ seq, bucket: item.bucket, status }, 'remote server refused a queued write; dropping it');
            dropped++;
          }
        } catch (err) {
          return { finished, dropped, error: err };
        }
        finished++;
      }
      return { finished, dropped };
    },
  };
}
