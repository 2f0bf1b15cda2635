// Sync benchmark: 100k events pushed from one device and pulled by another through a local
// nats-server with JetStream, then the end-to-end lag of single heartbeats while idle.
// Run: npm run bench:sync. Env: BENCH_SYNC_EVENTS (default 100000).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const N = Number(process.env.BENCH_SYNC_EVENTS ?? 100_000);
const { buildDaemon } = await import('../dist/daemon.js');
const { defaultConfig } = await import('../dist/config/config.js');
const { daemonPaths } = await import('../dist/config/paths.js');
const { silentLogger } = await import('../dist/log.js');
const { setupSync } = await import('../dist/sync/setup.js');
const { syncedBucket } = await import('../dist/sync/batch.js');
const { findNatsServer } = await import('../dist/bus/nats-server.js');
const { freePort } = await import('../dist/bus/credentials.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-sync-'));
const port = await freePort();
const nats = spawn(findNatsServer(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'js')], { stdio: 'ignore' });
const url = `nats://127.0.0.1:${port}`;
const PASS = 'bench passphrase, long enough';
const BUCKET = 'aw-watcher-window_bench';

async function until(what, fn, timeoutMs = 300_000, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function start(name) {
  const config = defaultConfig(true);
  Object.assign(config.server, { port: 0 });
  config.watchers.enabled = false;
  config.jobs.enabled = false;
  Object.assign(config.sync, { enabled: true, url });
  const paths = daemonPaths({ dataDir: path.join(dir, name), testing: true });
  const d = await buildDaemon({ config, paths, testing: true, log: silentLogger() });
  await d.start();
  return { d, paths, config, api: (p, init) => fetch(`http://127.0.0.1:${d.port}/api/0${p}`, init) };
}
const post = (dev, p, body) => dev.api(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const count = async (dev, bucket) => {
  const r = await dev.api(`/buckets/${bucket}/events/count`);
  return r.ok ? Number(await r.text()) : 0;
};

try {
  await until('nats-server', () => new Promise((res) => net.connect(port, '127.0.0.1').once('connect', function () { this.destroy(); res(true); }).once('error', () => res(false))), 10_000);
  const a = await start('a');
  await post(a, `/buckets/${BUCKET}`, { client: 'bench', type: 'currentwindow', hostname: 'bench' });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < N; i += 5000) {
    const chunk = Array.from({ length: Math.min(5000, N - i) }, (_, k) => ({
      timestamp: new Date(t0 + (i + k) * 3000).toISOString(),
      duration: 2.5,
      data: { app: `app-${(i + k) % 40}`, title: `Document ${(i + k) % 5000} — Editor` },
    }));
    await post(a, `/buckets/${BUCKET}/events`, chunk);
  }
  console.log(`recorded ${N} events on device A (sync not set up yet)`);

  // Push: from setup (the running daemon picks up the key) until every change is acknowledged.
  const push0 = performance.now();
  await setupSync(a.config.sync, a.paths.syncKey, PASS);
  await until('push', async () => {
    const s = a.d.status().sync;
    return s.pushed.changes >= N && s.pushed.pending === 0;
  });
  const pushS = (performance.now() - push0) / 1000;
  const pushed = a.d.status().sync.pushed;

  // Pull: a second device set up and started; until its copy holds every event.
  await setupSync(a.config.sync, daemonPaths({ dataDir: path.join(dir, 'b'), testing: true }).syncKey, PASS);
  const pull0 = performance.now();
  const b = await start('b');
  const copy = syncedBucket(BUCKET, a.d.status().sync.device);
  await until('pull', async () => (await count(b, copy)) >= N, 300_000, 50);
  const pullS = (performance.now() - pull0) / 1000;

  // Lag: one heartbeat on A, idle otherwise, until B shows it.
  const lags = [];
  for (let i = 0; i < 7; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const before = await count(b, copy);
    const at = performance.now();
    await post(a, `/buckets/${BUCKET}/heartbeat?pulsetime=0`, { timestamp: new Date(t0 + (N + 10 + i * 10) * 3000).toISOString(), duration: 0, data: { app: 'lag', title: `beat ${i}` } });
    await until('heartbeat on B', async () => (await count(b, copy)) > before, 10_000, 5);
    lags.push(performance.now() - at);
  }
  lags.sort((x, y) => x - y);
  const storeBytes = (function size(p) {
    const st = fs.statSync(p);
    return st.isDirectory() ? fs.readdirSync(p).reduce((s, f) => s + size(path.join(p, f)), 0) : st.size;
  })(path.join(dir, 'js'));

  console.log(`push: ${N} events in ${pushS.toFixed(2)} s = ${Math.round(N / pushS)} events/s (goal >= 20000; from setup, so the daemon noticing the key, up to 1 s, is included); ${pushed.bytes} sealed bytes (${(pushed.bytes / N).toFixed(0)} B/event)`);
  console.log(`pull: ${N} events in ${pullS.toFixed(2)} s = ${Math.round(N / pullS)} events/s (goal >= 20000), daemon start included`);
  console.log(`lag, one heartbeat while idle: median ${lags[3].toFixed(0)} ms, max ${lags[6].toFixed(0)} ms (goal <= 1000 ms)`);
  console.log(`JetStream store: ${(storeBytes / 1e6).toFixed(1)} MB`);
  await b.d.stop();
  await a.d.stop();
} finally {
  nats.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
