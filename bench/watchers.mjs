// Both watchers at their default polls (window 1 s, AFK 5 s) for 60 s, on a real X server and on a
// real sway; prints CPU % of one core and RSS per backend (each in its own process), including the
// swayidle child the sway AFK probe runs. Goal: ≤ 0.5 % CPU; sway (event-driven) below X11 (polling).
//   npm run bench:watchers                 # both backends, 60 s each
//   node bench/watchers.mjs 30 sway        # one backend, 30 s
// X11 uses $DISPLAY when set, otherwise its own Xvfb + openbox. sway uses $SWAYSOCK / $WAYLAND_DISPLAY
// when set, otherwise its own headless sway run as the unprivileged user `sundial-sway` (needs root;
// .ci/run creates the user).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, procStat } from './proc.mjs';

const seconds = Number(process.argv[2] ?? 60);
const only = process.argv[3];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.env.SUNDIAL_BENCH_BACKEND) {
  await measure(process.env.SUNDIAL_BENCH_BACKEND);
} else {
  const backends = only ? [only] : ['x11', 'sway'];
  for (const b of backends) {
    // One process per backend, so RSS and CPU are not shared between them.
    const code = await new Promise((resolve) => {
      const p = spawn(process.execPath, [fileURLToPath(import.meta.url), String(seconds)], {
        stdio: 'inherit',
        env: { ...process.env, SUNDIAL_BENCH_BACKEND: b },
      });
      p.on('exit', resolve);
    });
    if (code !== 0) process.exitCode = 1;
  }
}

async function measure(backend) {
  const { afkWatcherChild } = await import('../dist/actors/watchers/afk.js');
  const { windowWatcherChild } = await import('../dist/actors/watchers/window.js');
  const { openProbe } = await import('../dist/platform/index.js');
  const { silentLogger } = await import('../dist/log.js');

  const owned = [];
  const env = backend === 'x11' ? await x11Session(owned) : await swaySession(owned);
  let heartbeats = 0;
  const sink = { ensureBucket: async () => {}, heartbeat: async () => void heartbeats++ };
  const log = silentLogger();
  const ac = new AbortController();
  const ctx = { crash: (e) => console.error('crash', e), signal: ac.signal, log };
  const probeFactory = () => openProbe({ where: { platform: 'linux', env }, setting: backend });

  const handles = [
    await windowWatcherChild({ probeFactory, sink, hostname: 'bench' }).start(ctx),
    await afkWatcherChild({ probeFactory, sink, hostname: 'bench' }).start(ctx),
  ];
  await sleep(2000); // warm-up: connections, JIT, swayidle start
  const kids0 = childTimes();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const hb0 = heartbeats;
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const kids = childTimes();
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  const status = handles.map((h) => h.status());
  for (const h of handles) await h.stop();
  ac.abort();
  for (const stop of owned.reverse()) await stop();

  const kidsUs = [...kids.entries()].reduce((sum, [pid, t]) => sum + (t.cpuUs - (kids0.get(pid)?.cpuUs ?? t.cpuUs)), 0);
  const kidsRss = [...kids.values()].reduce((sum, t) => sum + t.rss, 0);
  const pct = ((cpu.user + cpu.system) / wallUs) * 100;
  const kidsPct = (kidsUs / wallUs) * 100;
  console.log(`watchers (window 1 s + afk 5 s polls, ${backend}) over ${seconds} s:`);
  console.log(`  CPU  ${pct.toFixed(3)} % of one core  (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms)`);
  if (kids.size) console.log(`  child processes (${[...kids.values()].map((k) => k.name).join(', ')}): CPU ${kidsPct.toFixed(3)} %, RSS ${(kidsRss / 1048576).toFixed(1)} MiB`);
  console.log(`  RSS  ${(rss / 1048576).toFixed(1)} MiB`);
  console.log(`  heartbeats ${heartbeats - hb0}, probe ${status[0].probe}, status ${JSON.stringify(status.map(({ probeReason, ...s }) => s))}`);
  console.log(`  goal ≤ 0.5 % CPU: ${pct + kidsPct <= 0.5 ? 'met' : 'NOT met'}`);
}

/** CPU time (µs) and RSS of the probes' helper processes (swayidle) among our children, from /proc. */
function childTimes() {
  const out = new Map();
  const tick = 1e6 / 100; // USER_HZ
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const { name, fields: f } = procStat(pid);
      // The compositor / X server we may have started are children too, but not the watchers' cost.
      if (Number(f[1]) !== process.pid || name !== 'swayidle') continue;
      out.set(pid, { name, cpuUs: cpuTicks(f) * tick, rss: Number(f[21]) * 4096 });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function x11Session(owned) {
  let display = process.env.DISPLAY;
  if (!display) {
    let n = 90 + Math.floor(Math.random() * 400);
    while (fs.existsSync(`/tmp/.X${n}-lock`)) n++;
    display = `:${n}`;
    const xvfb = spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
    const wm = spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } });
    owned.push(async () => xvfb.kill('SIGTERM'), async () => wm.kill('SIGTERM'));
    await sleep(1500);
  }
  try {
    // Something to look at: xdotool can't make windows, so focus the root if nothing else is there.
    execFileSync('xdotool', ['mousemove', '10', '10'], { env: { ...process.env, DISPLAY: display } });
  } catch {
    /* optional */
  }
  return { DISPLAY: display, XDG_SESSION_TYPE: 'x11' };
}

async function swaySession(owned) {
  if (process.env.SWAYSOCK && process.env.WAYLAND_DISPLAY) return { ...process.env };
  const user = 'sundial-sway';
  const ids = execFileSync('id', ['-u', user]).toString().trim();
  const gid = execFileSync('id', ['-g', user]).toString().trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-sway-'));
  fs.chownSync(dir, Number(ids), Number(gid));
  fs.chmodSync(dir, 0o700);
  fs.writeFileSync(path.join(dir, 'config'), 'output HEADLESS-1 resolution 1024x768\n');
  const base = ['PATH=/usr/bin:/bin', `HOME=${dir}`, `XDG_RUNTIME_DIR=${dir}`, 'LANG=C.UTF-8', 'WLR_BACKENDS=headless', 'WLR_RENDERER=pixman', 'WLR_LIBINPUT_NO_DEVICES=1'];
  const asUser = (cmd, extra = []) => spawn('runuser', ['-u', user, '--', 'env', '-i', ...base, ...extra, ...cmd], { stdio: 'ignore', cwd: dir });
  asUser(['sway', '-c', path.join(dir, 'config')]);
  let sock;
  for (let i = 0; i < 200 && !sock; i++) {
    await sleep(50);
    sock = fs.readdirSync(dir).find((n) => n.startsWith('sway-ipc.'));
  }
  if (!sock) throw new Error('sway did not start');
  const wayland = fs.readdirSync(dir).find((n) => /^wayland-\d+$/.test(n));
  asUser(['foot', '-a', 'bench.terminal', '-T', 'bench window', 'sleep', '100000'], [`WAYLAND_DISPLAY=${wayland}`]);
  await sleep(1500);
  const swaysock = path.join(dir, sock);
  owned.push(async () => {
    // runuser does not pass SIGTERM on: ask sway itself to exit (its terminal goes with it).
    try {
      execFileSync('swaymsg', ['-s', swaysock, 'exit'], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    await sleep(300);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { SWAYSOCK: swaysock, WAYLAND_DISPLAY: wayland, XDG_RUNTIME_DIR: dir, XDG_SESSION_TYPE: 'wayland' };
}
