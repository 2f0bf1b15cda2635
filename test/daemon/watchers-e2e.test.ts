import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { activate, activeWindowId, startX, WindowMaker, type XServer } from '../platform/xenv.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The whole path on a real X server: probe → watcher → bus → queue → writer → SQLite → REST.
let x: XServer;
let maker: WindowMaker;
let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  x = await startX();
  maker = await WindowMaker.connect(x.display);
  process.env.DISPLAY = x.display;
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir, (c) => {
    c.watchers.enabled = true;
    c.watchers.window.poll_time = 0.2;
    Object.assign(c.watchers.afk, { poll_time: 0.2, timeout: 30 });
  });
});
afterAll(async () => {
  await daemon?.stop();
  maker?.close();
  await x?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, string> };
const events = async (bucket: string): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events`);
  return r.ok ? ((await r.json()) as Ev[]) : [];
};

describe('built-in watchers in the daemon', () => {
  it('records focused windows and AFK state through the bus into the database', async () => {
    const winBucket = `aw-watcher-window_${os.hostname()}`;
    const a = await maker.create({ cls: 'Alpha', title: 'first window' });
    const b = await maker.create({ cls: 'Beta', title: 'second window' });
    // The window manager focuses a new window, sometimes late on a busy machine: let it, then switch.
    await waitFor('the WM to focus the newest window', async () => (await activeWindowId(x.display)) === b.id).catch(() => {});
    await activate(x.display, a.id);
    await waitFor('Alpha recorded for a while', async () => (await events(winBucket)).some((e) => e.data.app === 'Alpha' && e.duration >= 0.6));
    await activate(x.display, b.id);
    await waitFor('Beta recorded', async () => (await events(winBucket)).some((e) => e.data.app === 'Beta' && e.duration >= 0.4));
    const evs = (await events(winBucket)).reverse().filter((e) => e.data.app !== 'unknown');
    const apps = evs.map((e) => e.data.app);
    expect(apps.indexOf('Alpha')).toBeLessThan(apps.lastIndexOf('Beta'));
    expect(evs.find((e) => e.data.app === 'Alpha')!.data.title).toBe('first window');
    // Events of one window do not overlap the next one's.
    for (let i = 1; i < evs.length; i++) {
      expect(Date.parse(evs[i]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(evs[i - 1]!.timestamp) + evs[i - 1]!.duration * 1000 - 1);
    }
    const afk = await events(`aw-watcher-afk_${os.hostname()}`);
    expect(afk.length).toBeGreaterThan(0);
    expect(afk[0]!.data.status).toBe('not-afk');
    const st = daemon.supervisor.status();
    expect(st.filter((c) => c.name.startsWith('watcher-')).map((c) => c.state)).toEqual(['running', 'running']);
  });
});
