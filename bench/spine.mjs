#!/usr/bin/env node
// Spine benchmark: bus → heartbeat queue → storage writer, against a real `sundial start` process.
//
//   node bench/spine.mjs [--quick] [--keep]      (npm run bench:spine)
//
// Starts a daemon in a fresh temp dir, connects producers straight to its NATS bus (each with its
// own connection and bucket), and measures acked heartbeats/s with ack latency, then delivered/s
// (until the queue is empty, i.e. everything acked is in the database), then idle RSS of the daemon
// and of nats-server. Prints a table and a final JSON line. Uses only bin/sundial.js (dist/) and `nats`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { cpuTicks, procStat } from './proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'sundial.js');
const argv = new Set(process.argv.slice(2));
const QUICK = argv.has('--quick');
const KEEP = argv.has('--keep'); // keep the temp dir (for looking at logs/databases afterwards)

// Scenarios: producers × in-flight window per producer. Heartbeat counts are per run (all
// producers together); the time cap only guards against a stalled daemon blowing the budget.
const SCALE = QUICK ? 0.25 : 1;
const SCENARIOS = [
  { producers: 1, window: 1, heartbeats: 1_000 },
  { producers: 4, window: 1, heartbeats: 3_000 },
  { producers: 16, window: 1, heartbeats: 4_000 },
  { producers: 1, window: 32, heartbeats: 12_000 },
  { producers: 4, window: 32, heartbeats: 16_000 },
  { producers: 16, window: 32, heartbeats: 16_000 },
].map((s) => ({ ...s, heartbeats: Math.max(s.producers * 20, Math.round(s.heartbeats * SCALE)) }));
const WARMUP = { producers: 2, window: 8, heartbeats: 400 };
const RUN_CAP_MS = 10_000; // stop issuing new heartbeats after this; the run is marked "capped"
const DRAIN_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_TRIES = 3;
const PULSETIME_S = 10; // heartbeats are 1 s apart: merging ones always fall inside the pulse
const IDLE_WAIT_MS = 5_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const enc = (v) => Buffer.from(JSON.stringify(v));
const dec = (m) => JSON.parse(Buffer.from(m.data).toString('utf8'));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, fn, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

/** VmRSS / VmHWM in MiB and CPU seconds (utime+stime) of a Linux process; nulls elsewhere. */
function procStats(pid) {
  const out = { rssMiB: null, hwmMiB: null, cpuS: null };
  if (!pid) return out;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => {
      const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
      return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
    };
    out.rssMiB = kb('VmRSS');
    out.hwmMiB = kb('VmHWM');
    out.cpuS = cpuTicks(procStat(pid).fields) / 100;
  } catch {
    /* not Linux, or the process is gone */
  }
  return out;
}

/** fsync latency of the disk under the data dir: the floor for a durable ack (synchronous=FULL). */
function fsyncProbe(dir, n = 100) {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const lat = [];
  try {
    for (let i = 0; i < n; i++) {
      fs.writeSync(fd, Buffer.alloc(4096, i), 0, 4096, 0);
      const t = performance.now();
      fs.fsyncSync(fd);
      lat.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  lat.sort((a, b) => a - b);
  return { p50Ms: r1(percentile(lat, 50)), p99Ms: r1(percentile(lat, 99)) };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const r1 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);
const r0 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x));

// ---------------------------------------------------------------------------------------------
// The daemon under test

