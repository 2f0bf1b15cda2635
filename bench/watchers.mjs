// Both watchers at their default polls (window 1 s, AFK 5 s) against a real X server for 60 s;
// prints CPU % of one core and RSS. Goal: ≤ 0.5 % CPU.
//   npx tsc -p . && node bench/watchers.mjs [seconds]
// Uses $DISPLAY when set, otherwise starts its own Xvfb + openbox on a free display.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afkWatcherChild } from '../dist/actors/watchers/afk.js';
import { windowWatcherChild } from '../dist/actors/watchers/window.js';
import { X11Probe } from '../dist/platform/linux/x11.js';
import { silentLogger } from '../dist/log.js';

const seconds = Number(process.argv[2] ?? 60);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let display = process.env.DISPLAY;
const owned = [];
if (!display) {
  let n = 90 + Math.floor(Math.random() * 400);
  while (fs.existsSync(`/tmp/.X${n}-lock`)) n++;
  display = `:${n}`;
  owned.push(spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
  owned.push(spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } }));
  await sleep(1500);
}
try {
  // Something to look at: xdotool can't make windows, so focus the root if nothing else is there.
  execFileSync('xdotool', ['mousemove', '10', '10'], { env: { ...process.env, DISPLAY: display } });
} catch {
  /* optional */
}

let heartbeats = 0;
const sink = { ensureBucket: async () => {}, heartbeat: async () => void heartbeats++ };
const log = silentLogger();
const ac = new AbortController();
const ctx = { crash: (e) => console.error('crash', e), signal: ac.signal, log };
const probeFactory = () => X11Probe.open({ display });

const handles = [
  await windowWatcherChild({ probeFactory, sink, hostname: 'bench' }).start(ctx),
  await afkWatcherChild({ probeFactory, sink, hostname: 'bench' }).start(ctx),
];
await sleep(2000); // warm-up: connections, JIT
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const hb0 = heartbeats;
await sleep(seconds * 1000);
const cpu = process.cpuUsage(cpu0);
const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
const rss = process.memoryUsage().rss;
for (const h of handles) await h.stop();
ac.abort();
for (const p of owned.reverse()) p.kill('SIGTERM');

const pct = ((cpu.user + cpu.system) / wallUs) * 100;
console.log(`watchers (window 1 s + afk 5 s polls, X11) over ${seconds} s:`);
console.log(`  CPU  ${pct.toFixed(3)} % of one core  (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms)`);
console.log(`  RSS  ${(rss / 1048576).toFixed(1)} MiB`);
console.log(`  heartbeats ${heartbeats - hb0}, status ${JSON.stringify(handles.map((h) => h.status()))}`);
console.log(`  goal ≤ 0.5 % CPU: ${pct <= 0.5 ? 'met' : 'NOT met'}`);
