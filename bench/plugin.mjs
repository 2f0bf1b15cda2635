#!/usr/bin/env node
// Plugin library benchmark: what `sundial/plugin` costs a producer and how fast its outbox drains.
//
//   node bench/plugin.mjs [--quick]      (npm run bench:plugin)
//
// 1. Offline (no daemon): calls/s into the outbox (each one an fsync'd SQLite commit) for
//    heartbeats that merge, heartbeats that do not, and inserts; and the outbox size they leave.
// 2. A real `sundial start` process comes up: time until that outbox is acknowledged, writes/s.
// Prints a table and a final JSON line. Uses dist/ (npm run build) and bin/sundial.js.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connectPlugin } from 'sundial/plugin';
import { freePort } from '../dist/bus/credentials.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
const N = QUICK ? 500 : 2_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-plugin-'));
const t0 = Date.parse('2025-01-01T00:00:00Z');
const at = (i) => new Date(t0 + i * 1000);
const rate = (n, ms) => Math.round((n * 1000) / ms);
const results = {};

const p = await connectPlugin({ name: 'bench', dataDir: dir, testing: true, requestTimeoutMs: 500 });
await p.ensureBucket({ id: 'bench_merge', type: 'bench' });
await p.ensureBucket({ id: 'bench_split', type: 'bench' });
await p.ensureBucket({ id: 'bench_ins', type: 'bench' });
const time = async (label, n, f) => {
  const before = p.status().queued;
  const s = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  const ms = performance.now() - s;
  results[label] = { calls: n, perSecond: rate(n, ms), outboxGrowth: p.status().queued - before };
  process.stderr.write(`${label}: ${results[label].perSecond}/s\n`);
};
await time('heartbeat (merging)', N, (i) => p.heartbeat('bench_merge', { timestamp: at(i), data: { app: 'editor' } }, 2));
await time('heartbeat (new data each)', N, (i) => p.heartbeat('bench_split', { timestamp: at(i), data: { n: i } }, 2));
await time('insert (1 event)', N, (i) => p.insert('bench_ins', [{ timestamp: at(i), duration: 1, data: { n: i } }]));
const waiting = p.status().queued;

const port = await freePort();
const daemon = spawn(process.execPath, [path.join(ROOT, 'bin', 'sundial.js'), 'start', '--testing', '--port', String(port), '--data-dir', dir], { stdio: 'ignore' });
fs.writeFileSync(path.join(dir, 'config-testing.json'), JSON.stringify({ watchers: { enabled: false } }));
const up = performance.now();
while (p.status().delivered === 0 && performance.now() - up < 60_000) await new Promise((r) => setTimeout(r, 5));
const startupMs = performance.now() - up;
const s = performance.now();
const first = p.status().delivered;
const ok = await p.flush(120_000);
const drainMs = performance.now() - s;
results.drain = { writes: waiting - first, ok, ms: Math.round(drainMs), perSecond: rate(waiting - first, drainMs), daemonStartMs: Math.round(startupMs) };
await p.close();
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
fs.rmSync(dir, { recursive: true, force: true });

console.log('\nsundial/plugin (outbox: SQLite WAL, synchronous=FULL, one commit per call)');
console.log('case                          calls/s   outbox growth');
for (const [k, v] of Object.entries(results)) if (k !== 'drain') console.log(`${k.padEnd(30)}${String(v.perSecond).padStart(7)}   ${v.outboxGrowth}`);
console.log(`drain once the daemon answered (${results.drain.daemonStartMs} ms after its start): ${results.drain.writes} writes in ${results.drain.ms} ms (${results.drain.perSecond}/s; one at a time, each fsync'd by the daemon's queue)`);
console.log(JSON.stringify({ bench: 'plugin', cpus: os.cpus().length, load: os.loadavg()[0], ...results }));
