import { describe, expect, it } from 'vitest';
import { afkWatcherChild } from '../../src/actors/watchers/afk.js';
import { titleFilter, windowData, windowPulsetime, windowWatcherChild } from '../../src/actors/watchers/window.js';
import { ProbeUnavailableError, type Probe } from '../../src/platform/types.js';
import { parseTimestamp } from '../../src/model/time.js';
import { FakeClock, MemorySink, S, scriptedProbe, testContext } from './helpers.js';

const T0 = parseTimestamp('2024-05-01T09:00:00Z');

describe('AFK watcher child (fake clock, scripted probe, merging sink)', () => {
  it('writes aw-watcher-afk_<host> / afkstatus with back-dated boundaries and a sleep gap', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    // Input until T0+60, away until T0+200, active until T0+300, suspended until T0+1300, then active.
    const lastInput = (t: number) => (t < T0 + 60 * S ? t : t < T0 + 200 * S ? T0 + 60 * S : t);
    const probe = scriptedProbe(clock, { idle: (t) => (t - lastInput(t)) / S });
    const spec = afkWatcherChild({ probeFactory: async () => probe, sink, hostname: 'box', pollMs: 5_000, timeoutMs: 60_000, clock });
    expect(spec.restart).toBe('permanent');
    const ctx = testContext();
    const handle = await spec.start(ctx);
    await clock.runUntil(T0 + 300 * S);
    clock.jumpNextSleep(1000_000);
    await clock.runUntil(T0 + 1400 * S);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);
    expect(sink.buckets.get('aw-watcher-afk_box')).toEqual({ id: 'aw-watcher-afk_box', type: 'afkstatus', client: 'aw-watcher-afk', hostname: 'box' });
    expect(new Set(sink.calls.map((c) => c.pulsetime))).toEqual(new Set([65 * S, 0]));
    const evs = sink.list('aw-watcher-afk_box').map((e) => [e.data.status, (e.timestamp - T0) / S, (e.timestamp + e.duration - T0) / S]);
    expect(evs).toEqual([
      ['not-afk', 0, 60], // ends at the last input
      ['afk', 60.001, 200], // back-dated to last input + 1 ms, closed at the returning input
      ['not-afk', 200.001, 300],
      ['not-afk', 1305, 1400], // new period after the suspend, nothing spans [300, 1305)
    ]);
    expect(handle.status!()).toMatchObject({ bucket: 'aw-watcher-afk_box', state: 'not-afk', sleeps: 1 });
    expect(probe.closed).toBe(1);
  });

  it('a locked screen reported by the probe makes the watcher AFK', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    const probe = scriptedProbe(clock, { idle: () => 1, locked: (t) => t >= T0 + 20 * S && t < T0 + 40 * S });
    const handle = await afkWatcherChild({ probeFactory: async () => probe, sink, hostname: 'h', pollMs: 5_000, timeoutMs: 180_000, clock }).start(testContext());
    await clock.runUntil(T0 + 60 * S);
    await handle.stop();
    expect(sink.list('aw-watcher-afk_h').map((e) => e.data.status)).toEqual(['not-afk', 'afk', 'not-afk']);
  });

  it('refuses timeout < poll', () => {
    expect(() => afkWatcherChild({ probeFactory: async () => ({}) as Probe, sink: new MemorySink(), pollMs: 5000, timeoutMs: 1000 })).toThrow(RangeError);
  });
});