async function startDaemon(dataDir) {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: run `npx tsc -p .` (npm run build) first');
  const stale = staleSources();
  const port = await freePort();
  const configFile = path.join(dataDir, 'config-testing.json');
  // Watchers would add their own heartbeats (and need X); switch them off where the key exists.
  fs.writeFileSync(configFile, JSON.stringify({ watchers: { enabled: false } }) + '\n');
  let d = spawnDaemon(dataDir, port);
  try {
    await waitForHttp(d, port);
  } catch (err) {
    if (!/unknown key 'watchers/.test(d.output())) throw err;
    fs.rmSync(configFile, { force: true }); // this build has no watchers: run with defaults
    d = spawnDaemon(dataDir, port);
    await waitForHttp(d, port);
  }
  d.stale = stale;
  return d;
}

// Source files whose compiled .js in dist/ is missing or older (the bench runs the compiled code).
function staleSources(srcDir = path.join(ROOT, 'src'), distDir = path.join(ROOT, 'dist')) {
  const out = [];
  for (const e of fs.readdirSync(srcDir, { withFileTypes: true })) {
    const p = path.join(srcDir, e.name);
    if (e.isDirectory()) out.push(...staleSources(p, path.join(distDir, e.name)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const js = path.join(distDir, e.name.replace(/\.ts$/, '.js'));
      if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(p).mtimeMs) out.push(path.relative(ROOT, p));
    }
  }
  return out;
}

function spawnDaemon(dataDir, port) {
  const child = spawn(process.execPath, [BIN, 'start', '--testing', '--port', String(port), '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C at the terminal reaches only the bench, which then stops
    // the daemon with one SIGTERM (a second signal would make it exit without draining).
    detached: true,
  });
  let out = '';
  const keep = (chunk) => {
    out += chunk;
    if (out.length > 64_000) out = out.slice(-32_000); // the tail is what matters on failure
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = { code, signal }))));
  return {
    child,
    port,
    dataDir,
    base: `http://127.0.0.1:${port}`,
    output: () => out,
    exit,
    get exited() {
      return exited;
    },
  };
}

