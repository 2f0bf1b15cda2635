import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { daemonPaths } from '../../src/config/paths.js';
import type { Daemon } from '../../src/daemon.js';
import { syncedBucket } from '../../src/sync/batch.js';
import { seal } from '../../src/sync/envelope.js';
import { keyFromMaster, readKeyFile, writeKeyFile } from '../../src/sync/key.js';
import { deviceSubject, STREAM } from '../../src/sync/server.js';
import { setupSync } from '../../src/sync/setup.js';
import { runCli, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { api, content, createBucket, deviceOf, events, PASS, syncDaemon, syncStatus, windowEvents } from './helpers.js';
import { startNats, type NatsNode } from './natsenv.js';

const keyFile = (dir: string) => daemonPaths({ dataDir: dir, testing: true }).syncKey;
const cfgFor = (url: string) => ({ ...defaultConfig(true).sync, enabled: true, url });
const BUCKET = 'aw-watcher-window_alpha';

describe('sync: setup in a running daemon, offline catch-up, refusals', () => {
  const tmp = tempDir('sundial-sync-');
  let nats: NatsNode;
  const [dirA, dirB, dirC] = ['a', 'b', 'c'].map((n) => `${tmp.dir}/${n}`) as [string, string, string];
  let a: Daemon, b: Daemon;
  const linesB: string[] = [];

  beforeAll(async () => {
    nats = await startNats(tmp.dir);
    await setupSync(cfgFor(nats.url), keyFile(dirA), PASS);
    a = await syncDaemon(dirA, nats.url);
    await createBucket(a, BUCKET);
  }, 30_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await nats?.kill();
    tmp.cleanup();
  });

  it('a running daemon starts syncing once `sync setup` wrote its key', async () => {
    b = await syncDaemon(dirB, nats.url, linesB);
    expect(syncStatus(b).state).toBe('waiting-for-setup');
    await api(a, 'POST', `/buckets/${BUCKET}/events`, windowEvents(200, Date.parse('2026-11-01T08:00:00Z'), 'Ouagadougou'));
    await setupSync(cfgFor(nats.url), keyFile(dirB), PASS);
    expect(fs.statSync(keyFile(dirB)).mode & 0o777).toBe(0o600);
    await waitFor('B syncing', () => syncStatus(b).state === 'syncing', 10_000);
    await waitFor('B has A\'s events', async () => (await events(b, syncedBucket(BUCKET, deviceOf(a))).catch(() => [])).length === 200, 15_000);
  }, 30_000);

  it('a device offline while thousands of events are recorded catches up exactly; a push restarted mid-way repeats nothing', async () => {
    await b.stop();
    const t0 = Date.parse('2026-11-03T08:00:00Z');
    for (let k = 0; k < 3; k++) {
      await api(a, 'POST', `/buckets/${BUCKET}/events`, windowEvents(1000, t0 + k * 1000 * 10_000, `Offline${k}`));
      // The push child restarted while it publishes: it resumes from its persisted cursor.
      if (k === 1) await a.supervisor.restartChild('sync');
    }
    const mine = await events(a, BUCKET);
    await api(a, 'DELETE', `/buckets/${BUCKET}/events/${mine[0]!.id}`);
    const want = content(await events(a, BUCKET));
    expect(want).toHaveLength(3199);
    b = await syncDaemon(dirB, nats.url, linesB);
    await waitFor('B caught up', async () => content(await events(b, syncedBucket(BUCKET, deviceOf(a)))).join() === want.join(), 30_000);
    await waitFor('A has pushed everything', () => syncStatus(a).pushed.pending === 0 || undefined, 5_000);
  }, 60_000);

  it('a wrong passphrase is refused at setup, and a daemon with a foreign key reads nothing and says so', async () => {
    await expect(setupSync(cfgFor(nats.url), keyFile(dirC), 'not the passphrase')).rejects.toThrow(/wrong passphrase/);
    expect(fs.existsSync(keyFile(dirC))).toBe(false);
    // A key from another passphrase with the group's salt, as a copied or stale key file would be.
    writeKeyFile(keyFile(dirC), readKeyFile(keyFile(dirA))!.salt, crypto.randomBytes(32));
    const c = await syncDaemon(dirC, nats.url);
    try {
      await waitFor('wrong-key state', () => syncStatus(c).state === 'wrong-key', 10_000);
      expect(syncStatus(c).message).toMatch(/passphrase/);
      expect(Object.keys((await api(c, 'GET', '/buckets/')) as object)).toEqual([]);
    } finally {
      await c.stop();
    }
  }, 30_000);

  it('foreign, undecryptable, wrong-version and replayed messages are refused, logged once, and change nothing', async () => {
    const fromA = syncedBucket(BUCKET, deviceOf(a));
    const before = content(await events(b, fromA));
    const nc = await connect({ servers: nats.url });
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(STREAM, { last_by_subj: deviceSubject(deviceOf(a)) });
    const fake = crypto.randomUUID();
    await js.publish(deviceSubject(fake), new TextEncoder().encode('{"title":"hello"}'));
    await js.publish(deviceSubject(fake), new TextEncoder().encode('garbage again'));
    const wrongVersion = Buffer.from(stored.data);
    wrongVersion[4] = 9;
    await js.publish(deviceSubject(deviceOf(a)), wrongVersion);
    await js.publish(deviceSubject(fake), stored.data); // A's message under another device's subject
    const otherKey = keyFromMaster(crypto.randomBytes(32), crypto.randomBytes(16));
    const forged = seal(otherKey, { device: deviceOf(a), prev: 1_000_000, last: 1_000_001, buckets: [{ name: BUCKET, type: 'x', client: 'x', hostname: 'x', created: 0, data: {} }], changes: [{ s: 1_000_001, i: 1, b: 0, t: 0, e: 1, d: { title: 'forged' } }] });
    await js.publish(deviceSubject(deviceOf(a)), forged);
    await js.publish(deviceSubject(deviceOf(a)), stored.data); // replayed
    await nc.close();
    await waitFor('all refused', () => {
      const r = syncStatus(b).refused;
      return r.malformed === 2 && r.version === 1 && r.foreign === 1 && r.undecryptable === 1 && r.replayed === 1;
    }, 10_000);
    expect(content(await events(b, fromA))).toEqual(before);
    const refusals = linesB.filter((l) => l.includes('sync message refused'));
    expect(refusals.filter((l) => l.includes('"malformed"'))).toHaveLength(1);
    expect(refusals).toHaveLength(5);
    // The fake device's subject made no bucket.
    expect(Object.keys((await api(b, 'GET', '/buckets/')) as object).some((id) => id.includes(fake))).toBe(false);
  }, 30_000);

  it('the CLI: `sync setup --passphrase-file` and `sync status`', async () => {
    const dirD = `${tmp.dir}/d`;
    fs.mkdirSync(dirD, { mode: 0o700 });
    fs.writeFileSync(`${dirD}/config-testing.toml`, `[sync]\nenabled = true\nurl = "${nats.url}"\n`);
    fs.writeFileSync(`${tmp.dir}/pass`, `${PASS}\n`);
    const setup = await runCli(['sync', 'setup', '--testing', '--data-dir', dirD, '--passphrase-file', `${tmp.dir}/pass`]);
    expect(setup.stderr).toBe('');
    expect(setup.stdout).toMatch(/passphrase matches the sync group/);
    expect(readKeyFile(keyFile(dirD))!.seal).toEqual(readKeyFile(keyFile(dirA))!.seal);
    fs.writeFileSync(`${tmp.dir}/wrong`, 'another passphrase\n');
    const wrong = await runCli(['sync', 'setup', '--testing', '--data-dir', `${tmp.dir}/e`, '--config', `${dirD}/config-testing.toml`, '--passphrase-file', `${tmp.dir}/wrong`]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    const status = await runCli(['sync', 'status', '--testing', '--data-dir', dirB]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/sync: syncing/);
    expect(status.stdout).toContain(`peer ${deviceOf(a)}: last seen`);
    expect(status.stdout).toMatch(/0 changes behind/);
  }, 30_000);

  it('turning sync off stops its change log', async () => {
    await a.stop();
    a = await startInProcess(dirA, (c) => void (c.jobs.enabled = false));
    const db = new Database(daemonPaths({ dataDir: dirA, testing: true }).database, { readonly: true });
    try {
      await waitFor('sync_share emptied', () => db.prepare('SELECT count(*) FROM sync_share').pluck().get() === 0, 10_000);
      await api(a, 'POST', `/buckets/${BUCKET}/events`, windowEvents(3, Date.parse('2026-11-05T08:00:00Z'), 'Off'));
      expect(db.prepare('SELECT count(*) FROM sync_log').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  }, 30_000);
});
