import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import { daemonPaths } from '../../src/config/paths.js';
import type { Daemon } from '../../src/daemon.js';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { parseTimestamp } from '../../src/model/time.js';
import { expectedEvents, heartbeatSeries, link, produce, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
const T0 = parseTimestamp('2024-05-01T10:00:00Z');

const storedEvents = (bucket: string) => {
  const r = new Reader(openReadonly(path.join(tmp.dir, 'sqlite-testing.db')));
  try {
    const b = r.bucket(bucket);
    return b ? r.events(b.row).reverse().map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data })) : [];
  } finally {
    r.db.close();
  }
};

beforeAll(async () => {
  tmp = tempDir();
  // Generous intensity: this file crashes children on purpose, many times.
  daemon = await startInProcess(tmp.dir, () => {}, { restart: { intensity: { maxRestarts: 1000, withinMs: 60_000 }, backoff: { initialMs: 5, maxMs: 50, jitter: 0.2 } } });
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

const createBucket = (l: ReturnType<typeof link>, bucket: string) =>
  l.request<Reply>(SUBJECTS.createBucket, { bucket, type: 'test', client: 'spine-test', hostname: 'h' });

describe('bus → queue → writer', () => {
  it('answers malformed messages with an error naming the problem, stores nothing, keeps running', async () => {
    const l = link(daemon.bus);
    expect(await createBucket(l, 'bad-input')).toMatchObject({ ok: true });
    const nc = await l.connection();
    const raw = async (subject: string, text: string) => JSON.parse(Buffer.from((await nc.request(subject, Buffer.from(text), { timeout: 3000 })).data).toString()) as Reply;
    expect(await raw(SUBJECTS.heartbeat, '{not json')).toEqual({ ok: false, status: 400, error: expect.stringMatching(/JSON/) });
    const cases: [unknown, RegExp][] = [
      [[1, 2], /object/],
      [{ bucket: 'bad-input', event: { timestamp: '2024-05-01T10:00:00Z', data: {} } }, /pulsetime/],
      [{ bucket: 'bad-input', pulsetime: 'x', event: { timestamp: '2024-05-01T10:00:00Z', data: {} } }, /pulsetime/],
      [{ bucket: 'bad-input', pulsetime: 1, event: { timestamp: 'yesterday', data: {} } }, /timestamp/],
      [{ bucket: 'bad-input', pulsetime: 1, event: { timestamp: '2024-05-01T10:00:00', data: {} } }, /timestamp/],
      [{ bucket: 'bad-input', pulsetime: 1, event: { timestamp: '2024-05-01T10:00:00Z', duration: -1, data: {} } }, /duration/],
      [{ bucket: 'bad-input', pulsetime: 1, event: { timestamp: '2024-05-01T10:00:00Z', data: 'str' } }, /data/],
      [{ bucket: 'no-such-bucket', pulsetime: 1, event: { timestamp: '2024-05-01T10:00:00Z', data: {} } }, /does not exist/],
    ];
    for (const [payload, why] of cases) {
      const r = await l.request<Reply>(SUBJECTS.heartbeat, payload);
      expect(r.ok).toBe(false);
      expect((r as { error: string }).error).toMatch(why);
    }
    expect((await l.request<Reply>(SUBJECTS.insertEvents, { bucket: 'bad-input', events: {} })).ok).toBe(false);
    expect((await l.request<Reply>(SUBJECTS.createBucket, { bucket: 'x' })).ok).toBe(false);
    // A good heartbeat still goes through afterwards, and it is the only thing stored.
    const ok = await l.request<Reply>(SUBJECTS.heartbeat, { bucket: 'bad-input', pulsetime: 1, event: { timestamp: '2024-05-01T10:00:00Z', data: { a: 1 } } });
    expect(ok.ok).toBe(true);
    await waitFor('delivery', () => storedEvents('bad-input').length === 1);
    expect(storedEvents('bad-input')).toEqual([{ timestamp: T0, duration: 0, data: { a: 1 } }]);
    const queue = daemon.supervisor.status().find((c) => c.name === 'queue')!;
    expect([queue.state, queue.restarts]).toEqual(['running', 0]);
    await l.close();
  });

  it('stores every acknowledged heartbeat exactly once while the writer crashes 50 times', async () => {
    const producers = 4, perProducer = 400, pulsetime = 2;
    const links = Array.from({ length: producers }, (_, i) => link(daemon.bus, `p${i}`));
    for (let i = 0; i < producers; i++) expect(await createBucket(links[i]!, `crash-${i}`)).toMatchObject({ ok: true });
    let producing = true;
    const work = links.map((l, i) => produce(l, `crash-${i}`, heartbeatSeries(perProducer, T0 + i * 7_000, `app${i}`), pulsetime));
    const crasher = (async () => {
      let crashes = 0;
      while (crashes < 50) {
        await daemon.supervisor.whenState('storage', 'running', 10_000);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        daemon.supervisor.crashChild('storage', new Error(`injected crash ${crashes}`));
        crashes++;
      }
      return crashes;
    })();
    const [acked, crashes] = await Promise.all([Promise.all(work), crasher]);
    producing = false;
    expect(crashes).toBe(50);
    await daemon.supervisor.whenState('storage', 'running', 10_000);
    for (let i = 0; i < producers; i++) {
      expect(acked[i]).toHaveLength(perProducer);
      const want = expectedEvents(acked[i]!, pulsetime * 1e6);
      await waitFor(`bucket crash-${i} complete`, () => storedEvents(`crash-${i}`).length === want.length && storedEvents(`crash-${i}`).at(-1)!.duration === want.at(-1)!.duration);
      expect(storedEvents(`crash-${i}`)).toEqual(want);
    }
    const storage = daemon.supervisor.status().find((c) => c.name === 'storage')!;
    expect(storage.restarts).toBeGreaterThanOrEqual(50);
    expect(producing).toBe(false);
    await Promise.all(links.map((l) => l.close()));
  });

  it('brings nats-server back after SIGKILL; producers reconnect and nothing acknowledged is lost', async () => {
    const l = link(daemon.bus);
    expect(await createBucket(l, 'nats-kill')).toMatchObject({ ok: true });
    const before = daemon.supervisor.status().find((c) => c.name === 'bus')!;
    expect(before.pid).toBeGreaterThan(0);
    const series = heartbeatSeries(300, T0, 'nk', 3);
    const work = produce(l, 'nats-kill', series, 2);
    await new Promise((r) => setTimeout(r, 150));
    process.kill(before.pid!, 'SIGKILL');
    const after = await waitFor('bus back with a new pid', () => {
      const s = daemon.supervisor.status().find((c) => c.name === 'bus')!;
      return s.state === 'running' && s.pid !== before.pid ? s : undefined;
    });
    expect(after.restarts).toBeGreaterThan(before.restarts);
    const acked = await work;
    expect(acked).toHaveLength(300);
    const want = expectedEvents(acked, 2e6);
    await waitFor('all delivered', () => storedEvents('nats-kill').length === want.length && storedEvents('nats-kill').at(-1)!.duration === want.at(-1)!.duration);
    expect(storedEvents('nats-kill')).toEqual(want);
    await l.close();
  });

  it('crashes and restarts the queue when its delivery loop dies (queue file damaged); writes flow again', async () => {
    const l = link(daemon.bus);
    expect(await createBucket(l, 'loop-death')).toMatchObject({ ok: true });
    const bucketStored = () => {
      const r = new Reader(openReadonly(path.join(tmp.dir, 'sqlite-testing.db')));
      try {
        return r.bucket('loop-death') !== undefined;
      } finally {
        r.db.close();
      }
    };
    await waitFor('bucket delivered', bucketStored);
    const before = daemon.supervisor.status().find((c) => c.name === 'queue')!;
    expect(before.state).toBe('running');
    // The queue's table vanishes under it: its next read fails, and no retry can help.
    const raw = new Database(daemonPaths({ dataDir: tmp.dir, testing: true }).queue);
    raw.exec('DROP TABLE items');
    raw.close();
    const after = await waitFor('queue restarted', () => {
      const s = daemon.supervisor.status().find((c) => c.name === 'queue')!;
      return s.state === 'running' && s.restarts > before.restarts ? s : undefined;
    });
    expect(after.lastError).toMatch(/no such table/);
    const acked = await produce(l, 'loop-death', heartbeatSeries(20, T0, 'ld'), 2);
    const want = expectedEvents(acked, 2e6);
    await waitFor('delivered after the restart', () => storedEvents('loop-death').length === want.length && storedEvents('loop-death').at(-1)!.duration === want.at(-1)!.duration);
    expect(storedEvents('loop-death')).toEqual(want);
    await l.close();
  });
});
