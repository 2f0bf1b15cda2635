import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { afkMachine, type AfkHeartbeat } from '../../src/actors/watchers/afk-machine.js';
import { parseTimestamp } from '../../src/model/time.js';
import { MemorySink, S } from './helpers.js';

const MS = 1000;
const T0 = parseTimestamp('2024-05-01T09:00:00Z');

function machine(timeoutS = 180, pollS = 5) {
  const actor = createActor(afkMachine, { input: { timeoutMicros: timeoutS * S, pollMicros: pollS * S } });
  let last: AfkHeartbeat[] = [];
  let gap = false;
  actor.on('heartbeats', (e) => {
    last = e.heartbeats;
    gap = e.afterGap;
  });
  actor.start();
  const poll = (now: number, idleS: number, locked = false) => {
    last = [];
    actor.send({ type: 'POLL', now, idleMicros: Math.round(idleS * S), locked });
    return { hbs: last, gap, state: actor.getSnapshot().value };
  };
  /** Polls every `pollS` from `from` to `to` (exclusive) with idle counted from `lastInput`. */
  const idleFrom = (from: number, to: number, lastInput: number) => {
    for (let now = from; now < to; now += pollS * S) poll(now, (now - lastInput) / S);
  };
  return { actor, poll, idleFrom };
}

const brief = (hs: AfkHeartbeat[]) => hs.map((h) => [h.event.data.status, h.event.timestamp, h.event.duration]);

