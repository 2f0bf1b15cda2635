import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { writerDeliverer, type Deliverer } from '../../src/actors/heartbeat-queue/deliver.js';
import { openStorageWriter } from '../../src/actors/storage-writer/writer.js';
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
      for (const { item } of items.slice(0, n)) if (item.kind === 'heartbeat') taken.push(item.event.data.i as number);
      return { finished: n, dropped: 0 };
    },
  };
  return { d, taken, up: () => (down = false), attempts: () => attempts };
}

/** Unexpected in these tests: fails them (as an unhandled rejection). */
const noFatal = (err: unknown) => {
  throw err;
};

function setup() {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = path.join(tmp.dir, 'queue.db');
  return { file, store: openQueueStore(file, 0) };
}

describe('heartbeat queue', () => {
  it('holds writes while the destination is down, then delivers all of them in order', async () => {
    const { store } = setup();
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), onFatal: noFatal, maxItems: 100, retry: { initialMs: 5, maxMs: 20 } });
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
    const { store } = setup();
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), onFatal: noFatal, maxItems: 10, retry: { initialMs: 5, maxMs: 20 } });
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
    const { file, store } = setup();
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), onFatal: noFatal, maxItems: 100 });
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
    const { store } = setup();
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store, deliverer: f.d, log: silentLogger(), onFatal: noFatal, maxItems: 100, bucketKnown: () => false });
    cleanups.push(async () => {
      await q.stop();
      store.close();
    });
    await expect(q.accept(hb(1))).rejects.toMatchObject({ kind: 'not-found' });
    await q.accept(parseItem('createBucket', { bucket: 'b', type: 't', client: 'c', hostname: 'h' }));
    await expect(q.accept(hb(1))).resolves.toBeGreaterThan(0);
  });

  it('a delivery loop that fails stops, reports it once and refuses writes; nothing accepted is lost', async () => {
    const { file, store } = setup();
    const fatal: unknown[] = [];
    let calls = 0;
    const broken: Deliverer = {
      async deliver() {
        calls++;
        throw new TypeError('deliverer bug');
      },
    };
    const q = createHeartbeatQueue({ store, deliverer: broken, log: silentLogger(), onFatal: (e) => fatal.push(e), maxItems: 100 });
    await q.accept(hb(1));
    await q.drain(50);
    for (let i = 0; i < 100 && fatal.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fatal).toHaveLength(1);
    expect((fatal[0] as Error).message).toBe('deliverer bug');
    await expect(q.accept(hb(2))).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/delivery stopped.*deliverer bug/) });
    expect(q.status()).toMatchObject({ depth: 1, lastError: 'deliverer bug' });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1); // the loop is really over, not retrying behind the refusal
    await q.stop();
    store.close();
    const again = openQueueStore(file, 0);
    expect(again.depth).toBe(1);
    again.close();
  });

  it('starts on a large backlog without reading it whole, sets a damaged row aside and delivers the rest', async () => {
    const { file, store } = setup();
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => store.append(hb(i))));
    await store.append(parseItem('createBucket', { bucket: 'late', type: 't', client: 'c', hostname: 'h' }));
    store.close();
    const raw = new Database(file);
    const damaged = (raw.prepare('SELECT seq FROM items ORDER BY seq LIMIT 1 OFFSET 700').get() as { seq: number }).seq;
    raw.prepare("UPDATE items SET body = '{\"kind\":\"heartb' WHERE seq = ?").run(damaged);
    raw.close();

    const reopened = openQueueStore(file, 0);
    const f = flakyDeliverer();
    const q = createHeartbeatQueue({ store: reopened, deliverer: f.d, log: silentLogger(), onFatal: noFatal, maxItems: 5_000, bucketKnown: () => false, retry: { initialMs: 5, maxMs: 20 } });
    cleanups.push(async () => {
      await q.stop();
      reopened.close();
    });
    // The damaged row lies beyond the first batch: not parsed (so not yet found) while nothing was delivered.
    await new Promise((r) => setTimeout(r, 30));
    expect(q.status()).toMatchObject({ depth: 1_201, lastError: 'down' });
    expect(q.status().unreadable).toBeUndefined();
    // The creation queued at the end of the backlog is known all the same.
    await expect(q.accept(parseItem('heartbeat', { bucket: 'late', pulsetime: 1, event: { timestamp: '2024-01-02T00:00:00Z', data: { i: -1 } } }))).resolves.toBeGreaterThan(0);
    await expect(q.accept(parseItem('heartbeat', { bucket: 'early', pulsetime: 1, event: { timestamp: '2024-01-02T00:00:00Z', data: {} } }))).rejects.toMatchObject({ kind: 'not-found' });
    f.up();
    expect(await q.drain(10_000)).toBe(true);
    const want = Array.from({ length: 1_200 }, (_, i) => i).filter((i) => i !== 700);
    expect(f.taken).toEqual([...want, -1]);
    expect(q.status()).toMatchObject({ depth: 0, unreadable: 1, lastError: null });
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT seq, error FROM unreadable').all()).toEqual([{ seq: damaged, error: expect.stringMatching(/JSON/) }]);
    check.close();
  });

  it('reads a queue file written before queued creations were indexed', async () => {
    const { file, store } = setup();
    store.close();
    const raw = new Database(file);
    raw.exec('DROP TABLE items; CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, received INTEGER NOT NULL)');
    const put = raw.prepare('INSERT INTO items (body, received) VALUES (?, 0)');
    put.run(JSON.stringify(parseItem('createBucket', { bucket: 'old', type: 't', client: 'c', hostname: 'h' })));
    put.run(JSON.stringify(hb(1)));
    raw.close();
    const reopened = openQueueStore(file, 0);
    expect(reopened.queuedCreates()).toEqual(['old']);
    expect(reopened.peek(10).map((s) => s.item.kind)).toEqual(['createBucket', 'heartbeat']);
    expect(await reopened.append(parseItem('createBucket', { bucket: 'new', type: 't', client: 'c', hostname: 'h' }))).toBe(3);
    expect(reopened.queuedCreates().sort()).toEqual(['new', 'old']);
    reopened.close();
  });

  it('into the writer: drops a write that can never be stored (bucket deleted meanwhile), keeps going', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const writer = await openStorageWriter(path.join(tmp.dir, 'db.sqlite'), { log: silentLogger() });
    cleanups.push(() => writer.close());
    const create = (bucket: string) => parseItem('createBucket', { bucket, type: 't', client: 'c', hostname: 'h' });
    const d = writerDeliverer(writer, silentLogger());
    expect(await d.deliver([{ seq: 1, item: create('gone') }, { seq: 2, item: create('kept') }])).toEqual({ finished: 2, dropped: 0 });
    await writer.submit({ kind: 'deleteBucket', id: 'gone' });
    const into = (bucket: string, i: number) => parseItem('heartbeat', { bucket, pulsetime: 1, event: { timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), data: {} } });
    expect(await d.deliver([{ seq: 3, item: into('gone', 1) }, { seq: 4, item: into('kept', 2) }])).toEqual({ finished: 2, dropped: 1 });
  });
});
