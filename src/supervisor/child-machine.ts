import { assign, fromPromise, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import type { Logger } from '../log.js';
import type { ChildContext, ChildHandle, ChildSpec, ChildState } from './types.js';
import { TIMEOUT, within } from './within.js';

/** Limits resolved from `SupervisorOptions` (defaults filled in). */
export interface ChildLimits {
  intensity: { maxRestarts: number; withinMs: number };
  backoff: { initialMs: number; maxMs: number; jitter: number; resetAfterMs: number };
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** After a graceful stop timed out, how long `kill()` may take before the handle is abandoned. */
const MAX_KILL_GRACE_MS = 1_000;

/**
 * One incarnation of a child: the context it was given and the handle it returned. A plain
 * object shared between the machine and the actors it invokes, because a start still pending
 * when the child is stopped must be cleaned up by whoever gives up on it.
 */
export interface Incarnation {
  id: number;
  controller: AbortController;
  ctx: ChildContext;
  handle: ChildHandle | null;
  started: Promise<ChildHandle> | null;
}

export type ChildEvent =
  /** Operator or supervisor start; from `failed` it also resets the restart intensity. */
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'RESTART' }
  /** Crash of incarnation `incarnation`; ignored unless it is the current one. */
  | { type: 'CRASH'; incarnation: number; error: unknown }
  /** Normal exit reported by incarnation `incarnation` (ctx.exit). */
  | { type: 'EXIT'; incarnation: number };

export interface ChildMachineContext {
  spec: ChildSpec;
  limits: ChildLimits;
  log: Logger;
  inc: Incarnation | null;
  restarts: number;
  /** When recent automatic restarts happened, for the intensity check. */
  restartTimes: number[];
  /** Backoff exponent: the next automatic restart waits about initialMs * 2^attempt. */
  attempt: number;
  backoffMs: number | null;
  lastError: string | null;
  runningSince: number | null;
  /** Operator intent that arrived while a cleanup was in flight. */
  pending: 'none' | 'stop' | 'start';
}

export interface ChildMachineInput {
  spec: ChildSpec;
  limits: ChildLimits;
  log: Logger;
}

export const errorMessage = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);

const shutdownTimeout = (spec: ChildSpec): number => spec.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

/** Calls `fn` and turns a synchronous throw into a rejection. */
function attempt<T>(fn: () => PromiseLike<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Ends an incarnation best-effort: aborts its signal, waits (bounded) for a start still in
 * flight, then stops (`graceful`) or kills it. Never rejects; every wait is bounded by the
 * child's shutdownTimeoutMs (plus a short kill grace after a graceful stop timed out).
 */
export async function disposeIncarnation(
  inc: Incarnation | null,
  spec: ChildSpec,
  mode: 'graceful' | 'kill',
  log: Logger,
): Promise<void> {
  if (!inc) return;
  const limit = shutdownTimeout(spec);
  const deadline = Date.now() + limit;
  if (!inc.controller.signal.aborted) inc.controller.abort(new Error(mode === 'kill' ? 'crashed' : 'stopped'));

  const kill = (h: ChildHandle) => attempt(() => (h.kill ? h.kill() : h.stop()));
  let handle = inc.handle;
  if (!handle && inc.started) {
    const started = inc.started.catch(() => null);
    const r = await within(started, deadline - Date.now());
    if (r === TIMEOUT) {
      log.warn({ timeoutMs: limit }, 'start still pending at shutdown; abandoning it (it is killed if it ever resolves)');
      void started.then((h) => h && kill(h).catch(() => undefined));
      return;
    }
    handle = r;
  }
  if (!handle) return;

  try {
    if (mode === 'kill') {
      if ((await within(kill(handle), Math.max(deadline - Date.now(), 0))) === TIMEOUT) {
        log.warn({ timeoutMs: limit }, 'kill timed out; abandoning the incarnation');
      }
      return;
    }
    if ((await within(attempt(() => handle.stop()), deadline - Date.now())) !== TIMEOUT) return;
    log.warn({ timeoutMs: limit }, 'stop timed out');
    if (handle.kill && (await within(kill(handle), Math.min(limit, MAX_KILL_GRACE_MS))) === TIMEOUT) {
      log.warn('kill after stop timeout also timed out; abandoning the incarnation');
    }
  } catch (err) {
    log.warn({ err: errorMessage(err) }, mode === 'kill' ? 'kill failed' : 'stop failed');
  }
}

/** Backoff before automatic restart number `attempt` (0-based), with ± jitter. */
export function backoffDelay(b: ChildLimits['backoff'], attempt: number, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 52));
  const spread = base * b.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

