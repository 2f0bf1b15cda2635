// The whole stack at rest: `sundial start` (real process) under an X server with a window open, default
// polls; after a warm-up, CPU % of one core and RSS of the daemon and its nats-server over N seconds.
//   npm run bench:idle [-- seconds]        (default 120; BENCH_IDLE_THREADS=1 also prints each thread's CPU and wakeups)
// Uses $DISPLAY when set, otherwise starts its own Xvfb + openbox on a free display.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuTicks, procStat } from './proc.mjs';

const seconds = Number(process.argv[2] ?? 120);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HZ = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks

let display = process.env.DISPLAY;
const owned = [];
if (!display) {
  let n = 90 + Math.floor(Math.random() * 400);
  while (fs.existsSync(`/tmp/.X${n}-lock`)) n++;
  display = `:${n}`;
  owned.push(spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
  owned.push(spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } }));
  await sleep(1000);
}
const env = { ...process.env, DISPLAY: display };
owned.push(spawn('xev', ['-geometry', '400x300'], { stdio: 'ignore', env })); // a window to watch

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-idle-'));
const bin = new URL('../bin/sundial.js', import.meta.url).pathname;
const daemon = spawn(process.execPath, [bin, 'start', '--data-dir', dataDir, '--port', '0'], { stdio: 'ignore', env });

const ticks = (pid) => cpuTicks(procStat(pid).fields);
// Per thread: name, CPU ticks and context switches (each one a wakeup), to see who wakes at rest.
const threads = (pid) =>
  fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const num = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)[1]);
    return { tid, name: /Name:\s+(.*)/.exec(status)[1], ticks: cpuTicks(procStat(pid, tid).fields), switches: num('voluntary_ctxt_switches') + num('nonvoluntary_ctxt_switches') };
  });
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const natsPid = async () => {
  for (let i = 0; i < 200; i++) {
    try {
      return Number(fs.readFileSync(path.join(dataDir, 'bus', 'nats.pid'), 'utf8'));
    } catch {
      await sleep(50);
    }
  }
  throw new Error('nats-server did not start');
};

try {
  const pids = { daemon: daemon.pid, 'nats-server': await natsPid() };
  await sleep(3000);
  const rssStart = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, rssMiB(p)]));
  await sleep(12_000); // warm-up: query workers' warm-up, JIT, first heartbeats
  const t0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, ticks(p)]));
  const th0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, threads(p)]));
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - w0) / 1000;
  console.log(`whole stack at rest over ${seconds} s (X11, window + AFK watchers at default polls):`);
  let cpuTotal = 0;
  let rssTotal = 0;
  for (const [name, pid] of Object.entries(pids)) {
    const cpu = ((ticks(pid) - t0[name]) / HZ / wall) * 100;
    const rss = rssMiB(pid);
    cpuTotal += cpu;
    rssTotal += rss;
    console.log(`  ${name.padEnd(12)} CPU ${cpu.toFixed(2)} % of one core   RSS ${rss.toFixed(1)} MiB (at start ${rssStart[name].toFixed(1)} MiB)`);
  }
  if (process.env.BENCH_IDLE_THREADS) {
    // Every thread that woke at least once in ten seconds (Node names all its threads "node"; the main thread's id is the pid).
    for (const [name, pid] of Object.entries(pids)) {
      const before = new Map(th0[name].map((t) => [t.tid, t]));
      for (const t of threads(pid)) {
        const b = before.get(t.tid) ?? { ticks: 0, switches: 0 };
        const wakeups = (t.switches - b.switches) / wall;
        if (wakeups < 0.1) continue;
        const label = `${t.name}${t.tid === String(pid) ? ' (main)' : ''} ${t.tid}`;
        console.log(`    ${name.padEnd(12)} ${label.padEnd(24)} CPU ${(((t.ticks - b.ticks) / HZ / wall) * 100).toFixed(2)} %   wakeups ${wakeups.toFixed(2)}/s`);
      }
    }
  }
  const rssAtStart = Object.values(rssStart).reduce((a, b) => a + b, 0);
  console.log(`  total        CPU ${cpuTotal.toFixed(2)} %   (goal ≤ 0.3 %: ${cpuTotal <= 0.3 ? 'met' : 'NOT met'})`);
  console.log(`  total        RSS at start ${rssAtStart.toFixed(1)} MiB (goal ≤ 80 MB = 76.3 MiB: ${rssAtStart <= 76.3 ? 'met' : 'NOT met'}), now ${rssTotal.toFixed(1)} MiB`);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
  for (const p of owned.reverse()) p.kill('SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