async function waitForHttp(d, port) {
  await waitFor(
    `the daemon's HTTP API on port ${port}`,
    async () => {
      if (d.exited) throw Object.assign(new Error(`daemon exited early (${JSON.stringify(d.exited)}): ${d.output().trim().slice(-800)}`), { fatal: true });
      const res = await fetch(`${d.base}/api/0/info`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.ok;
    },
    30_000,
    100,
  ).catch(async (err) => {
    // waitFor swallows per-try errors; surface an early exit instead of a bare timeout.
    await Promise.race([d.exit, sleep(200)]);
    if (d.exited) throw new Error(`daemon exited early (${JSON.stringify(d.exited)}): ${d.output().trim().slice(-800)}`);
    throw err;
  });
}

/** SIGTERM, then SIGKILL (and nats-server by its pid) if it does not stop in time. */
async function stopDaemon(d, busPid) {
  if (!d) return null;
  let res = d.exited;
  const t0 = performance.now();
  if (!res) {
    d.child.kill('SIGTERM');
    res = await Promise.race([d.exit, sleep(20_000).then(() => null)]);
    if (res) res = { ...res, stopMs: r0(performance.now() - t0) };
    else {
      d.child.kill('SIGKILL');
      await Promise.race([d.exit, sleep(5_000)]);
      res = { code: null, signal: 'SIGKILL (SIGTERM timed out)', stopMs: r0(performance.now() - t0) };
    }
  }
  // A daemon that died or was killed leaves its nats-server behind; end it (ours only, by pid).
  if (busPid && processCmdline(busPid).includes('nats-server') && processCmdline(busPid).includes(d.dataDir)) {
    try {
      process.kill(busPid, 'SIGKILL');
      res = { ...res, leftoverBusKilled: busPid };
    } catch {
      /* already gone */
    }
  }
  return res;
}

function processCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function makeControl(d) {
  const token = fs.readFileSync(path.join(d.dataDir, 'control-token-testing'), 'utf8').trim();
  return async function status() {
    const res = await fetch(`${d.base}/api/control/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`control status answered ${res.status}`);
    return res.json();
  };
}

function readBus(dataDir) {
  const raw = JSON.parse(fs.readFileSync(path.join(dataDir, 'bus-testing', 'bus.json'), 'utf8'));
  return { url: raw.url ?? `nats://127.0.0.1:${raw.port}`, user: raw.user, pass: raw.pass };
}

// ---------------------------------------------------------------------------------------------
// Producers

async function request(nc, subject, payload) {
  const msg = await nc.request(subject, enc(payload), { timeout: REQUEST_TIMEOUT_MS });
  return dec(msg);
}

/**
 * One producer: `n` heartbeats into its own bucket, at most `window` in flight, each retried (up
 * to MAX_TRIES) until acked. Merging producers repeat the same data; the others change it every beat.
 */
async function runProducer({ nc, bucket, n, window, merging, t0Us, deadline, errors, dead }) {
  const lat = [];
  let next = 0, acked = 0, failed = 0;
  const kindOf = typeof merging === 'function' ? merging : () => merging;
  const lane = async () => {
    while (next < n && performance.now() < deadline && !dead()) {
      const k = next++;
      const event = {
        timestamp: new Date((t0Us + k * 1_000_000) / 1000).toISOString(),
        duration: 0,
        data: kindOf(k) ? { app: 'bench', title: 'steady' } : { app: 'bench', title: `window ${k}` },
      };
      const payload = { bucket, pulsetime: PULSETIME_S, event };
      for (let tries = 1; ; tries++) {
        const t = performance.now();
        try {
          const r = await request(nc, 'sundial.v1.heartbeat', payload);
          if (r.ok) {
            lat.push(performance.now() - t);
            acked++;
            break;
          }
          errors.push(`reply ${JSON.stringify(r)}`);
        } catch (err) {
          errors.push(`${err.code ?? ''} ${err.message}`.trim());
        }
        if (tries >= MAX_TRIES || dead()) {
          failed++;
          break;
        }
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
  return { lat, acked, failed, issued: next };
}

async function runScenario(ctx, sc, label) {
  const { bus, status, base } = ctx;
  const conns = await Promise.all(
    Array.from({ length: sc.producers }, (_, i) =>
      connect({ servers: bus.url, user: bus.user, pass: bus.pass, name: `spine-bench-${label}-${i}`, timeout: 10_000, maxReconnectAttempts: 3 }),
    ),
  );
  const errors = [];
  try {
    const per = Math.floor(sc.heartbeats / sc.producers);
    const producers = conns.map((nc, i) => {
      // With one producer, the first half of its beats merge and the second half do not.
      const merging = sc.producers === 1 ? (k) => k < per / 2 : i % 2 === 0;
      return { nc, bucket: `bench-${label}-p${i}`, merging, n: per };
    });
    for (const p of producers) {
      const r = await waitFor(`bucket ${p.bucket}`, () => request(p.nc, 'sundial.v1.bucket.create', { bucket: p.bucket, type: 'bench', client: 'spine-bench', hostname: os.hostname() }), 15_000, 100);
      if (!r.ok) throw new Error(`bucket.create ${p.bucket}: ${r.error}`);
    }
    // Let the bucket creations drain so the run measures heartbeats only.
    await waitFor('bucket creation delivered', async () => (await status()).queue?.depth === 0, 15_000, 20);
    const before = await status();
    const deliveredBefore = before.queue?.delivered ?? 0;
    const cpuBefore = { daemon: procStats(ctx.daemon.child.pid).cpuS, bus: procStats(ctx.busPid).cpuS };
    const benchCpuBefore = process.cpuUsage(); // the producers share the same cores

    // Sample queue depth while loading (a few HTTP calls per second: small next to the load).
    let maxDepth = 0, sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          maxDepth = Math.max(maxDepth, (await status()).queue?.depth ?? 0);
        } catch {
          /* a slow answer under load is not a failure */
        }
        await sleep(250);
      }
    })();

    const t0Us = Date.now() * 1000 - 10 * 86_400e6; // ten days ago, far from any real data
    const start = performance.now();
    const deadline = start + RUN_CAP_MS;
    const results = await Promise.all(producers.map((p) => runProducer({ ...p, window: sc.window, t0Us, deadline, errors, dead: () => !!ctx.daemon.exited })));
    const ackedAt = performance.now();
    sampling = false; // not awaited here: its 250 ms nap must not count as drain time
    if (ctx.daemon.exited) throw new Error(`daemon exited during the ${label} run (${JSON.stringify(ctx.daemon.exited)})`);

    const acked = results.reduce((s, r) => s + r.acked, 0);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const issued = results.reduce((s, r) => s + r.issued, 0);
    // Every acked heartbeat is in the queue store; depth 0 means all of them reached the database.
    let drained = true, last = null;
    try {
      last = await waitFor('queue drained', async () => {
        const s = await status();
        return s.queue?.depth === 0 ? s : false;
      }, DRAIN_TIMEOUT_MS, 10);
    } catch {
      drained = false;
      last = await status().catch(() => null);
    }
    const drainedAt = performance.now();
    const cpuAfter = { daemon: procStats(ctx.daemon.child.pid).cpuS, bus: procStats(ctx.busPid).cpuS };
    const benchCpu = process.cpuUsage(benchCpuBefore);
    await sampler;

    // What actually landed: a merging producer leaves one event, a changing one one per beat.
    const mismatches = [];
    for (const [i, p] of producers.entries()) {
      const r = results[i];
      const expect = sc.producers === 1 ? Math.min(1, r.acked) + Math.max(0, r.acked - Math.ceil(per / 2)) : p.merging ? Math.min(1, r.acked) : r.acked;
      try {
        const res = await fetch(`${base}/api/0/buckets/${encodeURIComponent(p.bucket)}/events/count`, { signal: AbortSignal.timeout(10_000) });
        const got = await res.json();
        if (got !== expect && !(failed > 0 || !drained)) mismatches.push(`${p.bucket}: ${got} events, expected ${expect}`);
      } catch (err) {
        mismatches.push(`${p.bucket}: count failed (${err.message})`);
      }
    }

    const all = results.flatMap((r) => r.lat).sort((a, b) => a - b);
    const lats = (sel) => results.filter((_, i) => sel(i)).flatMap((r) => r.lat).sort((a, b) => a - b);
    const merged = sc.producers === 1 ? [] : lats((i) => i % 2 === 0);
    const changing = sc.producers === 1 ? [] : lats((i) => i % 2 === 1);
    const loadS = (ackedAt - start) / 1000;
    const e2eS = (drainedAt - start) / 1000;
    const kids = last?.children ?? [];
    return {
      scenario: `${sc.producers}p×w${sc.window}`,
      producers: sc.producers,
      window: sc.window,
      planned: per * sc.producers,
      issued,
      acked,
      failed,
      capped: issued < per * sc.producers,
      ackedPerS: r0(acked / loadS),
      loadS: r1(loadS),
      p50Ms: r1(percentile(all, 50)),
      p99Ms: r1(percentile(all, 99)),
      maxMs: r1(all.at(-1)),
      p50MergeMs: r1(percentile(merged, 50)),
      p50NewMs: r1(percentile(changing, 50)),
      drained,
      deliveredPerS: drained ? r0(acked / e2eS) : null,
      drainLagMs: r0(drainedAt - ackedAt),
      maxDepth,
      queueDelivered: (last?.queue?.delivered ?? 0) - deliveredBefore,
      queueRetries: last?.queue?.retries ?? null,
      queueLastError: last?.queue?.lastError ?? null,
      daemonCpuS: r1(cpuAfter.daemon - cpuBefore.daemon),
      busCpuS: r1(cpuAfter.bus - cpuBefore.bus),
      benchCpuS: r1((benchCpu.user + benchCpu.system) / 1e6),
      restarts: kids.reduce((s, k) => s + (k.restarts ?? 0), 0),
      mismatches,
      errors: summarize(errors),
    };
  } finally {
    await Promise.all(conns.map((nc) => nc.close().catch(() => {})));
  }
}

function summarize(errors) {
  const counts = new Map();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts].map(([msg, n]) => `${n}× ${msg}`);
}

/** Warnings and errors from the daemon's JSON log (pino levels ≥ 40). */
function logProblems(dataDir) {
  const file = path.join(dataDir, 'logs', 'sundial-testing.log');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if ((rec.level ?? 0) < 40) continue;
    const key = `${rec.level >= 50 ? 'ERROR' : 'WARN'} ${rec.child ?? rec.name ?? ''} ${rec.msg}${rec.err ? `: ${typeof rec.err === 'string' ? rec.err : rec.err.message}` : ''}`.replace(/\s+/g, ' ');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return [...out].map(([k, n]) => `${n}× ${k}`);
}

// ---------------------------------------------------------------------------------------------

function table(rows, cols) {
  const cells = rows.map((r) => cols.map(([, get]) => String(get(r) ?? '–')));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(cols.map(([h]) => h)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-spine-'));
  let d = null, busPid = null, stopped = null, cleaning = false, logNotes = [];
  const cleanup = async () => {
    if (cleaning) return;
    cleaning = true;
    stopped = await stopDaemon(d, busPid).catch(() => null);
    // Read after the stop, so shutdown warnings (e.g. an undrained queue) show too.
    logNotes = logProblems(dataDir);
    if (KEEP) console.error(`kept ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (sig) => {
    console.error(`\n${sig}: stopping the daemon`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A hard limit on the whole run, so a stalled daemon cannot hang CI.
  const watchdog = setTimeout(() => {
    console.error('spine bench: overall timeout (180 s)');
    cleanup().finally(() => process.exit(1));
  }, 180_000);

  try {
    const fsync = fsyncProbe(dataDir);
    const tStart = performance.now();
    d = await startDaemon(dataDir);
    const startupMs = r0(performance.now() - tStart);
    const status = makeControl(d);
    const s0 = await waitFor('queue child running', async () => {
      const s = await status();
      return s.children?.find((k) => k.name === 'queue')?.state === 'running' ? s : false;
    }, 15_000);
    busPid = s0.children?.find((k) => k.name === 'bus')?.pid ?? null;
    const bus = readBus(dataDir);
    const ctx = { bus, status, base: d.base, daemon: d, busPid };
    const idleBefore = { daemon: procStats(d.child.pid), bus: procStats(busPid) };

    console.log(`sundial spine bench — daemon pid ${d.child.pid}, nats-server pid ${busPid ?? '?'}, ${os.cpus().length} CPUs (load ${os.loadavg()[0].toFixed(1)}), node ${process.version}${QUICK ? ' (quick)' : ''}`);
    if (d.stale.length) console.log(`note: dist/ is older than ${d.stale.length} source file(s) (${d.stale.slice(0, 3).join(', ')}${d.stale.length > 3 ? ', …' : ''}): run \`npx tsc -p .\` to bench the current code`);
    await runScenario(ctx, WARMUP, 'warmup');

    const rows = [];
    for (const [i, sc] of SCENARIOS.entries()) {
      const row = await runScenario(ctx, sc, `r${i}`);
      rows.push(row);
      console.log(
        `  ${row.scenario.padEnd(8)} ${String(row.acked).padStart(6)} acked  ${String(row.ackedPerS).padStart(6)}/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  delivered ${row.deliveredPerS ?? 'NOT DRAINED'}/s` +
          `${row.capped ? '  (capped)' : ''}${row.failed ? `  ${row.failed} FAILED` : ''}`,
      );
    }

    await sleep(IDLE_WAIT_MS);
    const sIdle = await status();
    const idleAfter = { daemon: procStats(d.child.pid), bus: procStats(busPid) };

    console.log('\n' + table(rows, [
      ['scenario', (r) => r.scenario],
      ['acked', (r) => r.acked + (r.capped ? '*' : '')],
      ['acked/s', (r) => r.ackedPerS],
      ['p50 ms', (r) => r.p50Ms],
      ['p99 ms', (r) => r.p99Ms],
      ['max ms', (r) => r.maxMs],
      ['p50 merge/new', (r) => (r.p50MergeMs === null ? '–' : `${r.p50MergeMs}/${r.p50NewMs}`)],
      ['delivered/s', (r) => r.deliveredPerS ?? 'NOT DRAINED'],
      ['drain lag ms', (r) => r.drainLagMs],
      ['max depth', (r) => r.maxDepth],
      ['cpu s daemon/bus/bench', (r) => `${r.daemonCpuS}/${r.busCpuS}/${r.benchCpuS}`],
      ['errors', (r) => r.failed + r.errors.length ? `${r.errors.length} kinds, ${r.failed} failed` : 0],
    ]));
    if (rows.some((r) => r.capped)) console.log(`* capped at ${RUN_CAP_MS / 1000} s of load`);
    console.log(
      `\nidle RSS (MiB)   daemon ${idleBefore.daemon.rssMiB} before load → ${idleAfter.daemon.rssMiB} after (peak ${idleAfter.daemon.hwmMiB})` +
        `   nats-server ${idleBefore.bus.rssMiB} → ${idleAfter.bus.rssMiB} (peak ${idleAfter.bus.hwmMiB})`,
    );
    console.log(`startup ${startupMs} ms (spawn → /api/0/info answers); disk fsync p50 ${fsync.p50Ms} ms, p99 ${fsync.p99Ms} ms`);

    const notes = [];
    for (const r of rows) {
      for (const e of r.errors) notes.push(`${r.scenario}: ${e}`);
      for (const m of r.mismatches) notes.push(`${r.scenario}: ${m}`);
      if (r.queueRetries) notes.push(`${r.scenario}: queue delivery retries so far ${r.queueRetries}${r.queueLastError ? ` (last: ${r.queueLastError})` : ''}`);
      if (r.queueDelivered !== r.acked) notes.push(`${r.scenario}: queue reports ${r.queueDelivered} delivered for ${r.acked} acked`);
    }
    const restarts = (sIdle.children ?? []).filter((k) => k.restarts > 0 || k.state !== 'running');
    for (const k of restarts) notes.push(`child ${k.name}: ${k.state}, ${k.restarts} restarts${k.lastError ? `, last error ${k.lastError}` : ''}`);
    if (!sIdle.bus?.connected) notes.push('daemon reports its bus link DISCONNECTED');

    await cleanup();
    clearTimeout(watchdog);
    for (const l of logNotes) notes.push(`daemon log: ${l}`);
    if (stopped) notes.push(...(stopped.code === 0 ? [] : [`daemon stop: ${JSON.stringify(stopped)}`]));
    if (notes.length) console.log('\nnotes:\n' + notes.map((n) => '  ' + n).join('\n'));
    else console.log('\nnotes: none (no errors, no retries, every bucket holds the expected events, clean stop)');

    console.log(
      JSON.stringify({
        bench: 'spine',
        quick: QUICK,
        node: process.version,
        cpus: os.cpus().length,
        loadavg: os.loadavg().map((x) => r1(x)),
        startupMs,
        fsync,
        runs: rows,
        idle: { before: idleBefore, after: idleAfter },
        stop: stopped,
        notes,
      }),
    );
    return notes.some((n) => /FAILED|NOT DRAINED|expected|stop:/.test(n)) ? 1 : 0;
  } catch (err) {
    console.error(`spine bench failed: ${err.stack ?? err}`);
    if (d) console.error(`daemon output (tail):\n${d.output().trim().slice(-2000) || '(none)'}`);
    await cleanup();
    clearTimeout(watchdog);
    if (logNotes.length) console.error(`daemon log warnings/errors:\n${logNotes.map((l) => '  ' + l).join('\n')}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