const recentRestarts = (c: ChildMachineContext, now: number) =>
  c.restartTimes.filter((t) => now - t < c.limits.intensity.withinMs);

/** The top-level state of a child snapshot, as the public `ChildState`. */
export function topState(snapshot: SnapshotFrom<typeof childMachine>): ChildState {
  const v = snapshot.value;
  return (typeof v === 'string' ? v : Object.keys(v)[0]) as ChildState;
}

const isCurrent = ({ context, event }: { context: ChildMachineContext; event: ChildEvent }) =>
  (event.type === 'CRASH' || event.type === 'EXIT') && context.inc !== null && event.incarnation === context.inc.id;

/**
 * The lifecycle of one supervised child:
 *   stopped → starting → running → crashed → backoff → starting …
 *   starting/running → stopping → stopped;  crashed → failed when restart intensity is exceeded.
 */
/** What a starting or running incarnation reacts to (the same in both states). */
const whileUp = {
  CRASH: { guard: 'isCurrent', target: 'crashed', actions: 'recordError' },
  EXIT: [
    // A permanent child that ends on its own is restarted like a crash; the others just stop.
    { guard: 'isCurrentPermanent', target: 'crashed', actions: 'recordError' },
    { guard: 'isCurrent', target: 'stopping' },
  ],
  STOP: 'stopping',
  RESTART: { target: 'stopping', actions: 'pendingStart' },
} as const;

