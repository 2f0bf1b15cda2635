import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { backoffDelay } from '../../src/supervisor/child-machine.js';
import { createSupervisor, type ChildTransition, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { ChildContext, ChildHandle, ChildSpec, RestartPolicy } from '../../src/supervisor/types.js';

const log = silentLogger();
const fast = { backoff: { initialMs: 10, maxMs: 1_000, jitter: 0 }, intensity: { maxRestarts: 10, withinMs: 60_000 } };

/** Polls `check` until it is true (bounded), for conditions reached through several async hops. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A scriptable in-process child that records what the supervisor did to it. */
function fakeChild(
  name: string,
  behave: {
    restart?: RestartPolicy;
    /** Per incarnation (1-based): what start does. */
    start?: (n: number, ctx: ChildContext) => Promise<void> | void;
    stop?: (n: number) => Promise<void>;
    ping?: (n: number) => Promise<void>;
    withKill?: boolean;
    shutdownTimeoutMs?: number;
    pingIntervalMs?: number;
    pingTimeoutMs?: number;
  } = {},
  journal: string[] = [],
) {
  const ctxs: ChildContext[] = [];
  const rec = { starts: 0, stops: 0, kills: 0, ctxs, journal };
  const spec: ChildSpec = {
    name,
    restart: behave.restart ?? 'permanent',
    shutdownTimeoutMs: behave.shutdownTimeoutMs ?? 1_000,
    pingIntervalMs: behave.pingIntervalMs,
    pingTimeoutMs: behave.pingTimeoutMs,
    async start(ctx) {
      const n = ++rec.starts;
      ctxs.push(ctx);
      journal.push(`start ${name}`);
      await behave.start?.(n, ctx);
      const handle: ChildHandle = {
        async stop() {
          rec.stops++;
          journal.push(`stop ${name}`);
          await behave.stop?.(n);
        },
        status: () => ({ incarnation: n }),
      };
      if (behave.withKill) {
        handle.kill = () => {
          rec.kills++;
          journal.push(`kill ${name}`);
        };
      }
      if (behave.ping) handle.ping = () => behave.ping!(n);
      return handle;
    },
  };
  return { spec, rec };
}

let sup: Supervisor | null = null;
afterEach(async () => {
  await sup?.stop();
  sup = null;
});

describe('supervisor', () => {
  it('restarts a crashing child with growing backoff, counting restarts and keeping the last error', async () => {
    const c = fakeChild('worker', {
      start: (n, ctx) => {
        // the first three incarnations die shortly after they are up
        if (n <= 3) setTimeout(() => ctx.crash(new Error(`boom ${n}`)), 5);
      },
    });
    sup = createSupervisor({ children: [c.spec], log, ...fast });
    const seen: ChildTransition[] = [];
    sup.onChange((t) => seen.push(t));
    await sup.start();
    await until(() => c.rec.starts === 4 && sup!.status()[0]!.state === 'running', 'fourth incarnation running');

    const delays = seen.filter((t) => t.to === 'backoff').map((t) => t.backoffMs);
    expect(delays).toEqual([10, 20, 40]);
    const path = seen.map((t) => t.to);
    expect(path.slice(0, 6)).toEqual(['starting', 'running', 'crashed', 'backoff', 'starting', 'running']);

    const s = sup.status()[0]!;
    expect(s).toMatchObject({ name: 'worker', state: 'running', restarts: 3, lastError: 'boom 3', info: { incarnation: 4 } });
    expect(s.uptimeMs).toBeGreaterThanOrEqual(0);
    // a crashed incarnation is killed (stop() stands in for a missing kill()) and its signal aborted
    expect(c.rec.stops).toBe(3);
    expect(c.rec.ctxs.slice(0, 3).every((x) => x.signal.aborted)).toBe(true);
    expect(c.rec.ctxs[3]!.signal.aborted).toBe(false);

    await sup.stop();
    expect(sup.status()[0]).toMatchObject({ state: 'stopped', uptimeMs: null, pid: null });
    expect(c.rec.ctxs[3]!.signal.aborted).toBe(true);
  });

  it('marks a child failed when restart intensity is exceeded, without touching its sibling', async () => {
    const bad = fakeChild('bad', {
      start: () => {
        throw new Error('cannot open thing');
      },
    });
    const good = fakeChild('good');
    sup = createSupervisor({
      children: [bad.spec, good.spec],
      log,
      backoff: fast.backoff,
      intensity: { maxRestarts: 2, withinMs: 60_000 },
    });
    const goodSeen: string[] = [];
    sup.onChange((t) => t.name === 'good' && goodSeen.push(`${t.from}>${t.to}`));

    await sup.start(); // resolves although `bad` ended up failed
    const [b, g] = sup.status();
    expect(b).toMatchObject({ state: 'failed', restarts: 2, lastError: 'cannot open thing', uptimeMs: null });
    expect(bad.rec.starts).toBe(3); // first start + 2 restarts
    expect(g).toMatchObject({ state: 'running', restarts: 0 });

    // operator start of a failed child resets its intensity: it gets another full round
    const again = await sup.startChild('bad');
    expect(again.state).toBe('failed');
    expect(bad.rec.starts).toBe(6);
    expect(again.restarts).toBe(4);

    expect(goodSeen).toEqual(['stopped>starting', 'starting>running']);
    expect(good.rec.stops).toBe(0);
    expect(good.rec.ctxs[0]!.signal.aborted).toBe(false);
  });

  it('counts a rejected start as a crash', async () => {
    const c = fakeChild('flaky', {
      start: (n) => {
        if (n === 1) return Promise.reject(new Error('port busy'));
      },
    });
    sup = createSupervisor({ children: [c.spec], log, ...fast });
    await sup.start();
    expect(sup.status()[0]).toMatchObject({ state: 'running', restarts: 1, lastError: 'port busy' });
    expect(c.rec.starts).toBe(2);
  });

  it('counts a ping timeout and a ping rejection as crashes', async () => {
    const c = fakeChild('pinged', {
      withKill: true,
      pingIntervalMs: 10,
      pingTimeoutMs: 30,
      ping: (n) => {
        if (n === 1) return new Promise<void>(() => {}); // hangs
        if (n === 2) return Promise.reject(new Error('no answer'));
        return Promise.resolve();
      },
    });
    sup = createSupervisor({ children: [c.spec], log, ...fast });
    const errors: (string | null)[] = [];
    sup.onChange((t) => t.to === 'crashed' && errors.push(t.lastError));
    await sup.start();
    await until(() => c.rec.starts === 3 && sup!.status()[0]!.state === 'running', 'third incarnation');
    expect(errors).toEqual(['ping timed out after 30 ms', 'ping failed: no answer']);
    expect(c.rec.kills).toBe(2);
    expect(c.rec.stops).toBe(0); // crashed incarnations are killed, not drained
    expect(sup.status()[0]!.restarts).toBe(2);
  });

  it('follows the OTP restart policies for normal exits and crashes', async () => {
    const exitSoon = (n: number, ctx: ChildContext) => {
      if (n === 1) setTimeout(() => ctx.exit!(), 5);
    };
    const crashSoon = (n: number, ctx: ChildContext) => {
      if (n === 1) setTimeout(() => ctx.crash(new Error('oops')), 5);
    };
    const transientExit = fakeChild('transient-exit', { restart: 'transient', start: exitSoon });
    const transientCrash = fakeChild('transient-crash', { restart: 'transient', start: crashSoon });
    const temporaryCrash = fakeChild('temporary-crash', { restart: 'temporary', start: crashSoon });
    const temporaryExit = fakeChild('temporary-exit', { restart: 'temporary', start: exitSoon });
    const permanentExit = fakeChild('permanent-exit', { restart: 'permanent', start: exitSoon });
    const all = [transientExit, transientCrash, temporaryCrash, temporaryExit, permanentExit];
    sup = createSupervisor({ children: all.map((c) => c.spec), log, ...fast });
    await sup.start();

    await sup.whenState('transient-exit', 'stopped');
    await until(() => transientCrash.rec.starts === 2, 'transient restart after crash');
    await sup.whenState('transient-crash', 'running');
    await sup.whenState('temporary-crash', 'failed');
    await sup.whenState('temporary-exit', 'stopped');
    await until(() => permanentExit.rec.starts === 2, 'permanent restart after normal exit');
    await sup.whenState('permanent-exit', 'running');

    expect(transientExit.rec.starts).toBe(1);
    expect(temporaryCrash.rec.starts).toBe(1);
    expect(temporaryExit.rec.starts).toBe(1);
    const byName = Object.fromEntries(sup.status().map((s) => [s.name, s]));
    expect(byName['transient-exit']).toMatchObject({ state: 'stopped', restarts: 0 });
    expect(byName['temporary-crash']).toMatchObject({ state: 'failed', restarts: 0, lastError: 'oops' });
    expect(byName['transient-crash']).toMatchObject({ state: 'running', restarts: 1 });
    expect(byName['permanent-exit']).toMatchObject({ state: 'running', restarts: 1 });

    // an operator stop is never followed by a restart, whatever the policy
    await sup.stopChild('permanent-exit');
    await new Promise((r) => setTimeout(r, 50));
    expect(sup.status().find((s) => s.name === 'permanent-exit')!.state).toBe('stopped');
    expect(permanentExit.rec.starts).toBe(2);
  });

  it('starts in declared order and stops in reverse order', async () => {
    const journal: string[] = [];
    const kids = ['a', 'b', 'c'].map((n) => fakeChild(n, {}, journal));
    sup = createSupervisor({ children: kids.map((k) => k.spec), log, ...fast });
    await sup.start();
    await sup.stop();
    expect(journal).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(sup.status().map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('bounds the stop of a hanging child by its shutdownTimeoutMs, then kills it', async () => {
    const journal: string[] = [];
    const hang = fakeChild('hang', { shutdownTimeoutMs: 30, withKill: true, stop: () => new Promise(() => {}) }, journal);
    const ok = fakeChild('ok', {}, journal);
    sup = createSupervisor({ children: [ok.spec, hang.spec], log, ...fast });
    await sup.start();
    await sup.stop();
    expect(journal).toEqual(['start ok', 'start hang', 'stop hang', 'kill hang', 'stop ok']);
    expect(sup.status().map((s) => s.state)).toEqual(['stopped', 'stopped']);
  });

  it('stops a child whose start is still pending and cleans up the late handle', async () => {
    let release!: () => void;
    const slow = fakeChild('slow', { start: () => new Promise<void>((r) => (release = r)), shutdownTimeoutMs: 1_000 });
    sup = createSupervisor({ children: [slow.spec], log, ...fast });
    const started = sup.start();
    await sup.whenState('slow', 'starting');
    const stopped = sup.stop();
    expect(slow.rec.ctxs[0]!.signal.aborted).toBe(true);
    release();
    await stopped;
    await started;
    expect(sup.status()[0]!.state).toBe('stopped');
    expect(slow.rec.stops).toBe(1); // the handle that arrived late was stopped
  });

  it('ignores crashes reported by a stale incarnation', async () => {
    const c = fakeChild('w');
    sup = createSupervisor({ children: [c.spec], log, ...fast });
    await sup.start();
    sup.crashChild('w', new Error('injected'));
    await until(() => c.rec.starts === 2 && sup!.status()[0]!.state === 'running', 'second incarnation');
    const seen: ChildTransition[] = [];
    sup.onChange((t) => seen.push(t));

    c.rec.ctxs[0]!.crash(new Error('late news from incarnation 1'));
    c.rec.ctxs[0]!.exit!();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(sup.status()[0]).toMatchObject({ state: 'running', restarts: 1, lastError: 'injected' });

    await sup.stopChild('w');
    c.rec.ctxs[1]!.crash(new Error('crash after stop'));
    await new Promise((r) => setTimeout(r, 50));
    expect(sup.status()[0]).toMatchObject({ state: 'stopped', restarts: 1, lastError: 'injected' });
    expect(c.rec.starts).toBe(2);
  });

  it('supports operator restart and rejects unknown names with a clear error', async () => {
    const c = fakeChild('w');
    sup = createSupervisor({ children: [c.spec], log, ...fast });
    await sup.start();
    const s = await sup.restartChild('w');
    expect(s).toMatchObject({ state: 'running', restarts: 0, info: { incarnation: 2 } });
    expect(c.rec.stops).toBe(1);
    expect(c.rec.ctxs[0]!.signal.aborted).toBe(true);

    expect(() => sup!.startChild('nope')).toThrow('unknown child "nope" (children: w)');
    expect(() => sup!.crashChild('nope')).toThrow(/unknown child/);
    await expect(sup.whenState('w', 'failed', 30)).rejects.toThrow(/did not reach failed within 30 ms \(it is running\)/);
    expect(() => createSupervisor({ children: [c.spec, c.spec], log })).toThrow(/two children are named "w"/);
  });

  it('starts the backoff over after a child ran stably for resetAfterMs', async () => {
    const c = fakeChild('w', {
      start: (n, ctx) => {
        // incarnation 2 runs well past resetAfterMs before it dies; the others die at once
        if (n <= 3) setTimeout(() => ctx.crash(new Error(`boom ${n}`)), n === 2 ? 300 : 0);
      },
    });
    sup = createSupervisor({
      children: [c.spec],
      log,
      backoff: { initialMs: 10, maxMs: 1_000, jitter: 0, resetAfterMs: 200 },
      intensity: { maxRestarts: 10, withinMs: 60_000 },
    });
    const delays: (number | null)[] = [];
    sup.onChange((t) => t.to === 'backoff' && delays.push(t.backoffMs));
    await sup.start();
    await until(() => c.rec.starts === 4 && sup!.status()[0]!.state === 'running', 'fourth incarnation');
    expect(delays).toEqual([10, 10, 20]);
  });

  it('spreads backoff delays by the jitter fraction and caps them at maxMs', () => {
    const b = { initialMs: 100, maxMs: 30_000, jitter: 0.2, resetAfterMs: 60_000 };
    expect([0, 1, 2, 3].map((n) => backoffDelay(b, n, () => 0.5))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(b, 2, () => 0)).toBe(320);
    expect(backoffDelay(b, 2, () => 1)).toBe(480);
    expect(backoffDelay(b, 20, () => 0.5)).toBe(30_000);
    expect(backoffDelay(b, 1_000, () => 0.5)).toBe(30_000);
  });
});
