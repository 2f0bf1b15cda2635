import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { activityQuery, multiDeviceActivityQuery, multiDeviceCategoryTimeQuery } from '../../src/query/webui.js';
import { startInProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// Two devices' buckets as sync leaves them on one device: the own pair and a pair synced from a peer.
const HERE = { windowBucket: 'aw-watcher-window_here', afkBucket: 'aw-watcher-afk_here' };
const PEER = { windowBucket: 'aw-watcher-window_peer-synced-from-d2', afkBucket: 'aw-watcher-afk_peer-synced-from-d2' };
const DAY = ['2024-05-01T00:00:00+00:00/2024-05-02T00:00:00+00:00'];

describe('the activity query over several devices', () => {
  const tmp = tempDir();
  let d: Daemon;
  const call = async (path: string, body: unknown) => {
    const r = await fetch(`http://127.0.0.1:${d.port}/api/0${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok && r.status !== 304) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  };
  beforeAll(async () => {
    d = await startInProcess(tmp.dir, (c) => void (c.jobs.enabled = false));
    for (const [host, o, app, start] of [['here', HERE, 'Editor', '10:00'], ['peer', PEER, 'Browser', '10:30']] as const) {
      await call(`/buckets/${o.windowBucket}`, { client: 't', type: 'currentwindow', hostname: host });
      await call(`/buckets/${o.afkBucket}`, { client: 't', type: 'afkstatus', hostname: host });
      await call(`/buckets/${o.windowBucket}/events`, [{ timestamp: `2024-05-01T${start}:00Z`, duration: 3600, data: { app, title: app } }]);
      await call(`/buckets/${o.afkBucket}/events`, [{ timestamp: `2024-05-01T${start}:00Z`, duration: 3600, data: { status: 'not-afk' } }]);
    }
  });
  afterAll(async () => {
    await d?.stop();
    tmp.cleanup();
  });

  it('counts overlapping time once, the first device winning, as ActivityWatch\'s multi-device view', async () => {
    type R = { window: { duration: number; app_events: { duration: number; data: { app: string } }[] } };
    const [one] = (await call('/query/', { timeperiods: DAY, query: activityQuery(HERE) })) as R[];
    expect(one!.window.duration).toBe(3600);
    const [both] = (await call('/query/', { timeperiods: DAY, query: multiDeviceActivityQuery([HERE, PEER]) })) as R[];
    // Editor 10:00–11:00 here; Browser 10:30–11:30 on the peer, of which 11:00–11:30 is not covered yet.
    expect(both!.window.duration).toBe(5400);
    expect(Object.fromEntries(both!.window.app_events.map((e) => [e.data.app, e.duration]))).toEqual({ Editor: 3600, Browser: 1800 });
    const slices = (await call('/query/', { timeperiods: ['2024-05-01T10:00:00Z/2024-05-01T11:00:00Z', '2024-05-01T11:00:00Z/2024-05-01T12:00:00Z'], query: multiDeviceCategoryTimeQuery([HERE, PEER]) })) as { duration: number }[];
    expect(slices.map((s) => s.duration)).toEqual([3600, 1800]);
  });
});
