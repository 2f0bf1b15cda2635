import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { parseTimestamp } from '../../src/model/time.js';
import { expectedEvents, spawnDaemon, waitFor, waitForHttp } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const PRODUCER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'producer.mjs');
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const exited = (p: ReturnType<typeof spawn>) =>
  new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function daemonUp(dataDir: string, port: number) {
  const p = spawnDaemon(dataDir, port);
  cleanups.push(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await exited(p);
    }
  });
  await waitForHttp(port);
  return p;
}

type Ev = { id: number; timestamp: string; duration: number; data: Record<string, number> };

describe('a plugin process while the daemon is down', () => {
  it('every heartbeat and insert arrives, in order, once, after the daemon was stopped for 20 s', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    fs.writeFileSync(path.join(tmp.dir, 'config-testing.json'), JSON.stringify({ watchers: { enabled: false } }));
    const port = await freePort();
    let daemon = await daemonUp(tmp.dir, port);

    const N = 130;
    const producer = spawn(process.execPath, [PRODUCER], {
      env: { ...process.env, N: String(N), INTERVAL: '200', NAME: 'outage', SUNDIAL_DATA_DIR: tmp.dir, SUNDIAL_TESTING: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    producer.stdout!.on('data', (d) => (out += d));
    producer.stderr!.on('data', (d) => (err += d));
    cleanups.push(() => void producer.kill('SIGKILL'));

    const api = (p: string) => fetch(`http://127.0.0.1:${port}/api/0${p}`);
    await waitFor('first heartbeats stored', async () => (await api('/buckets/outage_hb')).ok, 20_000);
    daemon.kill('SIGTERM');
    expect(await exited(daemon)).toBe(0);
    await sleep(20_000);
    daemon = await daemonUp(tmp.dir, port);

    expect(await exited(producer)).toBe(0);
    const final = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(final).toMatchObject({ flushed: true, queued: 0, rejected: 0 });
    // The outage shows in the producer's own progress lines: writes waited in its outbox.
    expect(err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { queued: number; connected: boolean }).some((s) => !s.connected && s.queued > 0)).toBe(true);

    const t0 = parseTimestamp('2025-03-01T09:00:00Z');
    const beats = Array.from({ length: N }, (_, i) => ({ id: null, timestamp: t0 + i * 1_000_000, duration: 0, data: { run: Math.floor(i / 7) } }));
    const want = expectedEvents(beats, 1_500_000).map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data }));
    let seen: Ev[] = [];
    const hb = await waitFor('all heartbeats stored', async () => {
      const evs = (seen = ((await (await api('/buckets/outage_hb/events?limit=-1')).json()) as Ev[]).reverse());
      return evs.length >= want.length && evs[evs.length - 1]!.duration === want[want.length - 1]!.duration / 1e6 ? evs : undefined;
    }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
    });
    expect(hb.map((e) => ({ timestamp: parseTimestamp(e.timestamp), duration: Math.round(e.duration * 1e6), data: e.data }))).toEqual(want);

    const ins = await waitFor('all inserts stored', async () => {
      const evs = (await (await api('/buckets/outage_ins/events?limit=-1')).json()) as Ev[];
      return evs.length >= N / 10 ? evs : undefined;
    }, 30_000);
    await sleep(500);
    const inserted = ((await (await api('/buckets/outage_ins/events?limit=-1')).json()) as Ev[]).sort((a, b) => a.id - b.id);
    // Once each, stored in the order they were made (ids rise with n).
    expect(inserted.map((e) => e.data.n)).toEqual(Array.from({ length: Math.ceil(N / 10) }, (_, k) => k * 10));
    expect(ins.length).toBe(inserted.length);
  }, 120_000);
});
