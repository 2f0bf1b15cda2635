import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deliverer } from '../../src/actors/heartbeat-queue/deliver.js';
import { parseItem, type QueueItem } from '../../src/actors/heartbeat-queue/items.js';
import { createHeartbeatQueue } from '../../src/actors/heartbeat-queue/queue.js';
import { openQueueStore } from '../../src/actors/heartbeat-queue/store.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const hb = (i: number): QueueItem =>
  parseItem('heartbeat', { bucket: 'b', pulsetime: 1, event: { timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), data: { i } } });

/** A destination that refuses while `down`, and records what it took. */
function flakyDeliverer() {
  const taken: number[] = [];
  let down = true;
  let attempts = 0;
  const d: Deliverer = {
    async deliver(items) {
      attempts++;
      if (down) return { finished: 0, dropped: 0, error: new Error('down') };
      // Finish only a prefix of each run, as the writer may.
      const n = Math.max(1, Math.floor(items.length / 2));
      for (const it of items.slice(0, n)) taken.push((it.item as unknown as { event: { data: { i: number } } }).event.data.i);
      return { finished: n, dropped: 0 };
    },
  };
  return { d, taken, up: () => (down = false), attempts: () => attempts };
}

function setup(maxItems: number, minSeq = 0) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = path.join(tmp.dir, 'queue.db');
  return { file, store: openQueueStore(file, minSeq) };
}

describe('heartbeat queue', () => {
  it('holds writes while the destination is down, then delivers all of them in order', async () => {
    const { store } = setup(100);
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), maxItems: 100, retry: { initialMs: 5, maxMs: 20 } });
    cleanups.push(async () => {
      await q.stop();
      store.close();
    });
    const seqs = await Promise.all(Array.from({ length: 30 }, (_, i) => q.accept(hb(i))));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await new Promise((r) => setTimeout(r, 60));
    expect(f.attempts()).toBeGreaterThan(1);
    expect(q.status()).toMatchObject({ depth: 30, lastError: 'down' });
    f.up();
    expect(await q.drain(5_000)).toBe(true);
    expect(f.taken).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(q.status()).toMatchObject({ depth: 0, delivered: 30 });
  });

  it('refuses new writes when full (never drops accepted ones) and warns near the bound', async () => {
    const { store } = setup(10);
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), maxItems: 10, retry: { initialMs: 5, maxMs: 20 } });
    cleanups.push(async () => {
      await q.stop();
      store.close();
    });
    for (let i = 0; i < 8; i++) await q.accept(hb(i));
    expect(q.status().warning).toMatch(/80% full/);
    await q.accept(hb(8));
    await q.accept(hb(9));
    await expect(q.accept(hb(10))).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/full/) });
    expect(q.status().depth).toBe(10);
    f.up();
    await q.drain(5_000);
    expect(f.taken).toHaveLength(10);
    expect(q.status().warning).toBeUndefined();
  });

  it('keeps accepted writes across a restart, and its sequence never falls below what was applied', async () => {
    const { file, store } = setup(100);
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), maxItems: 100 });
    const last = await q.accept(hb(1));
    await q.accept(hb(2));
    await q.stop();
    store.close();
    const again = openQueueStore(file, 0);
    expect(again.peek(10).map((s) => (s.item as unknown as { event: { data: { i: number } } }).event.data.i)).toEqual([1, 2]);
    again.removeThrough(last + 1);
    again.close();
    // A lost queue file must not reuse sequence numbers the database has already applied.
    const fresh = openQueueStore(path.join(path.dirname(file), 'new.db'), 500);
    expect(await fresh.append(hb(3))).toBe(501);
    fresh.close();
  });

  it('refuses writes into unknown buckets unless their creation is queued', async () => {
    const { store } = setup(100);
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), maxItems: 100, bucketKnown: () => false });
    cleanups.push(async () => {
      await q.stop();
      store.close();
    });
    await expect(q.accept(hb(1))).rejects.toMatchObject({ kind: 'not-found' });
    await q.accept(parseItem('createBucket', { bucket: 'b', type: 't', client: 'c', hostname: 'h' }));
    await expect(q.accept(hb(1))).resolves.toBeGreaterThan(0);
  });
});
