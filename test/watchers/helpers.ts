import { mergeHeartbeat } from '../../src/model/heartbeat.js';
import type { Event } from '../../src/model/event.js';
import type { Clock, WatcherSink } from '../../src/actors/watchers/runner.js';
import type { ActiveWindow, Probe } from '../../src/platform/types.js';
import type { ChildContext } from '../../src/supervisor/types.js';
import { silentLogger } from '../../src/log.js';

/** A sink that stores like the server does: the real heartbeat merge rule on an in-memory bucket. */
export class MemorySink implements WatcherSink {
  buckets = new Map<string, { id: string; type: string; client: string; hostname: string }>();
  events = new Map<string, Event[]>();
  calls: Array<{ bucketId: string; event: Event; pulsetime: number }> = [];
  ensureCalls = 0;
  private nextId = 1;

  async ensureBucket(b: { id: string; type: string; client: string; hostname: string }): Promise<void> {
    this.ensureCalls++;
    this.buckets.set(b.id, b);
    if (!this.events.has(b.id)) this.events.set(b.id, []);
  }

  async heartbeat(bucketId: string, event: Event, pulsetime: number): Promise<void> {
    if (!this.buckets.has(bucketId)) throw new Error(`no bucket ${bucketId}`);
    this.calls.push({ bucketId, event, pulsetime });
    const list = this.events.get(bucketId)!;
    let lastIdx = -1;
    for (let i = 0; i < list.length; i++) if (lastIdx < 0 || list[i]!.timestamp >= list[lastIdx]!.timestamp) lastIdx = i;
    const merged = mergeHeartbeat(lastIdx >= 0 ? list[lastIdx]! : null, event, pulsetime);
    if (merged) list[lastIdx] = merged;
    else list.push({ ...event, id: this.nextId++ });
  }

  list(bucketId: string): Event[] {
    return [...(this.events.get(bucketId) ?? [])].sort((a, b) => a.timestamp - b.timestamp);
  }
}

/**
 * A clock for tests: `sleep` advances time instantly, but never past `limit`; there the loop parks
 * until the limit is raised (so a run is deterministic). `jumpNextSleep` simulates a suspend.
 */
export class FakeClock implements Clock {
  limit = Number.POSITIVE_INFINITY;
  parked = false;
  private extra = 0;
  private wake: (() => void) | null = null;
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const target = (): number => this.t + ms * 1000 + this.extra;
    while (target() > this.limit && !signal.aborted) {
      this.parked = true;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    this.parked = false;
    if (signal.aborted) return;
    this.t = target();
    this.extra = 0;
    await new Promise((r) => setImmediate(r));
  }
  /** Lets the loop run until `limit` (µs) and waits until it parks there. */
  async runUntil(limit: number): Promise<void> {
    this.limit = limit;
    this.parked = false;
    const w = this.wake;
    this.wake = null;
    w?.();
    const end = Date.now() + 10_000;
    while (!this.parked) {
      if (Date.now() > end) throw new Error('loop did not reach the limit');
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  jumpNextSleep(ms: number): void {
    this.extra = ms * 1000;
  }
}

/** A scripted probe: idle / window / lock as functions of the fake time. */
export function scriptedProbe(clock: { now(): number }, script: {
  idle?: (t: number) => number;
  window?: (t: number) => ActiveWindow | null;
  locked?: (t: number) => boolean;
  notice?: () => string | null;
}): Probe & { closed: number } {
  const p = {
    kind: 'fake',
    closed: 0,
    idleSeconds: async () => (script.idle ? script.idle(clock.now()) : 0),
    activeWindow: async () => (script.window ? script.window(clock.now()) : { app: 'x', title: 'y' }),
    locked: async () => (script.locked ? script.locked(clock.now()) : false),
    notice: () => (script.notice ? script.notice() : null),
    close() {
      p.closed++;
    },
  };
  return p;
}

export function testContext(): ChildContext & { crashes: unknown[]; abort(): void } {
  const ac = new AbortController();
  const crashes: unknown[] = [];
  return {
    crashes,
    crash: (err: unknown) => {
      crashes.push(err);
      ac.abort();
    },
    signal: ac.signal,
    log: silentLogger(),
    abort: () => ac.abort(),
  };
}

export const S = 1_000_000;
