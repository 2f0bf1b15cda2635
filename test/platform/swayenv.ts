/**
 * Test helpers: a real headless sway (wlroots headless backend, pixman renderer) run as an
 * unprivileged user (sway refuses root), with real Wayland windows from `foot`. The test process
 * (root in CI) reaches the IPC and Wayland sockets. `.ci/run` installs sway, foot and swayidle and
 * creates the user.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './xenv.js';

const run = promisify(execFile);
export const SWAY_USER = 'sundial-sway';

export interface SwayWindow {
  appId: string;
  title: string;
  /** Changes the title from inside the terminal (OSC 2), as a program would. */
  setTitle(title: string): Promise<void>;
  close(): Promise<void>;
}

export interface SwaySession {
  runtimeDir: string;
  /** The current IPC socket (changes when sway restarts). */
  swaysock: string;
  waylandDisplay: string;
  /**
   * The XWayland display (":N"), opened to the test process: Xwayland admits only the compositor's
   * user, who adds root with xhost (which also starts Xwayland, lazily started by sway).
   */
  xwayland(): Promise<string>;
  /** What a session's processes see: WAYLAND_DISPLAY, XDG_RUNTIME_DIR, SWAYSOCK. */
  env(): Record<string, string>;
  swaymsg(...args: string[]): Promise<string>;
  openWindow(appId: string, title: string): Promise<SwayWindow>;
  focus(title: string): Promise<void>;
  /** Pointer motion through the seat: input activity for the idle protocol. */
  input(): Promise<void>;
  /** Stops sway (the windows go with it). */
  stop(): Promise<void>;
  /** Starts sway again in the same runtime dir: a new pid, so a new IPC socket name. */
  restart(): Promise<void>;
}

