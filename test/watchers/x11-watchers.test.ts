import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afkWatcherChild } from '../../src/actors/watchers/afk.js';
import { windowWatcherChild } from '../../src/actors/watchers/window.js';
import { X11Probe } from '../../src/platform/linux/x11.js';
import type { ChildHandle } from '../../src/supervisor/types.js';
import { activate, activeWindowId, sleep, startX, waitFor, WindowMaker, xtool, type XServer } from '../platform/xenv.js';
import { MemorySink, testContext } from './helpers.js';

const MS = 1000;

describe('watchers on a real X server (Xvfb + openbox)', () => {
  let x: XServer;
  let maker: WindowMaker;
  beforeAll(async () => {
    x = await startX();
    maker = await WindowMaker.connect(x.display);
  });
  afterAll(async () => {
    maker?.close();
    await x?.stop();
  });

  const probeFactory = () => X11Probe.open({ display: x.display });

  /** Two windows with the first one focused, and a sink and context for a watcher. */
  async function twoWindows(first: { cls: string; title: string }, second: { cls: string; title: string }) {
    const a = await maker.create(first);
    const b = await maker.create(second);
    // Let the window manager finish mapping (it may focus a new window late on a busy machine).
    await waitFor(async () => (await activeWindowId(x.display)) === b.id, 'the WM to focus the newest window', 20_000).catch(() => {});
    await activate(x.display, a.id);
    return { a, b, sink: new MemorySink(), ctx: testContext() };
  }

  it('window watcher: focus switches and title changes give the right sequence, UTF-8 intact', async () => {
    const { a, b, sink, ctx } = await twoWindows({ cls: 'Alpha', title: 'alpha — ä' }, { cls: 'Beta', title: 'beta 日本' });
    const handle = await windowWatcherChild({ probeFactory, sink, hostname: 'xhost', pollMs: 200 }).start(ctx);
    await waitFor(() => sink.calls.filter((c) => c.event.data.app === 'Alpha').length >= 3, 'Alpha heartbeats', 20_000);
    const tB = Date.now() * MS;
    await activate(x.display, b.id);
    await waitFor(() => sink.calls.filter((c) => c.event.data.app === 'Beta').length >= 3, 'Beta heartbeats', 20_000);
    const tTitle = Date.now() * MS;
    await b.setTitle('beta — renamed ✓');
    await waitFor(() => sink.calls.filter((c) => c.event.data.title === 'beta — renamed ✓').length >= 3, 'renamed heartbeats', 20_000);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);

    const evs = sink.list('aw-watcher-window_xhost');
    expect(evs.map((e) => e.data)).toEqual([
      { app: 'Alpha', title: 'alpha — ä' },
      { app: 'Beta', title: 'beta 日本' },
      { app: 'Beta', title: 'beta — renamed ✓' },
    ]);
    // Boundaries within poll tolerance of the moments we switched (one poll late at most, plus slack).
    const tol = 200 * MS + 300 * MS;
    expect(Math.abs(evs[1]!.timestamp - tB)).toBeLessThan(tol + 500 * MS);
    expect(Math.abs(evs[2]!.timestamp - tTitle)).toBeLessThan(tol + 500 * MS);
    for (let i = 1; i < evs.length; i++) {
      const gap = evs[i]!.timestamp - (evs[i - 1]!.timestamp + evs[i - 1]!.duration);
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeLessThan(tol + 500 * MS);
    }
    await a.destroy();
    await b.destroy();
  });

  it('window watcher: with a slow recheck, focus and title changes are still recorded from X events', async () => {
    const { a, b, sink, ctx } = await twoWindows({ cls: 'Gamma', title: 'gamma' }, { cls: 'Delta', title: 'delta' });
    // The window is read again without an event only after 10 minutes: what is seen before comes from events.
    const handle = await windowWatcherChild({ probeFactory, sink, hostname: 'events', pollMs: 300, recheckMs: 600_000 }).start(ctx);
    const status = () => handle.status!() as { polls: number; reads: number };
    await waitFor(() => sink.calls.filter((c) => c.event.data.app === 'Gamma').length >= 3, 'Gamma heartbeats', 20_000);
    // Polls without a change send heartbeats but do not ask the X server.
    const quiet = status();
    await waitFor(() => status().polls >= quiet.polls + 3, 'three more polls', 20_000);
    expect(status().reads).toBe(quiet.reads);
    await activate(x.display, b.id);
    await waitFor(() => sink.calls.some((c) => c.event.data.app === 'Delta'), 'the focus change', 20_000);
    await b.setTitle('delta — renamed');
    await waitFor(() => sink.calls.some((c) => c.event.data.title === 'delta — renamed'), 'the title change', 20_000);
    await waitFor(() => sink.calls.filter((c) => c.event.data.title === 'delta — renamed').length >= 2, 'renamed heartbeats', 20_000);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);
    expect(sink.list('aw-watcher-window_events').map((e) => e.data)).toEqual([
      { app: 'Gamma', title: 'gamma' },
      { app: 'Delta', title: 'delta' },
      { app: 'Delta', title: 'delta — renamed' },
    ]);
    // Still one heartbeat per poll, merged into the events as before.
    expect(status().reads).toBeLessThan(status().polls);
    await a.destroy();
    await b.destroy();
  });

  it('window watcher: windows closing while being read never crash it', async () => {
    const sink = new MemorySink();
    const ctx = testContext();
    const handle = await windowWatcherChild({ probeFactory, sink, hostname: 'race', pollMs: 20 }).start(ctx);
    for (let i = 0; i < 15; i++) {
      const w = await maker.create({ cls: 'Blink', title: `blink ${i}` });
      await xtool(x.display, 'xdotool', ['windowactivate', String(w.id)]).catch(() => '');
      await w.destroy();
    }
    const stay = await maker.create({ cls: 'Stay', title: 'stays' });
    await activate(x.display, stay.id);
    await waitFor(() => sink.calls.some((c) => c.event.data.app === 'Stay'), 'watcher still working');
    await handle.stop();
    expect(ctx.crashes).toEqual([]);
    expect(handle.status!()).not.toHaveProperty('unavailable');
    for (const c of sink.calls) expect(['Blink', 'Stay', 'unknown']).toContain(c.event.data.app);
    await stay.destroy();
  });

  it('AFK watcher: not-afk → afk → not-afk with back-dated boundaries (timeout 2 s, poll 0.2 s)', async () => {
    const sink = new MemorySink();
    const ctx = testContext();
    await xtool(x.display, 'xdotool', ['mousemove', '10', '10']);
    const handle: ChildHandle = await afkWatcherChild({ probeFactory, sink, hostname: 'xhost', pollMs: 200, timeoutMs: 2000 }).start(ctx);
    const status = () => handle.status!().state;
    // Keep "typing" for a moment, then stop.
    for (let i = 0; i < 4; i++) {
      await xtool(x.display, 'xdotool', ['mousemove', String(20 + i), '20']);
      await sleep(100);
    }
    const leftAt = Date.now() * MS;
    await waitFor(() => status() === 'afk', 'afk', 15_000);
    await sleep(300);
    const backAt = Date.now() * MS;
    await xtool(x.display, 'xdotool', ['key', 'shift']);
    await waitFor(() => status() === 'not-afk', 'back', 15_000);
    await sleep(400);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);

    const evs = sink.list('aw-watcher-afk_xhost');
    expect(evs.map((e) => e.data.status)).toEqual(['not-afk', 'afk', 'not-afk']);
    const [active, away, again] = evs as [typeof evs[0], typeof evs[0], typeof evs[0]];
    // Exactly 1 ms between the periods (the +1 ms scheme), no gap and no overlap.
    expect(away.timestamp - (active.timestamp + active.duration)).toBe(1 * MS);
    expect(again.timestamp - (away.timestamp + away.duration)).toBe(1 * MS);
    // The afk period starts at the last input (back-dated by ~timeout), not at the poll that noticed it.
    expect(Math.abs(away.timestamp - leftAt)).toBeLessThan(400 * MS);
    expect(away.duration).toBeGreaterThan(2000 * MS - 400 * MS);
    expect(Math.abs(again.timestamp - backAt)).toBeLessThan(400 * MS);
    expect(sink.calls.every((c) => c.pulsetime === 2200 * MS)).toBe(true);
  });

  it('AFK watcher: an active screensaver counts as AFK', async () => {
    const sink = new MemorySink();
    const handle = await afkWatcherChild({ probeFactory, sink, hostname: 'saver', pollMs: 100, timeoutMs: 60_000 }).start(testContext());
    await xtool(x.display, 'xdotool', ['mousemove', '50', '50']);
    await waitFor(() => handle.status!().polls as number > 2, 'polls');
    await maker.forceSaver(true);
    await waitFor(() => handle.status!().state === 'afk', 'afk through the saver');
    await maker.forceSaver(false);
    await xtool(x.display, 'xdotool', ['mousemove', '60', '60']);
    await waitFor(() => handle.status!().state === 'not-afk', 'back');
    await handle.stop();
    expect(sink.list('aw-watcher-afk_saver').map((e) => e.data.status)).toEqual(['not-afk', 'afk', 'not-afk']);
  });
});

describe('watchers without a display', () => {
  it('report unavailable and stay up', async () => {
    const sink = new MemorySink();
    const ctx = testContext();
    const handle = await windowWatcherChild({ probeFactory: () => X11Probe.open({ display: ':4998' }), sink, hostname: 'none', retryMs: 50 }).start(ctx);
    await waitFor(() => typeof handle.status!().unavailable === 'string', 'unavailable status');
    expect(String(handle.status!().unavailable)).toMatch(/cannot connect to X server/);
    await sleep(200);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);
    expect(sink.calls).toEqual([]);
  });
});