export const childMachine = setup({
  types: {
    context: {} as ChildMachineContext,
    events: {} as ChildEvent,
    input: {} as ChildMachineInput,
  },
  actors: {
    /** Runs `spec.start` for the incarnation; the shared record keeps the pending start and the handle. */
    start: fromPromise<ChildHandle, { inc: Incarnation; spec: ChildSpec }>(async ({ input: { inc, spec } }) => {
      inc.started = attempt(() => spec.start(inc.ctx));
      const handle = await inc.started;
      inc.handle = handle;
      return handle;
    }),
    ping: fromPromise<void, ChildHandle>(async ({ input }) => {
      await input.ping!();
    }),
    dispose: fromPromise<void, { inc: Incarnation | null; spec: ChildSpec; mode: 'graceful' | 'kill'; log: Logger }>(
      ({ input }) => disposeIncarnation(input.inc, input.spec, input.mode, input.log),
    ),
  },
  guards: {
    isCurrent,
    canPing: ({ context }) => !!context.spec.pingIntervalMs && !!context.inc?.handle?.ping,
    hasStartTimeout: ({ context }) => context.spec.startTimeoutMs !== undefined,
    isCurrentPermanent: ({ context, event }) => isCurrent({ context, event }) && context.spec.restart === 'permanent',
    pendingStop: ({ context }) => context.pending === 'stop',
    pendingStart: ({ context }) => context.pending === 'start',
    isTemporary: ({ context }) => context.spec.restart === 'temporary',
    intensityExceeded: ({ context }) => recentRestarts(context, Date.now()).length >= context.limits.intensity.maxRestarts,
  },
  delays: {
    backoff: ({ context }) => context.backoffMs ?? 0,
    pingInterval: ({ context }) => context.spec.pingIntervalMs ?? 0,
    pingTimeout: ({ context }) => context.spec.pingTimeoutMs ?? context.spec.pingIntervalMs ?? 0,
    startTimeout: ({ context }) => context.spec.startTimeoutMs ?? 0,
  },
  actions: {
    newIncarnation: assign(({ context, self }) => {
      const id = (context.inc?.id ?? 0) + 1;
      const controller = new AbortController();
      const ctx: ChildContext = {
        signal: controller.signal,
        log: context.log.child({ incarnation: id }),
        crash: (error) => self.send({ type: 'CRASH', incarnation: id, error }),
        exit: () => self.send({ type: 'EXIT', incarnation: id }),
      };
      const inc: Incarnation = { id, controller, ctx, handle: null, started: null };
      return { inc, pending: 'none' as const, runningSince: null, backoffMs: null };
    }),
    markRunning: assign({ runningSince: () => Date.now() }),
    recordError: assign({
      lastError: ({ event }) => {
        if (event.type === 'CRASH') return errorMessage(event.error);
        if (event.type === 'EXIT') return 'exited on its own (normal exit)';
        // invoke onError events carry `error`
        const e = event as unknown as { error?: unknown };
        return errorMessage(e.error);
      },
    }),
    /** A child that ran stably for a while starts its backoff over. */
    maybeResetBackoff: assign({
      attempt: ({ context }) =>
        context.runningSince !== null && Date.now() - context.runningSince >= context.limits.backoff.resetAfterMs
          ? 0
          : context.attempt,
    }),
    scheduleRestart: assign(({ context }) => {
      const now = Date.now();
      return {
        restarts: context.restarts + 1,
        restartTimes: [...recentRestarts(context, now), now],
        backoffMs: backoffDelay(context.limits.backoff, context.attempt),
        attempt: context.attempt + 1,
      };
    }),
    resetIntensity: assign({ restartTimes: () => [], attempt: 0 }),
    clearBackoff: assign({ backoffMs: null }),
    pendingStop: assign({ pending: 'stop' as const }),
    pendingStart: assign({ pending: 'start' as const }),
    pendingNone: assign({ pending: 'none' as const }),
  },
}).createMachine({
  id: 'child',
  context: ({ input }) => ({
    spec: input.spec,
    limits: input.limits,
    log: input.log,
    inc: null,
    restarts: 0,
    restartTimes: [],
    attempt: 0,
    backoffMs: null,
    lastError: null,
    runningSince: null,
    pending: 'none',
  }),
  initial: 'stopped',
  states: {
    stopped: {
      entry: 'pendingNone',
      on: {
        START: 'starting',
        RESTART: 'starting',
      },
    },

    starting: {
      entry: 'newIncarnation',
      invoke: {
        src: 'start',
        input: ({ context }) => ({ inc: context.inc!, spec: context.spec }),
        onDone: 'running',
        onError: { target: 'crashed', actions: 'recordError' },
      },
      after: {
        startTimeout: {
          guard: 'hasStartTimeout',
          target: 'crashed',
          actions: assign({ lastError: ({ context }) => `start timed out after ${context.spec.startTimeoutMs} ms` }),
        },
      },
      on: whileUp,
    },

    running: {
      entry: 'markRunning',
      initial: 'check',
      states: {
        check: {
          always: [{ guard: 'canPing', target: 'waiting' }, { target: 'unmonitored' }],
        },
        unmonitored: {},
        waiting: {
          after: { pingInterval: 'pinging' },
        },
        pinging: {
          invoke: {
            src: 'ping',
            input: ({ context }) => context.inc!.handle!,
            onDone: 'waiting',
            onError: {
              target: '#child.crashed',
              actions: assign({ lastError: ({ event }) => `ping failed: ${errorMessage(event.error)}` }),
            },
          },
          after: {
            pingTimeout: {
              target: '#child.crashed',
              actions: assign({
                lastError: ({ context }) =>
                  `ping timed out after ${context.spec.pingTimeoutMs ?? context.spec.pingIntervalMs} ms`,
              }),
            },
          },
        },
      },
      on: whileUp,
    },

    crashed: {
      entry: 'maybeResetBackoff',
      invoke: {
        src: 'dispose',
        input: ({ context }) => ({ inc: context.inc, spec: context.spec, mode: 'kill' as const, log: context.log }),
        onDone: [
          { guard: 'pendingStop', target: 'stopped' },
          { guard: 'isTemporary', target: 'failed' },
          { guard: 'intensityExceeded', target: 'failed' },
          { target: 'backoff', actions: 'scheduleRestart' },
        ],
      },
      on: {
        STOP: { actions: 'pendingStop' },
        START: { actions: 'pendingNone' },
        RESTART: { actions: 'pendingNone' },
      },
    },

    backoff: {
      after: { backoff: 'starting' },
      on: {
        START: 'starting',
        RESTART: 'starting',
        STOP: { target: 'stopped', actions: 'clearBackoff' },
      },
    },

    stopping: {
      invoke: {
        src: 'dispose',
        input: ({ context }) => ({ inc: context.inc, spec: context.spec, mode: 'graceful' as const, log: context.log }),
        onDone: [{ guard: 'pendingStart', target: 'starting' }, { target: 'stopped' }],
      },
      on: {
        START: { actions: 'pendingStart' },
        RESTART: { actions: 'pendingStart' },
        STOP: { actions: 'pendingNone' },
      },
    },

    failed: {
      on: {
        START: { target: 'starting', actions: 'resetIntensity' },
        RESTART: { target: 'starting', actions: 'resetIntensity' },
      },
    },
  },
});

export type ChildActor = ActorRefFrom<typeof childMachine>;
