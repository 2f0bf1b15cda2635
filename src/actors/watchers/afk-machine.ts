import { enqueueActions, setup } from 'xstate';
import type { Event } from '../../model/event.js';
import { US_PER_MS, type Micros } from '../../model/time.js';

export type AfkStatus = 'afk' | 'not-afk';

export interface AfkHeartbeat {
  event: Event;
  pulsetimeMicros: Micros;
}

export interface AfkMachineInput {
  timeoutMicros: Micros;
  pollMicros: Micros;
  /** A poll later than this after the previous one means the machine slept (default max(3 × poll, poll + 15 s)). */
  sleepGapMicros?: Micros;
}

/** One observation: the current time, time since the last input, and whether the screen is locked. */
export interface AfkPoll {
  type: 'POLL';
  now: Micros;
  idleMicros: Micros;
  locked: boolean;
}

export interface AfkContext {
  timeoutMicros: Micros;
  pulsetimeMicros: Micros;
  sleepGapMicros: Micros;
  lastPollAt: Micros | null;
  /** Last input time derived at the previous poll. */
  lastInput: Micros | null;
  /** No heartbeat may start before this: the wake-up time after a sleep, or the start of the current not-afk period. */
  floor: Micros;
}

export interface HeartbeatsEmitted {
  type: 'heartbeats';
  heartbeats: AfkHeartbeat[];
  /** True for the first poll after a sleep / suspend. */
  afterGap: boolean;
}

const ONE_MS = US_PER_MS;

export const defaultSleepGap = (pollMicros: Micros): Micros => Math.max(3 * pollMicros, pollMicros + 15_000_000);

/** Did the machine sleep since the previous poll? */
export const isGap = (c: AfkContext, p: AfkPoll): boolean => c.lastPollAt !== null && p.now - c.lastPollAt > c.sleepGapMicros;

const hb = (status: AfkStatus, timestamp: Micros, duration: Micros, pulsetimeMicros: Micros): AfkHeartbeat => ({
  event: { id: null, timestamp, duration: Math.max(0, duration), data: { status } },
  pulsetimeMicros,
});

/**
 * The heartbeats of one poll (as aw-watcher-afk sends them), with `last_input = now − idle`:
 *   back (afk → not-afk): afk at last_input (0 s), then not-afk at last_input + 1 ms (0 s)
 *   leave (not-afk → afk): not-afk at last_input (0 s), then afk at last_input + 1 ms lasting `idle`
 *   still afk: afk at last_input + 1 ms lasting `idle`;  still active: not-afk at last_input (0 s)
 * Deviation from the reference: after coming back, last_input is held at ≥ the new period's start
 * (input + 1 ms), so a poll without new input still merges into the new not-afk event.
 * Sleep / suspend: after a gap, last_input is clamped to the wake-up poll (`floor`) so no event
 * spans the sleep, only the new state's heartbeat is sent, and with pulsetime 0 so it can't merge
 * with the event from before the sleep.
 */
export function afkHeartbeats(
  c: AfkContext,
  p: AfkPoll,
  from: AfkStatus,
  to: AfkStatus,
): { heartbeats: AfkHeartbeat[]; floor: Micros; gap: boolean; lastInput: Micros } {
  const gap = isGap(c, p);
  const floor = gap ? p.now : c.floor;
  // Input time never goes backwards: clamping to the previous value removes the few-ms jitter of
  // "now − idle" between polls (which would leave the not-afk event ending after the afk one starts).
  const measured = p.now - p.idleMicros;
  const previous = c.lastInput !== null && c.lastInput <= p.now ? c.lastInput : measured;
  const lastInput = Math.max(measured, previous, floor);
  const idle = p.now - lastInput;
  const pulse = gap ? 0 : c.pulsetimeMicros;
  const notAfk = hb('not-afk', lastInput, 0, pulse);
  const afkFrom = hb('afk', lastInput + ONE_MS, idle, pulse);
  let heartbeats: AfkHeartbeat[];
  let nextFloor = floor;
  if (gap) heartbeats = [to === 'afk' ? afkFrom : notAfk];
  else if (from === 'afk' && to === 'not-afk') {
    heartbeats = [hb('afk', lastInput, 0, pulse), hb('not-afk', lastInput + ONE_MS, 0, pulse)];
    // The new not-afk period starts 1 ms after the input; later "still active" heartbeats at that same
    // input must not land before it (they would not merge and pile up as zero-length events).
    nextFloor = lastInput + ONE_MS;
  } else if (from === 'not-afk' && to === 'afk') heartbeats = [notAfk, afkFrom];
  else heartbeats = [to === 'afk' ? afkFrom : notAfk];
  return { heartbeats, floor: nextFloor, gap, lastInput };
}

const away = (c: AfkContext, p: AfkPoll): boolean => p.locked || p.idleMicros >= c.timeoutMicros;

/** active (not-afk) ↔ afk. Each POLL emits a `heartbeats` event with what to send, in order. */
export const afkMachine = setup({
  types: {
    context: {} as AfkContext,
    events: {} as AfkPoll,
    input: {} as AfkMachineInput,
    emitted: {} as HeartbeatsEmitted,
  },
  guards: {
    away: ({ context, event }) => away(context, event),
  },
  actions: {
    report: enqueueActions(({ context, event, enqueue }, params: { from: AfkStatus; to: AfkStatus }) => {
      const { heartbeats, floor, gap, lastInput } = afkHeartbeats(context, event, params.from, params.to);
      enqueue.assign({ lastPollAt: event.now, floor, lastInput });
      enqueue.emit({ type: 'heartbeats', heartbeats, afterGap: gap });
    }),
  },
}).createMachine({
  id: 'afk',
  initial: 'active',
  context: ({ input }) => ({
    timeoutMicros: input.timeoutMicros,
    pulsetimeMicros: input.timeoutMicros + input.pollMicros,
    sleepGapMicros: input.sleepGapMicros ?? defaultSleepGap(input.pollMicros),
    lastPollAt: null,
    lastInput: null,
    floor: 0,
  }),
  states: {
    active: {
      on: {
        POLL: [
          { guard: 'away', target: 'afk', actions: { type: 'report', params: { from: 'not-afk', to: 'afk' } } },
          { actions: { type: 'report', params: { from: 'not-afk', to: 'not-afk' } } },
        ],
      },
    },
    afk: {
      on: {
        POLL: [
          { guard: 'away', actions: { type: 'report', params: { from: 'afk', to: 'afk' } } },
          { target: 'active', actions: { type: 'report', params: { from: 'afk', to: 'not-afk' } } },
        ],
      },
    },
  },
});
