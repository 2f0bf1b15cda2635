import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Event } from '../../src/model/event.js';
import { openOutbox } from '../../src/plugin/outbox.js';
import { expectedEvents } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir();
// The merge property needs thousands of commits: on tmpfs (when there is one) they cost no fsync.
const fast = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/sundial-outbox-') : tmp.dir;
afterAll(() => {
  tmp.cleanup();
  fs.rmSync(fast, { recursive: true, force: true });
});

/** Small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('outbox pre-merging', () => {
  it('stores exactly what the daemon would make of every single heartbeat, however sending interleaves', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const pulse = 2_000_000;
      const outbox = openOutbox(path.join(fast, `merge-${seed}.db`), 100_000);
      // A watcher's heartbeats: mostly 1 s apart, sometimes a pause beyond pulsetime, data changing now and then.
      const beats: Event[] = [];
      let t = 1_700_000_000_000_000, data = 0;
      for (let i = 0; i < 300; i++) {
        t += rand() < 0.1 ? 5_000_000 : 1_000_000;
        if (rand() < 0.15) data = Math.floor(rand() * 3);
        beats.push({ id: null, timestamp: t, duration: rand() < 0.2 ? 500_000 : 0, data: { d: data } });
      }
      // The sender takes the head at random moments (sometimes leaving it "in flight" for a while).
      const applied: Event[] = [];
      let inFlight: ReturnType<typeof outbox.head> = null;
      for (const hb of beats) {
        outbox.heartbeat('b', hb, pulse);
        const r = rand();
        if (!inFlight && r < 0.3) {
          inFlight = outbox.head();
          outbox.sending(inFlight?.id ?? null);
        } else if (inFlight && r < 0.6) {
          applied.push((inFlight as { event: Event }).event);
          outbox.remove(inFlight.id);
          inFlight = null;
        }
      }
      if (inFlight) {
        applied.push((inFlight as { event: Event }).event);
        outbox.remove(inFlight.id);
      }
      for (let h = outbox.head(); h; h = outbox.head()) {
        applied.push((h as { event: Event }).event);
        outbox.remove(h.id);
      }
      expect(outbox.depth).toBe(0);
      expect(applied.length).toBeLessThan(beats.length / 2);
      expect(expectedEvents(applied, pulse), `seed ${seed}`).toEqual(expectedEvents(beats, pulse));
      outbox.close();
    }
  });

  it('keeps its items, their order and the insert keys across a reopen', () => {
    const file = path.join(tmp.dir, 'reopen.db');
    const a = openOutbox(file, 10);
    a.createBucket({ id: 'b', type: 't', client: 'c', hostname: 'h' });
    a.insert('b', [{ id: null, timestamp: 1, duration: 0, data: {} }]);
    a.heartbeat('b', { id: null, timestamp: 2, duration: 0, data: {} }, 1);
    const key = (a.head(), (() => {
      a.remove(a.head()!.id);
      return (a.head() as { key: string }).key;
    })());
    a.close();
    const b = openOutbox(file, 10);
    expect(b.depth).toBe(2);
    expect(b.head()).toMatchObject({ kind: 'insertEvents', key });
    expect(key).toMatch(/^[0-9a-f-]{36}:2$/);
    b.remove(b.head()!.id);
    expect(b.head()).toMatchObject({ kind: 'heartbeat', event: { timestamp: 2 } });
    b.insert('b', [{ id: null, timestamp: 3, duration: 0, data: {} }]);
    b.remove(b.head()!.id);
    // Keys never repeat, even after the items before were removed.
    expect((b.head() as { key: string }).key).toBe(key.replace(/:2$/, ':4'));
    b.close();
  });
});
