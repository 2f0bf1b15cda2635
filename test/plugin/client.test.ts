import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import type { Daemon } from '../../src/daemon.js';
import { connectPlugin, OutboxFullError } from '../../src/plugin/index.js';
import { openOutbox } from '../../src/plugin/outbox.js';
import { busOf, link, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir);
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, unknown> };
const events = async (bucket: string): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events?limit=-1`);
  return r.ok ? ((await r.json()) as Ev[]).reverse() : [];
};
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
// A port nothing listens on: the daemon is "down".
const nowhere = { url: 'nats://127.0.0.1:1', user: 'x', pass: 'y' };

describe('sundial/plugin client', () => {
  it('finds the bus through the credentials file and delivers heartbeats and inserts in order', async () => {
    const p = await connectPlugin({ name: 'p-basic', dataDir: tmp.dir, testing: true });
    await p.ensureBucket({ id: 'p-basic_h', type: 'test.plugin', hostname: 'h' });
    for (let i = 0; i < 5; i++) await p.heartbeat('p-basic_h', { timestamp: at(i), data: { v: 'a' } }, 2);
    await p.insert('p-basic_h', [{ timestamp: at(10), duration: 1, data: { v: 'b' } }]);
    expect(await p.flush(10_000)).toBe(true);
    // Acknowledged = durably queued by the daemon; stored a moment later.
    const evs = await waitFor('stored', async () => ((await events('p-basic_h')).length === 2 ? events('p-basic_h') : undefined));
    expect(evs.map((e) => [e.timestamp, e.duration, e.data.v])).toEqual([
      [at(0).replace('.000', ''), 4, 'a'],
      [at(10).replace('.000', ''), 1, 'b'],
    ]);
    expect(p.status()).toMatchObject({ connected: true, queued: 0, rejected: 0 });
    expect((await p.daemonStatus()).version).toBeTypeOf('string');
    await p.close();
  });

  it('while the daemon is unreachable: heartbeats pre-merge in the outbox file, inserts wait; all go out in order later', async () => {
    const outboxFile = path.join(tmp.dir, 'offline.outbox.db');
    const off = await connectPlugin({ name: 'p-offline', bus: nowhere, outboxFile, requestTimeoutMs: 300 });
    await off.ensureBucket({ id: 'p-off', type: 'test.plugin', hostname: 'h' });
    for (let i = 0; i < 3600; i += 1) await off.heartbeat('p-off', { timestamp: at(i), data: { v: i < 1800 ? 'x' : 'y' } }, 1.5);
    await off.insert('p-off', [{ timestamp: at(5000), data: { n: 1 } }]);
    await off.heartbeat('p-off', { timestamp: at(5001), data: { v: 'y' } }, 1.5);
    // An hour of heartbeats is a handful of writes: bucket, 2 merged heartbeats, the insert, 1 heartbeat.
    expect(off.status()).toMatchObject({ connected: false, queued: 5, delivered: 0 });
    expect(fs.statSync(outboxFile).mode & 0o777).toBe(0o600);
    await off.close({ flushMs: 0 });

    // Started again, now with a daemon: the outbox file is sent.
    const on = await connectPlugin({ name: 'p-offline', bus: daemon.bus, outboxFile });
    expect(await on.flush(15_000)).toBe(true);
    expect(on.status().delivered).toBe(5);
    const evs = await waitFor('stored', async () => ((await events('p-off')).length === 4 ? events('p-off') : undefined));
    expect(evs.map((e) => [e.timestamp, e.duration, e.data])).toEqual([
      [at(0).replace('.000', ''), 1799, { v: 'x' }],
      [at(1800).replace('.000', ''), 1799, { v: 'y' }],
      [at(5000).replace('.000', ''), 0, { n: 1 }],
      [at(5001).replace('.000', ''), 0, { v: 'y' }],
    ]);
    await on.close();
  });

  it('a full outbox refuses new writes with an error to the caller, but keeps merging heartbeats', async () => {
    const p = await connectPlugin({ name: 'p-full', bus: nowhere, outboxFile: path.join(tmp.dir, 'full.outbox.db'), maxQueued: 2, requestTimeoutMs: 200 });
    await p.heartbeat('b', { timestamp: at(0), data: { v: 1 } }, 5);
    await p.insert('b', [{ timestamp: at(1), data: {} }]);
    await expect(p.insert('b', [{ timestamp: at(2), data: {} }])).rejects.toBeInstanceOf(OutboxFullError);
    await expect(p.heartbeat('b', { timestamp: at(3), data: { v: 2 } }, 5)).rejects.toBeInstanceOf(OutboxFullError);
    expect(p.status().queued).toBe(2);
    await p.close({ flushMs: 0 });
  });

  it('one process per outbox file', async () => {
    const file = path.join(tmp.dir, 'locked.outbox.db');
    const a = openOutbox(file, 10);
    expect(() => openOutbox(file, 10)).toThrow(/in use by another process/);
    a.close();
    openOutbox(file, 10).close();
  });

  it('bad input is refused at the call; a write the daemon refuses for good is reported, and the rest go on', async () => {
    const rejections: unknown[] = [];
    const p = await connectPlugin({ name: 'p-bad', bus: daemon.bus, outboxFile: path.join(tmp.dir, 'bad.outbox.db'), onRejected: (r) => rejections.push(r) });
    await expect(p.heartbeat('x', { timestamp: '2026-01-01 10:00', data: {} }, 1)).rejects.toThrow(/RFC 3339/);
    await expect(p.heartbeat('x', { timestamp: at(0), data: [] as never }, 1)).rejects.toThrow(/data must be a JSON object/);
    await p.heartbeat('no-such-bucket', { timestamp: at(0), data: {} }, 1); // never created: 404 for good
    await p.ensureBucket({ id: 'p-bad_ok', type: 't', hostname: 'h' });
    await p.heartbeat('p-bad_ok', { timestamp: at(0), data: { ok: true } }, 1);
    expect(await p.flush(10_000)).toBe(true);
    expect(rejections).toEqual([{ kind: 'heartbeat', bucket: 'no-such-bucket', error: expect.stringMatching(/does not exist/) }]);
    await waitFor('stored', async () => (await events('p-bad_ok')).length === 1);
    expect(p.status()).toMatchObject({ rejected: 1, delivered: 2 });
    await p.close();
  });

  it('the daemon takes an insert with an idempotency key once, however often it is sent', async () => {
    const l = link(busOf(tmp.dir));
    await l.request(SUBJECTS.createBucket, { bucket: 'idem', type: 't', client: 'c', hostname: 'h' });
    const msg = { bucket: 'idem', key: 'producer-1:1', events: [{ timestamp: at(0), duration: 1, data: { k: 1 } }] };
    const r1 = await l.request<Reply>(SUBJECTS.insertEvents, msg);
    const r2 = await l.request<Reply>(SUBJECTS.insertEvents, msg);
    const r3 = await l.request<Reply>(SUBJECTS.insertEvents, { ...msg, key: 'producer-1:2' });
    expect(r1.ok && r2.ok && r3.ok).toBe(true);
    expect((r2 as { seq: number }).seq).toBe((r1 as { seq: number }).seq);
    expect((r3 as { seq: number }).seq).toBeGreaterThan((r1 as { seq: number }).seq);
    await waitFor('two stored', async () => (await events('idem')).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await events('idem')).toHaveLength(2);
    const bad = await l.request<Reply>(SUBJECTS.insertEvents, { ...msg, key: 42 });
    expect(bad).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/key/) });
    await l.close();
  });

  it('follows the bus when the daemon comes back on another port, re-creating a bucket the new daemon lacks', async () => {
    const other = tempDir();
    const d1 = await startInProcess(path.join(other.dir, 'd1'));
    const d2 = await startInProcess(path.join(other.dir, 'd2'));
    const pluginDir = path.join(other.dir, 'plugin-view');
    const busJson = path.join(pluginDir, 'bus-testing', 'bus.json');
    const pointTo = (d: Daemon) => {
      fs.mkdirSync(path.dirname(busJson), { recursive: true });
      const port = Number(new URL(d.bus.url).port);
      fs.writeFileSync(busJson, JSON.stringify({ port, user: d.bus.user, pass: d.bus.pass, url: d.bus.url }));
    };
    try {
      pointTo(d1);
      const p = await connectPlugin({ name: 'p-moves', dataDir: pluginDir, testing: true, requestTimeoutMs: 500 });
      await p.ensureBucket({ id: 'moves', type: 't', hostname: 'h' });
      await p.heartbeat('moves', { timestamp: at(0), data: { d: 1 } }, 1);
      expect(await p.flush(10_000)).toBe(true);
      await d1.stop();
      pointTo(d2);
      await p.insert('moves', [{ timestamp: at(10), data: { d: 2 } }]);
      expect(await p.flush(30_000)).toBe(true);
      const evs = await waitFor('stored on the second daemon', async () => {
        const r = await fetch(`http://127.0.0.1:${d2.port}/api/0/buckets/moves/events`);
        const list = r.ok ? ((await r.json()) as Ev[]) : [];
        return list.length === 1 ? list : undefined;
      });
      expect(evs[0]!.data).toEqual({ d: 2 });
      await p.close();
    } finally {
      await d2.stop();
      other.cleanup();
    }
  }, 60_000);

  it('holds its writes while the daemon answers "queue full", and sends them once there is room', async () => {
    const other = tempDir();
    const d = await startInProcess(other.dir, (c) => (c.queue.max_items = 3));
    try {
      const p = await connectPlugin({ name: 'p-full-daemon', bus: d.bus, outboxFile: path.join(other.dir, 'o.db') });
      await p.ensureBucket({ id: 'fullq', type: 't', hostname: 'h' });
      expect(await p.flush(10_000)).toBe(true);
      await d.supervisor.stopChild('storage'); // the daemon's queue holds everything now
      for (let i = 0; i < 8; i++) await p.insert('fullq', [{ timestamp: at(i), data: { i } }]);
      await waitFor('the daemon refusing with queue full', () => /full/.test(p.status().lastError ?? ''));
      expect(p.status().queued).toBe(5); // 3 taken by the daemon's queue, 5 waiting here
      await d.supervisor.startChild('storage');
      expect(await p.flush(20_000)).toBe(true);
      const evs = await waitFor('all stored once', async () => {
        const r = await fetch(`http://127.0.0.1:${d.port}/api/0/buckets/fullq/events?limit=-1`);
        const list = r.ok ? ((await r.json()) as Ev[]) : [];
        return list.length === 8 ? list : undefined;
      });
      expect(evs.map((e) => e.data.i).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(p.status()).toMatchObject({ rejected: 0, delivered: 9 });
      await p.close();
    } finally {
      await d.stop();
      other.cleanup();
    }
  }, 60_000);
});
