import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afkWatcherChild } from '../../src/actors/watchers/afk.js';
import { windowWatcherChild } from '../../src/actors/watchers/window.js';
import { openProbe } from '../../src/platform/index.js';
import { startSway, type SwaySession } from '../platform/swayenv.js';
import { sleep, waitFor } from '../platform/xenv.js';
import { MemorySink, testContext } from './helpers.js';

const MS = 1000;

describe('watchers on a real headless sway', () => {
  let sway: SwaySession;
  beforeAll(async () => {
    sway = await startSway();
  });
  afterAll(async () => {
    await sway?.stop();
  });

  const probeFactory = () => openProbe({ where: { platform: 'linux', env: { ...sway.env(), XDG_SESSION_TYPE: 'wayland' } }, idleStepSeconds: 1 });

  it('window watcher: focus switches and title changes are recorded at once (events), not at the next poll', async () => {
    const a = await sway.openWindow('org.example.Editor', 'notes — ä');
    const b = await sway.openWindow('org.example.Mail', 'Inbox (3) — secret');
    await sway.focus('notes — ä');
    const sink = new MemorySink();
    const ctx = testContext();
    // A 5 s poll: anything recorded sooner than that came from an event.
    const handle = await windowWatcherChild({ probeFactory, sink, hostname: 'wl', pollMs: 5_000, exclude_titles: ['secret'] }).start(ctx);
    await waitFor(() => sink.calls.some((c) => c.event.data.app === 'org.example.Editor'), 'first heartbeat', 20_000);
    await sleep(300);

    const tB = Date.now() * MS;
    await sway.focus('Inbox (3) — secret');
    await waitFor(() => sink.calls.some((c) => c.event.data.app === 'org.example.Mail'), 'Mail heartbeat', 20_000);
    const tTitle = Date.now() * MS;
    await a.setTitle('not focused, ignored');
    await b.setTitle('Inbox (4) — work');
    await waitFor(() => sink.calls.some((c) => c.event.data.title === 'Inbox (4) — work'), 'renamed heartbeat', 20_000);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);

    const evs = sink.list('aw-watcher-window_wl');
    expect(evs.map((e) => e.data)).toEqual([
      { app: 'org.example.Editor', title: 'notes — ä' },
      { app: 'org.example.Mail', title: 'excluded' },
      { app: 'org.example.Mail', title: 'Inbox (4) — work' },
    ]);
    // Well inside the 5 s poll: the change events drove these heartbeats.
    expect(evs[1]!.timestamp - tB).toBeLessThan(2_000 * MS);
    expect(evs[2]!.timestamp - tTitle).toBeLessThan(2_000 * MS);
    expect(handle.status!()).toMatchObject({ probe: 'sway', probeReason: expect.stringMatching(/SWAYSOCK/) });
    await a.close();
    await b.close();
  });

  it('AFK watcher: swayidle timeout → afk (back-dated), pointer input → not-afk', async () => {
    const sink = new MemorySink();
    const ctx = testContext();
    const handle = await afkWatcherChild({ probeFactory, sink, hostname: 'wl', pollMs: 1_000, timeoutMs: 3_000 }).start(ctx);
    await sway.input();
    await waitFor(() => handle.status!().state === 'afk', 'afk after 3 s without input', 30_000);
    const tBack = Date.now() * MS;
    await sway.input();
    await waitFor(() => handle.status!().state === 'not-afk', 'not-afk after input', 30_000);
    await sleep(1_200);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);

    const evs = sink.list('aw-watcher-afk_wl');
    expect(evs.map((e) => e.data.status)).toEqual(['not-afk', 'afk', 'not-afk']);
    const [active, afk, back] = evs as [(typeof evs)[0], (typeof evs)[0], (typeof evs)[0]];
    // The afk period starts right after the last recorded activity, never overlapping it.
    expect(afk.timestamp).toBeGreaterThan(active.timestamp + active.duration);
    expect(afk.timestamp - (active.timestamp + active.duration)).toBeLessThan(2_000 * MS);
    // ≥ the timeout long, ending at the input that brought the user back (resolution: one step).
    expect(afk.duration).toBeGreaterThanOrEqual(3_000 * MS - 1_000 * MS);
    expect(Math.abs(afk.timestamp + afk.duration - tBack)).toBeLessThan(2_000 * MS);
    expect(back.timestamp).toBeGreaterThan(afk.timestamp + afk.duration);
  });
});