function userIds(): { uid: number; gid: number } {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${SWAY_USER}:`));
  if (!line) throw new Error(`user ${SWAY_USER} is missing: .ci/run creates it (useradd --system ${SWAY_USER})`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

const kill = (p: ChildProcess | null, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> =>
  new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill(sig);
    setTimeout(() => p.kill('SIGKILL'), 3000).unref();
  });

interface Node {
  app_id?: string;
  pid?: number;
  nodes?: Node[];
  floating_nodes?: Node[];
}
/** The pid of the window with this app_id in a GET_TREE answer, 0 when there is none. */
function windowPid(n: Node, appId: string): number {
  if (n.app_id === appId && n.pid) return n.pid;
  for (const c of [...(n.nodes ?? []), ...(n.floating_nodes ?? [])]) {
    const p = windowPid(c, appId);
    if (p) return p;
  }
  return 0;
}

export async function startSway(): Promise<SwaySession> {
  const { uid, gid } = userIds();
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-sway-'));
  fs.chownSync(runtimeDir, uid, gid);
  fs.chmodSync(runtimeDir, 0o700);
  const config = path.join(runtimeDir, 'config');
  // No bar, no wallpaper: nothing but our windows. focus_on_window_activation keeps focus where we put it.
  fs.writeFileSync(config, 'output HEADLESS-1 resolution 1024x768\nfocus_follows_mouse no\nfocus_on_window_activation none\n');
  const baseEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: runtimeDir,
    XDG_RUNTIME_DIR: runtimeDir,
    LANG: 'C.UTF-8',
    WLR_BACKENDS: 'headless',
    WLR_RENDERER: 'pixman',
    WLR_LIBINPUT_NO_DEVICES: '1',
  };
  const asUser = (cmd: string[], env: Record<string, string>): ChildProcess =>
    spawn('runuser', ['-u', SWAY_USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: runtimeDir,
    });

  let sway: ChildProcess | null = null;
  let swaysock = '';
  let waylandDisplay = '';
  let stderr = '';
  const windows = new Set<ChildProcess>();

  const up = async (): Promise<void> => {
    const before = new Set(fs.readdirSync(runtimeDir));
    stderr = '';
    sway = asUser(['sway', '-c', config], baseEnv);
    sway.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const s = sway;
    await waitFor(
      () => {
        if (s.exitCode !== null) throw new Error(`sway exited: ${stderr}`);
        return fs.readdirSync(runtimeDir).some((n) => n.startsWith('sway-ipc.') && !before.has(n));
      },
      'the sway IPC socket',
      20_000,
    );
    const names = fs.readdirSync(runtimeDir);
    swaysock = path.join(runtimeDir, names.find((n) => n.startsWith('sway-ipc.') && !before.has(n))!);
    waylandDisplay = names.filter((n) => /^wayland-\d+$/.test(n)).sort().at(-1)!;
    await waitFor(async () => (await session.swaymsg('-t', 'get_version').then(() => true, () => false)), 'sway answering', 20_000);
  };

  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // runuser exits on SIGTERM without passing it on, so end sway itself (its pid is in the socket name).
  const endSway = async (): Promise<void> => {
    const pid = Number(/sway-ipc\.\d+\.(\d+)\.sock$/.exec(swaysock)?.[1] ?? 0);
    await session.swaymsg('exit').catch(() => undefined);
    if (pid) {
      await waitFor(() => !alive(pid), 'sway to exit', 5_000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    await kill(sway);
    for (const p of [...windows]) await kill(p);
  };

  const session: SwaySession = {
    runtimeDir,
    get swaysock() {
      return swaysock;
    },
    get waylandDisplay() {
      return waylandDisplay;
    },
    async xwayland() {
      // wlroots writes the compositor's pid (NUL-terminated) into the X lock file it takes for XWayland.
      const pid = /sway-ipc\.\d+\.(\d+)\.sock$/.exec(swaysock)?.[1];
      const lock = fs.readdirSync('/tmp').find((f) => /^\.X\d+-lock$/.test(f) && fs.readFileSync(path.join('/tmp', f), 'utf8').replace(/\0/g, '').trim() === pid);
      if (!lock) throw new Error('sway has no XWayland display (is the xwayland package installed?)');
      const display = `:${/\d+/.exec(lock)![0]}`;
      await run('runuser', ['-u', SWAY_USER, '--', 'env', `DISPLAY=${display}`, `XDG_RUNTIME_DIR=${runtimeDir}`, 'xhost', '+si:localuser:root']);
      return display;
    },
    env: () => ({ WAYLAND_DISPLAY: waylandDisplay, XDG_RUNTIME_DIR: runtimeDir, SWAYSOCK: swaysock, PATH: process.env.PATH ?? '/usr/bin:/bin' }),
    async swaymsg(...args: string[]) {
      const { stdout } = await run('swaymsg', ['-s', swaysock, ...args]);
      return stdout;
    },
    async openWindow(appId, title) {
      const fifo = path.join(runtimeDir, `title-${appId}-${Math.random().toString(36).slice(2)}`);
      await run('mkfifo', ['-m', '0600', fifo]);
      fs.chownSync(fifo, uid, gid);
      // The shell inside the terminal sets the title from each line written to the fifo. A reopen
      // that races with the previous writer's close reads EOF: just open again.
      const script = `while :; do read -r t < '${fifo}' || continue; printf '\\033]2;%s\\007' "$t"; done`;
      const p = asUser(['foot', '-a', appId, '-T', title, 'sh', '-c', script], { ...baseEnv, WAYLAND_DISPLAY: waylandDisplay });
      windows.add(p);
      p.once('exit', () => windows.delete(p));
      let pid = 0;
      await waitFor(
        async () => {
          pid = windowPid(JSON.parse(await session.swaymsg('-t', 'get_tree', '--raw')), appId);
          return pid > 0;
        },
        `window "${title}" mapped`,
        20_000,
      );
      const w: SwayWindow = {
        appId,
        title,
        async setTitle(t: string) {
          // Opening the fifo blocks until the shell reads it; do it off the main thread's event loop.
          await fs.promises.writeFile(fifo, t + '\n');
          w.title = t;
        },
        async close() {
          // runuser exits on SIGTERM without passing it on: end the terminal itself.
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
          await waitFor(async () => windowPid(JSON.parse(await session.swaymsg('-t', 'get_tree', '--raw')), appId) === 0, `window "${w.title}" closed`, 20_000);
          await kill(p);
          fs.rmSync(fifo, { force: true });
        },
      };
      return w;
    },
    async focus(title) {
      await session.swaymsg(`[title="^${title.replace(/[\\^$.*+?()[\]{}|"]/g, '\\$&')}$"]`, 'focus');
    },
    async input() {
      await session.swaymsg('seat', '-', 'cursor', 'move', '1', '1');
    },
    async stop() {
      // The terminals end with the compositor (their Wayland connection closes).
      await endSway();
      fs.rmSync(runtimeDir, { recursive: true, force: true });
    },
    async restart() {
      await endSway();
      await up();
    },
  };
  await up();
  return session;
}
