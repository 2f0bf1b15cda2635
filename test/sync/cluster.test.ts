import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { daemonPaths } from '../../src/config/paths.js';
import type { Daemon } from '../../src/daemon.js';
import { syncedBucket } from '../../src/sync/batch.js';
import { STREAM } from '../../src/sync/server.js';
import { setupSync } from '../../src/sync/setup.js';
import { waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { api, content, createBucket, deviceOf, events, PASS, syncDaemon, windowEvents } from './helpers.js';
import { startCluster, type NatsNode } from './natsenv.js';

const BUCKET = 'aw-watcher-window_alpha';

describe('sync through a three-node NATS cluster (stream replicas 3)', () => {
  const tmp = tempDir('sundial-sync-');
  let nodes: NatsNode[];
  let url: string;
  let a: Daemon, b: Daemon;

  beforeAll(async () => {
    nodes = await startCluster(tmp.dir);
    url = nodes.map((n) => n.url).join(',');
    const cfg = { ...defaultConfig(true).sync, enabled: true, url, replicas: 3 };
    // The cluster elects its JetStream leader first.
    for (const d of ['a', 'b']) await waitFor('cluster ready for setup', () => setupSync(cfg, daemonPaths({ dataDir: `${tmp.dir}/${d}`, testing: true }).syncKey, PASS).then(() => true), 20_000);
    a = await syncDaemon(`${tmp.dir}/a`, url, [], 3);
    b = await syncDaemon(`${tmp.dir}/b`, url, [], 3);
    await createBucket(a, BUCKET);
  }, 45_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const n of nodes ?? []) await n.kill();
    tmp.cleanup();
  });

  it('killing the stream leader during sync loses nothing; the node rejoins', async () => {
    const nc = await connect({ servers: url.split(',') });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(STREAM);
    expect(info.config.num_replicas).toBe(3);
    const leader = nodes.find((n) => n.name === info.cluster?.leader)!;
    const t0 = Date.parse('2026-11-04T08:00:00Z');
    for (let k = 0; k < 6; k++) {
      await api(a, 'POST', `/buckets/${BUCKET}/events`, windowEvents(300, t0 + k * 300 * 10_000, `Cluster${k}`));
      if (k === 2) await leader.kill();
      await new Promise((r) => setTimeout(r, 100));
    }
    const want = content(await events(a, BUCKET));
    expect(want).toHaveLength(1800);
    await waitFor('B has everything', async () => content(await events(b, syncedBucket(BUCKET, deviceOf(a)))).join() === want.join(), 40_000);
    await leader.start();
    await waitFor('the killed node is a current replica again', async () => {
      const i = await jsm.streams.info(STREAM);
      const replicas = [i.cluster?.leader, ...(i.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name)];
      return replicas.includes(leader.name);
    }, 30_000);
    await nc.close();
  }, 90_000);
});
