import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { daemonPaths } from '../../src/config/paths.js';
import { defaultConfig } from '../../src/config/config.js';
import { setupSync } from '../../src/sync/setup.js';
import { controlRequest } from '../../src/http/control/socket.js';
import { syncedBucket } from '../../src/sync/batch.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/daemon.js';
import { startNats, storeBytes, type NatsNode } from './natsenv.js';
import { api, bucketIds, content, createBucket, deviceOf, events, PASS, syncDaemon, syncStatus, windowEvents } from './helpers.js';

const keyFile = (dir: string) => daemonPaths({ dataDir: dir, testing: true }).syncKey;
const cfgFor = (url: string) => ({ ...defaultConfig(true).sync, enabled: true, url });

describe('sync: three daemons, one nats-server', () => {
  const tmp = tempDir('sundial-sync-');
  let nats: NatsNode;
  const dirs = ['a', 'b', 'c'].map((n) => `${tmp.dir}/${n}`);
  const daemons: Daemon[] = [];
  const logs: string[][] = [[], [], []];

  beforeAll(async () => {
    nats = await startNats(tmp.dir);
    for (const d of dirs) await setupSync(cfgFor(nats.url), keyFile(d), PASS);
    for (let i = 0; i < 3; i++) daemons.push(await syncDaemon(dirs[i]!, nats.url, logs[i]));
  }, 30_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await nats?.kill();
    tmp.cleanup();
  });

  it('converges: every device gets the others\' shared buckets once, with provenance, and echoes nothing', async () => {
    const [a, b, c] = daemons as [Daemon, Daemon, Daemon];
    const t0 = Date.parse('2026-11-02T09:00:00Z');
    await createBucket(a, 'aw-watcher-window_alpha');
    await api(a, 'POST', '/buckets/aw-watcher-window_alpha/events', windowEvents(50, t0, 'Zanzibar'));
    await createBucket(b, 'aw-watcher-afk_beta', 'afkstatus');
    await api(b, 'POST', '/buckets/aw-watcher-afk_beta/events', [{ timestamp: new Date(t0).toISOString(), duration: 60, data: { status: 'not-afk' } }]);
    // Not shared: not an aw-watcher-* bucket.
    await createBucket(a, 'private-notes');
    await api(a, 'POST', '/buckets/private-notes/events', [{ timestamp: new Date(t0).toISOString(), duration: 1, data: { note: 'Quetzalcoatl' } }]);
    // Heartbeats merge on A; the merged event reaches the others with its final duration.
    for (let i = 0; i < 5; i++) {
      await api(a, 'POST', '/buckets/aw-watcher-window_alpha/heartbeat?pulsetime=2', { timestamp: new Date(t0 + 3_600_000 + i * 1000).toISOString(), duration: 0, data: { app: 'ZanzibarApp', title: 'beat' } });
    }
    const fromA = syncedBucket('aw-watcher-window_alpha', deviceOf(a));
    const fromB = syncedBucket('aw-watcher-afk_beta', deviceOf(b));
    const want = content(await events(a, 'aw-watcher-window_alpha'));
    expect(want).toHaveLength(51);
    for (const d of [b, c]) await waitFor('A\'s events', async () => content(await events(d, fromA)).join() === want.join(), 20_000);
    for (const d of [a, c]) await waitFor('B\'s events', async () => (await events(d, fromB)).length === 1, 20_000);
    // Provenance in the bucket data.
    const meta = ((await api(c, 'GET', '/buckets/')) as Record<string, { data: Record<string, unknown>; hostname: string }>)[fromA]!;
    expect(meta.data.synced_from).toEqual({ device: deviceOf(a), bucket: 'aw-watcher-window_alpha', hostname: 'host-aw-watcher-window_alpha' });
    // No echo, no private bucket, nothing twice.
    await new Promise((r) => setTimeout(r, 800));
    expect(await bucketIds(c)).toEqual([fromA, fromB].sort());
    expect(await bucketIds(a)).toEqual(['aw-watcher-window_alpha', fromB, 'private-notes'].sort());
    expect((await bucketIds(b)).filter((id) => id.includes('-synced-from-'))).toEqual([fromA]);
    expect(await events(b, fromA)).toHaveLength(51);
    // Status per peer.
    await waitFor('peers in status', () => syncStatus(c).peers.length === 2 && syncStatus(c).peers.every((p) => p.lastSeen !== null && p.behind === 0));
    expect(syncStatus(a).state).toBe('syncing');
  }, 40_000);

  it('edits and deletes propagate as tombstones (replace, delete, forget)', async () => {
    const [a, b, c] = daemons as [Daemon, Daemon, Daemon];
    const fromA = syncedBucket('aw-watcher-window_alpha', deviceOf(a));
    const mine = await events(a, 'aw-watcher-window_alpha');
    const [first, second] = [mine.find((e) => e.data.title === 'ZanzibarTitle-1')!, mine.find((e) => e.data.title === 'ZanzibarTitle-2')!];
    await api(a, 'POST', '/buckets/aw-watcher-window_alpha/events', [{ ...first, data: { app: 'ZanzibarApp', title: 'edited' } }]);
    await api(a, 'DELETE', `/buckets/aw-watcher-window_alpha/events/${second.id}`);
    // forget goes through the control action, as `sundial forget` does.
    const forgot = (await controlRequest(daemonPaths({ dataDir: dirs[0]!, testing: true }).controlSocket, 'POST', '/api/control/forget', { match: 'ZanzibarTitle-3', key: 'title' }, 5_000)).body as { deleted: number };
    expect(forgot.deleted).toBe(1);
    const want = content(await events(a, 'aw-watcher-window_alpha'));
    expect(want).toHaveLength(49);
    for (const d of [b, c]) await waitFor('edits on ' + deviceOf(d), async () => content(await events(d, fromA)).join() === want.join(), 20_000);
    const titles = (await events(c, fromA)).map((e) => e.data.title);
    expect(titles).toContain('edited');
    expect(titles).not.toContain('ZanzibarTitle-2');
    expect(titles).not.toContain('ZanzibarTitle-3');
  }, 30_000);

  it('the server holds no plaintext', () => {
    const bytes = storeBytes(nats.storeDir);
    expect(bytes.length).toBeGreaterThan(1000);
    for (const secret of ['Zanzibar', 'aw-watcher-window_alpha', 'aw-watcher-afk_beta', 'not-afk', 'edited', 'host-aw']) expect(bytes.includes(secret)).toBe(false);
  });
});