describe('window watcher child', () => {
  it('sends {app, title} heartbeats with pulsetime max(1.5 × poll, poll + 1 s), skips "no window", applies exclusion', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    const probe = scriptedProbe(clock, {
      window: (t) => {
        const s = (t - T0) / S;
        if (s < 5) return { app: 'Code', title: 'main.ts — sundial', pid: 7 };
        if (s < 8) return null; // lock screen
        if (s < 12) return { app: 'Firefox', title: 'My Bank — Online banking' };
        return { app: '', title: 'plain' };
      },
    });
    const spec = windowWatcherChild({ probeFactory: async () => probe, sink, hostname: 'box', clock, exclude_titles: ['BANK'] });
    const handle = await spec.start(testContext());
    await clock.runUntil(T0 + 14 * S);
    await handle.stop();
    expect(sink.buckets.get('aw-watcher-window_box')).toMatchObject({ type: 'currentwindow', client: 'aw-watcher-window' });
    expect(sink.calls.every((c) => c.pulsetime === 2 * S && c.event.duration === 0)).toBe(true);
    const evs = sink.list('aw-watcher-window_box').map((e) => [e.data, (e.timestamp - T0) / S, e.duration / S]);
    expect(evs).toEqual([
      [{ app: 'Code', title: 'main.ts — sundial' }, 0, 4],
      [{ app: 'Firefox', title: 'excluded' }, 8, 3],
      [{ app: 'unknown', title: 'plain' }, 12, 2],
    ]);
    expect(handle.status!()).toMatchObject({ skipped: 3, current: { app: 'unknown', title: 'plain' } });
  });

  it('pulsetime and exclusion rules', () => {
    expect(windowPulsetime(1000)).toBe(2 * S);
    expect(windowPulsetime(5000)).toBe(7.5 * S);
    expect(windowPulsetime(200)).toBe(1.2 * S);
    const f = titleFilter({ exclude_titles: ['secret', '^inbox \\(\\d+\\)'] });
    expect(f('My SECRET plans')).toBe('excluded');
    expect(f('Inbox (3) - mail')).toBe('excluded');
    expect(f('an inbox (3)')).toBe('an inbox (3)');
    expect(titleFilter({ exclude_title: true })('anything')).toBe('excluded');
    expect(() => titleFilter({ exclude_titles: ['(unclosed'] })).toThrow(/invalid regular expression/);
    expect(windowData({ app: 'A', title: 'secret' }, f)).toEqual({ app: 'A', title: 'excluded' });
  });
});

describe('unavailable probe', () => {
  it('reports { unavailable } and retries slowly inside one incarnation, no crash', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    let attempts = 0;
    let ok = false;
    const factory = async (): Promise<Probe> => {
      attempts++;
      if (!ok) throw new ProbeUnavailableError('no graphical session (DISPLAY is not set)');
      return scriptedProbe(clock, { idle: () => 0 });
    };
    const ctx = testContext();
    const handle = await afkWatcherChild({ probeFactory: factory, sink, hostname: 'h', clock, retryMs: 30_000 }).start(ctx);
    await clock.runUntil(T0 + 100 * S);
    expect(handle.status!()).toMatchObject({ unavailable: 'no graphical session (DISPLAY is not set)', polls: 0 });
    // t = 0, 30, 60, 90: one attempt per retry interval, not per poll.
    expect(attempts).toBe(4);
    expect(ctx.crashes).toEqual([]);
    // Nothing to record, so no bucket either (a server without a display gets no empty buckets).
    expect(sink.buckets.size).toBe(0);
    ok = true;
    await clock.runUntil(T0 + 140 * S);
    const st = handle.status!();
    expect(st.unavailable).toBeUndefined();
    expect([...sink.buckets.keys()]).toEqual(['aw-watcher-afk_h']);
    expect(st.polls).toBeGreaterThan(0);
    await handle.stop();
    expect(ctx.crashes).toEqual([]);
  });

  it('a probe that becomes unavailable mid-run is closed and re-created after the retry delay', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    const probes: Array<ReturnType<typeof scriptedProbe>> = [];
    const factory = async (): Promise<Probe> => {
      const p = scriptedProbe(clock, {});
      const inner = p.activeWindow;
      p.activeWindow = async () => {
        const t = clock.now();
        if (t >= T0 + 10 * S && t < T0 + 35 * S) throw new ProbeUnavailableError('X server closed the connection');
        return inner();
      };
      probes.push(p);
      return p;
    };
    const handle = await windowWatcherChild({ probeFactory: factory, sink, hostname: 'h', clock, retryMs: 30_000 }).start(testContext());
    await clock.runUntil(T0 + 20 * S);
    expect(handle.status!()).toMatchObject({ unavailable: 'X server closed the connection' });
    expect(probes[0]!.closed).toBe(1);
    await clock.runUntil(T0 + 60 * S);
    expect(handle.status!().unavailable).toBeUndefined();
    expect(probes).toHaveLength(2); // failed at t=10, re-created by the retry at t=40
    await handle.stop();
  });

  it('other poll errors are logged and counted, the loop keeps going', async () => {
    const clock = new FakeClock(T0);
    const sink = new MemorySink();
    let n = 0;
    const probe = scriptedProbe(clock, {
      idle: () => {
        if (++n % 2 === 0) throw new Error('transient');
        return 0;
      },
    });
    const ctx = testContext();
    const handle = await afkWatcherChild({ probeFactory: async () => probe, sink, hostname: 'h', clock }).start(ctx);
    await clock.runUntil(T0 + 50 * S);
    await handle.stop();
    expect(handle.status!()).toMatchObject({ errors: 5, lastError: 'transient', polls: 6 });
    expect(ctx.crashes).toEqual([]);
  });
});
