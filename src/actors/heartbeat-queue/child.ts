import type { Subscription } from 'nats';
import { createBusLink } from '../../bus/link.js';
import type { BusCredentials } from '../../bus/credentials.js';
import { QUEUE_GROUP, SUBJECTS } from '../../bus/subjects.js';
import { httpStatus, SundialError } from '../../model/errors.js';
import type { ChildSpec } from '../../supervisor/types.js';
import type { Writer } from '../storage-writer/ops.js';
import { forwardDeliverer, writerDeliverer } from './deliver.js';
import { parseItem, type QueueItem } from './items.js';
import { createHeartbeatQueue } from './queue.js';
import { openQueueStore } from './store.js';

export interface HeartbeatQueueChildOptions {
  file: string;
  bus: BusCredentials;
  writer: Writer;
  /** Read access to the main database: does a bucket exist, and the highest seq already applied. */
  bucketExists: (id: string) => boolean;
  appliedSeq: () => number;
  /** Deliver to this remote ActivityWatch-compatible server instead of the local writer. */
  forwardUrl?: string;
  maxItems: number;
  drainTimeoutMs?: number;
}

const SUBSCRIPTIONS: [string, QueueItem['kind']][] = [
  [SUBJECTS.heartbeat, 'heartbeat'],
  [SUBJECTS.createBucket, 'createBucket'],
  [SUBJECTS.insertEvents, 'insertEvents'],
];

/**
 * The heartbeat queue as a supervised child: takes writes from the bus, persists each before
 * replying, and delivers them in order. A bad message gets an error reply naming the problem,
 * is logged once, and changes nothing.
 */
export function heartbeatQueueChild(opts: HeartbeatQueueChildOptions): ChildSpec {
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  return {
    name: 'queue',
    restart: 'permanent',
    shutdownTimeoutMs: drainTimeoutMs + 2_000,
    async start(ctx) {
      const store = openQueueStore(opts.file, opts.forwardUrl ? 0 : opts.appliedSeq(), ctx.log);
      const deliverer = opts.forwardUrl ? forwardDeliverer(opts.forwardUrl, ctx.log, new Map()) : writerDeliverer(opts.writer, ctx.log);
      const queue = createHeartbeatQueue({
        store,
        deliverer,
        log: ctx.log,
        // A dead loop would leave the child running while it acknowledges writes it never delivers.
        onFatal: (err) => ctx.crash(err),
        maxItems: opts.maxItems,
        bucketKnown: opts.forwardUrl ? undefined : opts.bucketExists,
      });
      const link = createBusLink(opts.bus, { name: 'sundial-queue', log: ctx.log, signal: ctx.signal });
      const subs: Subscription[] = [];
      try {
        const nc = await link.connection();
        void nc.closed().then((err) => {
          if (!ctx.signal.aborted) ctx.crash(err ?? new Error('bus connection closed'));
        });
        for (const [subject, kind] of SUBSCRIPTIONS) {
          subs.push(
            await link.subscribe(subject, { queue: QUEUE_GROUP }, (raw, respond) => {
              let item: QueueItem;
              try {
                item = parseItem(kind, raw);
              } catch (err) {
                ctx.log.warn({ subject, err: (err as Error).message }, 'invalid bus message');
                return respond({ ok: false, error: (err as Error).message, status: 400 });
              }
              queue.accept(item).then(
                (seq) => respond({ ok: true, seq }),
                (err: unknown) => {
                  if (!(err instanceof SundialError)) ctx.log.error({ err }, 'could not queue a write');
                  respond({ ok: false, error: (err as Error).message, status: httpStatus(err) });
                },
              );
            }),
          );
        }
      } catch (err) {
        await queue.stop();
        store.close();
        await link.close();
        throw err;
      }
      const shutdown = async (drain: boolean) => {
        for (const s of subs) s.unsubscribe();
        if (drain) {
          const ok = await queue.drain(drainTimeoutMs);
          if (!ok) ctx.log.warn({ depth: store.depth }, 'queue not fully drained at shutdown; kept on disk for the next start');
        }
        await queue.stop();
        store.close();
        await link.close();
      };
      return {
        stop: () => shutdown(true),
        kill: () => shutdown(false),
        status: () => ({ ...queue.status(), mode: opts.forwardUrl ? `forward to ${opts.forwardUrl}` : 'local', bus: link.connected ? 'connected' : 'disconnected' }),
      };
    },
  };
}
