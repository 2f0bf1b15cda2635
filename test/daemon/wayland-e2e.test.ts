import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startSway, type SwaySession } from '../platform/swayenv.js';
import { runCli, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The whole path in a Wayland session (headless sway) whose XWayland DISPLAY must not win:
// probe → watcher → bus → queue → writer → SQLite → REST, and `sundial status` naming the probe.
let sway: SwaySession;
let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  sway = await startSway();
  // The real XWayland display of this sway, as a session would have it: it must not win.
  Object.assign(process.env, sway.env(), { XDG_SESSION_TYPE: 'wayland', DISPLAY: await sway.xwayland() });
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir, (c) => {
    c.watchers.enabled = true;
    Object.assign(c.watchers.afk, { poll_time: 1, timeout: 30 });
  });
});
afterAll(async () => {
  await daemon?.stop();
  await sway?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, string> };
const events = async (bucket: string): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events`);
  return r.ok ? ((await r.json()) as Ev[]) : [];
};

describe('built-in watchers in a Wayland (sway) session', () => {
  it('records sway windows and AFK state; status names the sway probe and why', async () => {
    const winBucket = `aw-watcher-window_${os.hostname()}`;
    await sway.openWindow('org.example.Writer', 'draft — chapter 1');
    await sway.openWindow('org.example.Browser', 'Search — Browser');
    await sway.focus('draft — chapter 1');
    await waitFor('Writer recorded for a while', async () => (await events(winBucket)).some((e) => e.data.app === 'org.example.Writer' && e.duration >= 1));
    await sway.focus('Search — Browser');
    await waitFor('Browser recorded', async () => (await events(winBucket)).some((e) => e.data.app === 'org.example.Browser'));
    const evs = (await events(winBucket)).reverse();
    expect(evs.find((e) => e.data.app === 'org.example.Writer')!.data.title).toBe('draft — chapter 1');
    expect(evs.every((e) => e.data.app !== 'unknown')).toBe(true);
    await waitFor('afk events', async () => (await events(`aw-watcher-afk_${os.hostname()}`)).length > 0);
    expect((await events(`aw-watcher-afk_${os.hostname()}`))[0]!.data.status).toBe('not-afk');

    const flags = ['--testing', '--port', String(daemon.port), '--data-dir', tmp.dir];
    const json = JSON.parse((await runCli(['status', '--json', ...flags])).stdout) as { children: Array<{ name: string; state: string; info: Record<string, unknown> }> };
    for (const name of ['watcher-window', 'watcher-afk']) {
      const c = json.children.find((k) => k.name === name)!;
      expect(c.state).toBe('running');
      expect(c.info).toMatchObject({ probe: 'sway', probeReason: expect.stringMatching(/^SWAYSOCK is set .*DISPLAY=:\d+ is XWayland/) });
      expect(c.info.unavailable).toBeUndefined();
    }
    const text = (await runCli(['status', ...flags])).stdout;
    expect(text).toMatch(/watcher-window\s+running\s+probe sway \(SWAYSOCK is set/);
  });
});
