import type { Logger } from '../../log.js';
import { NotFound, Unavailable } from '../../model/errors.js';
import type { Deliverer } from './deliver.js';
import type { QueueItem } from './items.js';
import type { QueueStore } from './store.js';

export interface QueueOptions {
  store: QueueStore;
  deliverer: Deliverer;
  log: Logger;
  /**
   * The delivery loop failed (an error no retry can help, e.g. the queue file cannot be read):
   * it has stopped and writes are refused. The owner should crash so it is restarted.
   */
  onFatal(err: unknown): void;
  /** Bound on queued items; beyond it new writes are refused (the producer keeps them), never dropped. */
  maxItems: number;
  /** Whether a bucket exists or is being created (local mode refuses writes into unknown buckets). */
  bucketKnown?: (id: string) => boolean;
  batchSize?: number;
  retry?: { initialMs: number; maxMs: number };
}

export interface HeartbeatQueue {
  /** Validated item → resolves with its sequence number once it is durably queued. */
  accept(item: QueueItem): Promise<number>;
  /** Resolves when everything queued so far was delivered, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops delivering (after the current run) and resolves when the loop has ended. */
  stop(): Promise<void>;
  status(): Record<string, unknown>;
}

const WARN_FRACTION = 0.8;
const IDLE_RECHECK_MS = 10_000;

/**
 * The heartbeat queue: durable FIFO in front of the storage writer (or a remote server).
 * Delivery runs in sequence order in batches; on failure it backs off and retries from the
 * first unfinished item, so nothing accepted is lost and nothing is applied twice.
 */
export function createHeartbeatQueue(opts: QueueOptions): HeartbeatQueue {
  const { store, deliverer, log } = opts;
  const batchSize = opts.batchSize ?? 500;
  const retry = opts.retry ?? { initialMs: 50, maxMs: 5_000 };
  // Buckets whose creation is queued but not yet delivered (the backlog is read in batches, never whole).
  const creating = new Set<string>(store.queuedCreates());

  let running = true;
  let wake: (() => void) | null = null;
  let delivered = 0, dropped = 0, retries = 0;
  let lastError: string | null = null;
  let failed: Error | null = null;
  let drained: (() => void)[] = [];
  let warned = false;

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        wake = null;
        r();
      };
      wake = done;
    });

  async function loop(): Promise<void> {
    let backoff = retry.initialMs;
    while (running) {
      const items = store.peek(batchSize);
      if (items.length === 0) {
        drained.forEach((d) => d());
        drained = [];
        // accept() wakes the loop; the long wait is only a safety net, so an idle daemon stays asleep.
        await sleep(IDLE_RECHECK_MS);
        continue;
      }
      const r = await deliverer.deliver(items);
      if (r.finished > 0) {
        store.removeThrough(items[r.finished - 1]!.seq);
        for (const { item } of items.slice(0, r.finished)) if (item.kind === 'createBucket') creating.delete(item.bucket);
        delivered += r.finished - r.dropped;
        dropped += r.dropped;
      }
      if (r.error !== undefined) {
        retries++;
        lastError = r.error instanceof Error ? r.error.message : String(r.error);
        log.debug({ err: lastError, depth: store.depth, backoffMs: backoff }, 'delivery failed; holding and retrying');
        await sleep(backoff * (0.8 + Math.random() * 0.4));
        backoff = Math.min(backoff * 2, retry.maxMs);
      } else {
        backoff = retry.initialMs;
        lastError = null;
      }
    }
  }
  const loopDone = loop().catch((err: unknown) => {
    running = false;
    failed = err instanceof Error ? err : new Error(String(err));
    log.error({ err }, 'heartbeat queue delivery loop failed');
    opts.onFatal(failed);
  });

  return {
    async accept(item) {
      if (failed) throw new Unavailable(`heartbeat queue delivery stopped (${failed.message}); retry`);
      if (!running) throw new Unavailable('heartbeat queue is shutting down; retry');
      const depth = store.depth;
      if (depth >= opts.maxItems) throw new Unavailable(`heartbeat queue is full (${depth} items); retry later`);
      if (!warned && depth >= opts.maxItems * WARN_FRACTION) {
        warned = true;
        log.warn({ depth, max: opts.maxItems }, 'heartbeat queue is nearly full');
      } else if (warned && depth < opts.maxItems * WARN_FRACTION * 0.9) warned = false;
      if (item.kind === 'createBucket') creating.add(item.bucket);
      else if (opts.bucketKnown && !opts.bucketKnown(item.bucket) && !creating.has(item.bucket)) {
        throw new NotFound(`bucket '${item.bucket}' does not exist; create it first`);
      }
      const seq = await store.append(item);
      wake?.();
      return seq;
    },
    drain(timeoutMs) {
      if (store.depth === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(store.depth === 0), timeoutMs);
        drained.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
        wake?.();
      });
    },
    async stop() {
      running = false;
      wake?.();
      await loopDone;
    },
    status() {
      const depth = store.depth;
      const oldest = store.oldestReceived();
      return {
        depth,
        maxItems: opts.maxItems,
        ...(depth >= opts.maxItems * WARN_FRACTION ? { warning: `queue ${Math.round((100 * depth) / opts.maxItems)}% full` } : {}),
        oldestAgeMs: oldest === null ? null : Date.now() - oldest,
        delivered,
        dropped,
        retries,
        lastError: failed ? failed.message : lastError,
        ...(store.unreadable > 0 ? { unreadable: store.unreadable } : {}),
      };
    },
  };
}
