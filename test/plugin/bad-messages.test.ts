import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import type { Daemon } from '../../src/daemon.js';
import { connectPlugin, type PluginClient } from '../../src/plugin/index.js';
import { link, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const PRODUCER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'producer.mjs');
let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir, (c) => {
    // A plugin process the daemon runs: it finds the bus through the SUNDIAL_BUS_* environment.
    c.plugins = [{ name: 'steady', command: process.execPath, args: [PRODUCER], env: { N: '100000', INTERVAL: '50', NAME: 'steady' } }];
  });
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

const count = async (bucket: string): Promise<number> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events?limit=-1`);
  return r.ok ? ((await r.json()) as unknown[]).length : 0;
};

describe('bad plugin messages', () => {
  it('get error replies naming the problem; the daemon and the other plugins keep running', async () => {
    await waitFor('the supervised plugin writes', async () => (await count('steady_ins')) >= 2);
    const good: PluginClient = await connectPlugin({ name: 'good', bus: daemon.bus, outboxFile: path.join(tmp.dir, 'good.db') });
    await good.ensureBucket({ id: 'good', type: 't', hostname: 'h' });

    const bad = link(daemon.bus, 'bad-plugin');
    const nc = await bad.connection();
    const raw = async (subject: string, body: Uint8Array | string) => JSON.parse(Buffer.from((await nc.request(subject, typeof body === 'string' ? Buffer.from(body) : body, { timeout: 3_000 })).data).toString()) as Reply;
    const ev = { timestamp: '2026-01-01T00:00:00Z', data: {} };
    const cases: [string, Uint8Array | string | unknown, RegExp][] = [
      [SUBJECTS.heartbeat, '{"bucket": ', /JSON/],
      [SUBJECTS.heartbeat, new Uint8Array([0xff, 0xfe, 0x00, 0x01]), /JSON/],
      [SUBJECTS.heartbeat, '', /JSON/],
      [SUBJECTS.heartbeat, 'null', /object/],
      [SUBJECTS.heartbeat, { bucket: 7, pulsetime: 1, event: ev }, /bucket/],
      [SUBJECTS.heartbeat, { bucket: 'good', pulsetime: -1, event: ev }, /pulsetime/],
      [SUBJECTS.heartbeat, { bucket: 'good', pulsetime: 1, event: { ...ev, duration: 'long' } }, /duration/],
      [SUBJECTS.heartbeat, { bucket: 'good', pulsetime: 1, event: { ...ev, timestamp: 1700000000 } }, /timestamp/],
      [SUBJECTS.createBucket, { bucket: 'x' }, /type|client|hostname/],
      [SUBJECTS.createBucket, { bucket: '', type: 't', client: 'c', hostname: 'h' }, /bucket/],
      [SUBJECTS.insertEvents, { bucket: 'good', events: [ev, { ...ev, data: 5 }] }, /events\[1\]\.data/],
      [SUBJECTS.insertEvents, { bucket: 'good', events: Array.from({ length: 10_001 }, () => ev) }, /at most/],
      [SUBJECTS.insertEvents, { bucket: 'good', key: { no: 1 }, events: [ev] }, /key/],
    ];
    for (const [subject, body, why] of cases) {
      const r = await raw(subject, typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body));
      expect(r, `${subject} ${String(body).slice(0, 40)}`).toMatchObject({ ok: false, status: 400 });
      expect((r as { error: string }).error).toMatch(why);
    }
    // A bucket that does not exist is 404, so a client knows to create it (not retry as is).
    expect(await raw(SUBJECTS.heartbeat, JSON.stringify({ bucket: 'nope', pulsetime: 1, event: ev }))).toMatchObject({ ok: false, status: 404 });
    // Fire-and-forget garbage (no reply subject) is logged and dropped without harm.
    for (let i = 0; i < 100; i++) nc.publish(SUBJECTS.insertEvents, Buffer.from(i % 2 ? '][' : '{"bucket":"good","events":[{}]}'));
    await nc.flush();

    // Meanwhile and afterwards: good writes still go through.
    for (let i = 0; i < 20; i++) await good.insert('good', [{ timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)), data: { i } }]);
    expect(await good.flush(10_000)).toBe(true);
    await waitFor('good inserts stored', async () => (await count('good')) === 20);
    expect(good.status()).toMatchObject({ rejected: 0, queued: 0 });
    const before = await count('steady_ins');
    await waitFor('the supervised plugin still writes', async () => (await count('steady_ins')) > before + 2);

    for (const c of daemon.supervisor.status()) {
      expect(c.state, c.name).toBe('running');
      expect(c.restarts, c.name).toBe(0);
    }
    await good.close();
    await bad.close();
  }, 60_000);
});
