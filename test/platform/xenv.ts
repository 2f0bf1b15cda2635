/**
 * Test helpers: a private Xvfb + openbox, and windows made through the x11 package
 * (no xterm needed). Used by test/platform and test/watchers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const x11: any = require('x11');

export interface XServer {
  display: string;
  num: number;
  /** Kills Xvfb and the window manager. */
  stop(): Promise<void>;
  /** Kills only Xvfb (the WM dies with it); `restart` brings both back on the same display. */
  killServer(): Promise<void>;
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function freeDisplay(): number {
  for (let tries = 0; tries < 200; tries++) {
    const n = 90 + Math.floor(Math.random() * 400);
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error('no free X display number');
}

const kill = (p: ChildProcess | null): Promise<void> =>
  new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 2000).unref();
  });

export async function startX(opts: { wm?: boolean } = {}): Promise<XServer> {
  const num = freeDisplay();
  const display = `:${num}`;
  let xvfb: ChildProcess | null = null;
  let wm: ChildProcess | null = null;
  const env = { ...process.env, DISPLAY: display };

  const up = async (): Promise<void> => {
    xvfb = spawn('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
    await waitFor(() => fs.existsSync(`/tmp/.X11-unix/X${num}`), 'Xvfb socket');
    await waitFor(async () => (await run('xprop', ['-root', '-display', display]).then(() => true, () => false)), 'Xvfb answering');
    if (opts.wm !== false) {
      wm = spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env });
      await waitFor(
        async () => (await run('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env })).stdout.includes('window id'),
        'openbox',
      );
    }
  };
  await up();
  const killServer = async (): Promise<void> => {
    await kill(wm);
    await kill(xvfb);
    wm = xvfb = null;
    await waitFor(() => !fs.existsSync(`/tmp/.X${num}-lock`), 'Xvfb lock removed').catch(() => {
      fs.rmSync(`/tmp/.X${num}-lock`, { force: true });
      fs.rmSync(`/tmp/.X11-unix/X${num}`, { force: true });
    });
  };
  return { display, num, stop: killServer, killServer, restart: up };
}

/** xdotool / xprop on the test display. */
export async function xtool(display: string, cmd: string, args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { env: { ...process.env, DISPLAY: display } });
  return stdout;
}

export interface TestWindow {
  id: number;
  setTitle(title: string, kind?: 'net' | 'legacy-string' | 'compound'): Promise<void>;
  destroy(): Promise<void>;
}

/** A second X client that creates ordinary top-level windows with WM_CLASS, titles and pid. */
export class WindowMaker {
  private X: any;
  private root = 0;
  private atoms: Record<string, number> = {};

  static async connect(display: string): Promise<WindowMaker> {
    const m = new WindowMaker();
    await new Promise<void>((resolve, reject) => {
      const client = x11.createClient({ display }, (err: Error | null, dpy: { client: unknown; screen: Array<{ root: number }> }) => {
        if (err) return reject(err);
        m.X = dpy.client;
        m.root = dpy.screen[0]!.root;
        resolve();
      });
      client.on('error', () => {
        /* BadWindow after destroy races etc. */
      });
    });
    for (const name of ['_NET_WM_NAME', 'UTF8_STRING', '_NET_WM_PID', 'COMPOUND_TEXT']) {
      m.atoms[name] = await new Promise<number>((resolve, reject) =>
        m.X.InternAtom(false, name, (err: Error | null, a: number) => (err ? reject(err) : resolve(a))),
      );
    }
    return m;
  }

  private sync(): Promise<void> {
    return this.X.sync();
  }

  async create(opts: { cls?: string | null; instance?: string; title?: string; legacyTitle?: Buffer; pid?: number; parentClass?: boolean }): Promise<TestWindow> {
    const X = this.X;
    const id = X.AllocID();
    X.CreateWindow(id, this.root, 10, 10, 300, 200, 0, 0, 0, 0, { backgroundPixel: 0xffffff });
    if (opts.cls) X.ChangeProperty(0, id, X.atoms.WM_CLASS, X.atoms.STRING, 8, Buffer.from(`${opts.instance ?? opts.cls.toLowerCase()}\0${opts.cls}\0`, 'latin1'));
    if (opts.title !== undefined) X.ChangeProperty(0, id, this.atoms._NET_WM_NAME, this.atoms.UTF8_STRING, 8, Buffer.from(opts.title, 'utf8'));
    if (opts.legacyTitle) X.ChangeProperty(0, id, X.atoms.WM_NAME, this.atoms.COMPOUND_TEXT, 8, opts.legacyTitle);
    if (opts.pid !== undefined) X.ChangeProperty(0, id, this.atoms._NET_WM_PID, X.atoms.CARDINAL, 32, [opts.pid]);
    X.MapWindow(id);
    await this.sync();
    const self = this;
    return {
      id,
      async setTitle(title: string) {
        X.ChangeProperty(0, id, self.atoms._NET_WM_NAME, self.atoms.UTF8_STRING, 8, Buffer.from(title, 'utf8'));
        await self.sync();
      },
      async destroy() {
        X.DestroyWindow(id);
        await self.sync();
      },
    };
  }

  /** Turns the screensaver on / off (core ForceScreenSaver). */
  async forceSaver(on: boolean): Promise<void> {
    this.X.ForceScreenSaver(on ? 1 : 0);
    await this.sync();
  }

  close(): void {
    try {
      this.X.terminate();
    } catch {
      /* gone */
    }
  }
}

/** Activates a window through the window manager (EWMH _NET_ACTIVE_WINDOW request). */
export async function activate(display: string, wid: number): Promise<void> {
  await xtool(display, 'xdotool', ['windowactivate', '--sync', String(wid)]);
  // xdotool may return before the WM has published _NET_ACTIVE_WINDOW (first window after start).
  await waitFor(async () => (await activeWindowId(display)) === wid, `window ${wid} active`);
}

export async function activeWindowId(display: string): Promise<number> {
  const out = await xtool(display, 'xprop', ['-root', '_NET_ACTIVE_WINDOW']);
  const m = /window id # (0x[0-9a-f]+)/.exec(out);
  return m ? parseInt(m[1]!, 16) : 0;
}

export { sleep, waitFor };
