import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { activate, startX, WindowMaker, type XServer } from '../platform/xenv.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The built-in window watcher writes through the plugin library's outbox: a frozen and then
// killed nats-server costs no heartbeat.
let x: XServer;
let maker: WindowMaker;
let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;
const POLL_S = 0.5;
// Unloaded, a poll takes ~10 ms; with the whole suite on 2 shared cores, up to ~500 ms was seen.
const SLOW_POLL_MS = 600;

beforeAll(async () => {
  x = await startX();
  maker = await WindowMaker.connect(x.display);
  process.env.DISPLAY = x.display;
  tmp = tempDir();
  daemon = await startInProcess(
    tmp.dir,
    (c) => {
      c.watchers.enabled = true;
      c.watchers.window.poll_time = POLL_S;
      Object.assign(c.watchers.afk, { poll_time: 1, timeout: 60 });
    },
    { restart: { intensity: { maxRestarts: 20, withinMs: 60_000 }, backoff: { initialMs: 100, maxMs: 1_000, jitter: 0.1 } } },
  );
});
afterAll(async () => {
  await daemon?.stop();
  maker?.close();
  await x?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; duration: number; data: Record<string, string> };
const events = async (bucket: string): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/${encodeURIComponent(bucket)}/events?limit=-1`);
  return r.ok ? ((await r.json()) as Ev[]).reverse() : [];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const busPid = () => daemon.supervisor.status().find((c) => c.name === 'bus' && c.state === 'running')?.pid ?? undefined;

describe('window watcher across a nats-server freeze and kill -9', () => {
  it('records every focus switch: whole span covered, right titles, no zero-length fragments, no gaps', async () => {
    const titles = ['one', 'two', 'three'];
    const wins: { id: number }[] = [];
    for (const [i, t] of titles.entries()) wins.push(await maker.create({ cls: `W${i}`, title: t }));
    const bucket = `aw-watcher-window_${os.hostname()}`;
    const switched: string[] = [];
    let k = 0;
    const switchNext = async () => {
      const i = k++ % wins.length;
      await activate(x.display, wins[i]!.id);
      switched.push(titles[i]!);
    };
    await switchNext();
    await waitFor('the first window recorded', async () => (await events(bucket)).some((e) => e.data.title === 'one'));

    // Switch every 1.5 s throughout: 3 s before the freeze, 10 s frozen, then kill -9, 6 s after.
    let running = true;
    const switcher = (async () => {
      while (running) {
        await sleep(1_500);
        if (running) await switchNext();
      }
    })();
    await sleep(3_000);
    const pid = busPid()!;
    expect(pid).toBeGreaterThan(0);
    const frozenAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    await sleep(10_000);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* the supervisor already replaced it */
    }
    const killedAt = Date.now();
    await waitFor('a new nats-server', async () => (busPid() ?? pid) !== pid, 30_000);
    await sleep(6_000);
    running = false;
    await switcher;
    const last = switched[switched.length - 1]!;
    await sleep(1_500);
    await waitFor('the outbox emptied', async () => (daemon.status().children as { name: string; info: { queued?: number } }[]).find((c) => c.name === 'watchers-outbox')?.info.queued === 0, 30_000);
    await waitFor('the last window recorded', async () => {
      const evs = await events(bucket);
      return evs.length > 0 && evs[evs.length - 1]!.data.title === last && evs[evs.length - 1]!.duration >= 1;
    }, 30_000);

    const evs = (await events(bucket)).filter((e) => titles.includes(e.data.title!));
    const start = (e: Ev) => Date.parse(e.timestamp);
    const end = (e: Ev) => start(e) + e.duration * 1000;
    // The right titles, in the order the windows were focused.
    const seq = evs.map((e) => e.data.title).filter((t, i, a) => i === 0 || t !== a[i - 1]);
    expect(seq).toEqual(switched);
    // One event per focus period: no fragments, none of zero length (the last one may still be growing).
    expect(evs).toHaveLength(switched.length);
    for (const e of evs) expect(e.duration).toBeGreaterThan(0);
    // The span before, through and after the outage is covered: between two events there is only
    // the time from one poll to the next — the poll interval plus the poll's own work (X round trip,
    // the outbox commit), allowed up to SLOW_POLL_MS on a loaded machine. A lost poll would leave at
    // least two intervals, the old drop-after-3-tries sink left seconds.
    const gaps = evs.slice(1).map((e, i) => start(e) - end(evs[i]!));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
    const when = evs.slice(1).map((e) => Math.round((start(e) - frozenAt) / 100) / 10);
    expect(Math.max(...gaps), `gaps ${gaps.map((g, i) => `${g} ms at ${when[i]} s`).join(', ')} (frozen at 0, killed at ${(killedAt - frozenAt) / 1000} s)`).toBeLessThanOrEqual(POLL_S * 1000 + SLOW_POLL_MS);
    expect(start(evs[0]!)).toBeLessThan(frozenAt - 2_000);
    expect(end(evs[evs.length - 1]!)).toBeGreaterThan(killedAt + 5_000);
  }, 120_000);
});
