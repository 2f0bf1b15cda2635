import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginSink } from '../../src/actors/watchers/sink.js';
import type { Daemon } from '../../src/daemon.js';
import { formatTimestamp } from '../../src/model/time.js';
import { connectPlugin, type PluginClient } from '../../src/plugin/index.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;
let client: PluginClient;
beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir);
  client = await connectPlugin({ name: 'sink-test', dataDir: tmp.dir, testing: true });
});
afterAll(async () => {
  await client?.close();
  await daemon?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, unknown> };
const S = 1_000_000;
const T0 = Date.UTC(2026, 0, 1, 10) * 1000;
const iso = (s: number) => formatTimestamp(T0 + s * S);

/** The bucket's events, oldest first, once everything sent so far is stored. */
async function stored(bucket: string): Promise<[string, number, unknown][]> {
  expect(await client.flush(10_000)).toBe(true);
  await waitFor('queue drained', () => (daemon.status().queue as { depth: number }).depth === 0);
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${bucket}/events?limit=-1`);
  return ((await r.json()) as Ev[]).reverse().map((e) => [e.timestamp, e.duration, e.data.title]);
}

describe('the watchers\' sink with a commit interval', () => {
  it('holds heartbeats that only extend the event, writes them once per interval, on a change and on flush', async () => {
    const sink = pluginSink(client, 10_000);
    const bucket = 'sink-test_h';
    await sink.ensureBucket({ id: bucket, type: 'currentwindow', client: 'test', hostname: 'h' });
    const beat = (s: number, title: string) => sink.heartbeat(bucket, { id: null, timestamp: T0 + s * S, duration: 0, data: { app: 'A', title } }, 2 * S);

    // The first heartbeat of an event is written at once; the next ones within 10 s are held.
    for (let s = 0; s <= 5; s++) await beat(s, 'one');
    expect(await stored(bucket)).toEqual([[iso(0), 0, 'one']]);

    // 10 s after the last write, the merged heartbeat is written.
    for (let s = 6; s <= 10; s++) await beat(s, 'one');
    expect(await stored(bucket)).toEqual([[iso(0), 10, 'one']]);

    // New data: the held growth (11 s) first, then the new event, both at once.
    await beat(11, 'one');
    await beat(12, 'two');
    expect(await stored(bucket)).toEqual([[iso(0), 11, 'one'], [iso(12), 0, 'two']]);

    // A gap longer than pulsetime starts a new event even with equal data.
    await beat(13, 'two');
    await beat(20, 'two');
    expect(await stored(bucket)).toEqual([[iso(0), 11, 'one'], [iso(12), 1, 'two'], [iso(20), 0, 'two']]);

    // Shutdown writes what is held.
    await beat(21, 'two');
    await beat(22, 'two');
    expect((await stored(bucket)).at(-1)).toEqual([iso(20), 0, 'two']);
    await sink.flush();
    expect((await stored(bucket)).at(-1)).toEqual([iso(20), 2, 'two']);
  });

  it('with no interval, writes every heartbeat', async () => {
    const sink = pluginSink(client, 0);
    const bucket = 'sink-test_0';
    await sink.ensureBucket({ id: bucket, type: 'currentwindow', client: 'test', hostname: 'h' });
    for (let s = 0; s <= 3; s++) await sink.heartbeat(bucket, { id: null, timestamp: T0 + s * S, duration: 0, data: { app: 'A', title: 'x' } }, 2 * S);
    expect(await stored(bucket)).toEqual([[iso(0), 3, 'x']]);
  });
});