describe('AFK state machine', () => {
  it('still active: not-afk at last input, duration 0, pulsetime timeout + poll', () => {
    const { poll } = machine();
    const r = poll(T0 + 10 * S, 2);
    expect(r.state).toBe('active');
    expect(brief(r.hbs)).toEqual([['not-afk', T0 + 8 * S, 0]]);
    expect(r.hbs[0]!.pulsetimeMicros).toBe(185 * S);
  });

  it('leaving: not-afk at last input, then afk back-dated to last input + 1 ms lasting idle', () => {
    const { poll, idleFrom } = machine();
    idleFrom(T0, T0 + 180 * S, T0);
    const r = poll(T0 + 181 * S, 181);
    expect(r.state).toBe('afk');
    expect(brief(r.hbs)).toEqual([
      ['not-afk', T0, 0],
      ['afk', T0 + 1 * MS, 181 * S],
    ]);
  });

  it('still away: afk at last input + 1 ms with the growing idle duration', () => {
    const { poll, idleFrom } = machine();
    idleFrom(T0, T0 + 180 * S, T0);
    poll(T0 + 181 * S, 181);
    const r = poll(T0 + 186 * S, 186);
    expect(brief(r.hbs)).toEqual([['afk', T0 + 1 * MS, 186 * S]]);
  });

  it('coming back: afk closed at the input, not-afk from input + 1 ms', () => {
    const { poll, idleFrom } = machine();
    idleFrom(T0, T0 + 300 * S, T0);
    const r = poll(T0 + 300 * S, 3);
    expect(r.state).toBe('active');
    expect(brief(r.hbs)).toEqual([
      ['afk', T0 + 297 * S, 0],
      ['not-afk', T0 + 297 * S + 1 * MS, 0],
    ]);
  });

  it('a locked screen counts as AFK even with recent input; unlocking comes back', () => {
    const { poll } = machine();
    poll(T0, 0);
    const r = poll(T0 + 5 * S, 1, true);
    expect(r.state).toBe('afk');
    expect(brief(r.hbs)).toEqual([
      ['not-afk', T0 + 4 * S, 0],
      ['afk', T0 + 4 * S + MS, 1 * S],
    ]);
    expect(poll(T0 + 10 * S, 6, true).state).toBe('afk');
    expect(poll(T0 + 15 * S, 0.5, false).state).toBe('active');
  });

  it('the stored result matches the worked example (20 minutes away)', async () => {
    const sink = new MemorySink();
    await sink.ensureBucket({ id: 'b', type: 'afkstatus', client: 'c', hostname: 'h' });
    const { poll } = machine();
    const t10 = parseTimestamp('2024-05-01T10:00:00Z');
    const t1020 = parseTimestamp('2024-05-01T10:20:00Z');
    for (let now = t10 - 60 * S; now <= t1020 + 30 * S; now += 5 * S) {
      // Active (input every poll) until 10:00:00, away until 10:20:00, then active again.
      // Between 10:20 and the next input, polls see no new input (the case that must still merge).
      const lastInput = now <= t10 ? now : now < t1020 ? t10 : now < t1020 + 20 * S ? t1020 : now;
      for (const h of poll(now, (now - lastInput) / S).hbs) await sink.heartbeat('b', h.event, h.pulsetimeMicros);
    }
    const evs = sink.list('b').map((e) => [e.data.status, e.timestamp, e.timestamp + e.duration]);
    expect(evs).toEqual([
      ['not-afk', t10 - 60 * S, t10],
      ['afk', t10 + MS, t1020],
      ['not-afk', t1020 + MS, t1020 + 30 * S],
    ]);
  });

  describe('sleep / suspend (a poll arriving much later than scheduled)', () => {
    const sleepStart = T0 + 100 * S; // last poll before the sleep
    const wake = sleepStart + 3600 * S;

    const run = async (before: 'active' | 'afk', idleAtWake: (now: number) => number) => {
      const sink = new MemorySink();
      await sink.ensureBucket({ id: 'b', type: 'afkstatus', client: 'c', hostname: 'h' });
      const { poll } = machine(60, 5);
      const send = async (now: number, idle: number) => {
        const r = poll(now, idle);
        for (const h of r.hbs) await sink.heartbeat('b', h.event, h.pulsetimeMicros);
        return r;
      };
      for (let now = T0; now <= sleepStart; now += 5 * S) await send(now, before === 'active' ? 1 : (now - T0) / S);
      const woke = await send(wake, idleAtWake(wake));
      for (let now = wake + 5 * S; now <= wake + 30 * S; now += 5 * S) await send(now, idleAtWake(now));
      return { sink, woke };
    };
    const spansSleep = (sink: MemorySink) =>
      sink.list('b').filter((e) => e.timestamp < wake && e.timestamp + e.duration > sleepStart + MS);

    it('input at wake-up: a new not-afk period starts at the wake-up, nothing bridges the sleep', async () => {
      const { sink, woke } = await run('active', () => 1);
      expect(woke.gap).toBe(true);
      expect(woke.hbs).toHaveLength(1);
      expect(woke.hbs[0]!.pulsetimeMicros).toBe(0);
      expect(spansSleep(sink)).toEqual([]);
      const evs = sink.list('b');
      expect(evs.at(-1)).toMatchObject({ timestamp: wake, data: { status: 'not-afk' } });
      expect(evs.at(-1)!.timestamp + evs.at(-1)!.duration).toBe(wake + 29 * S);
    });

    it('idle counter that includes the sleep (Windows): the afk event starts at wake-up, not before', async () => {
      const { sink, woke } = await run('active', (now) => (now - sleepStart) / S + 1);
      expect(woke.state).toBe('afk');
      expect(spansSleep(sink)).toEqual([]);
      const last = sink.list('b').at(-1)!;
      expect(last).toMatchObject({ timestamp: wake + MS, data: { status: 'afk' } });
    });

    it('away before and after the sleep: two afk events, the first ends at the last poll before it', async () => {
      const { sink } = await run('afk', (now) => (now - T0) / S);
      expect(spansSleep(sink)).toEqual([]);
      const afk = sink.list('b').filter((e) => e.data.status === 'afk');
      expect(afk).toHaveLength(2);
      expect(afk[0]!.timestamp + afk[0]!.duration).toBe(sleepStart + MS);
      expect(afk[1]!.timestamp).toBe(wake + MS);
    });

    it('ordinary scheduling jitter is not a sleep', () => {
      const { poll } = machine(60, 5);
      poll(T0, 0);
      expect(poll(T0 + 12 * S, 0).gap).toBe(false);
    });
  });
});
