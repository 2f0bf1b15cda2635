import { createActor, waitFor } from 'xstate';
import { notFound } from '../model/errors.js';
import { childMachine, topState, type ChildActor, type ChildLimits } from './child-machine.js';
import type { ChildSpec, ChildState, ChildStatus, SupervisorOptions } from './types.js';

/** One state change of one child, as seen by `onChange` listeners. */
export interface ChildTransition {
  name: string;
  from: ChildState;
  to: ChildState;
  /** Date.now() of the change. */
  at: number;
  /** Which incarnation this was about (0 before the first start). */
  incarnation: number;
  restarts: number;
  lastError: string | null;
  /** Set when `to` is `backoff`: the delay before the next start. */
  backoffMs: number | null;
}

export interface Supervisor {
  /** Starts children in declared order, each awaited until it is running (or failed / stopped). */
  start(): Promise<void>;
  /** Stops children in reverse order, each bounded by its shutdownTimeoutMs; resolves when all are down. */
  stop(): Promise<void>;
  /** Operator start; on a `failed` child also resets its restart intensity. Throws on an unknown name. */
  startChild(name: string): Promise<ChildStatus>;
  /** Operator stop: never restarted, whatever the policy. Throws on an unknown name. */
  stopChild(name: string): Promise<ChildStatus>;
  /** Stop (gracefully) and start again; not counted in `restarts`. Throws on an unknown name. */
  restartChild(name: string): Promise<ChildStatus>;
  /** Fault injection: reports a crash for the child's current incarnation. Throws on an unknown name. */
  crashChild(name: string, err?: unknown): void;
  status(): ChildStatus[];
  /** Resolves with the status once the child is in (one of) `state`; rejects after `timeoutMs`. */
  whenState(name: string, state: ChildState | ChildState[], timeoutMs?: number): Promise<ChildStatus>;
  /** Subscribes to state changes; returns the unsubscribe function. */
  onChange(listener: (t: ChildTransition) => void): () => void;
}

export const DEFAULT_INTENSITY = { maxRestarts: 5, withinMs: 60_000 };
export const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 30_000, jitter: 0.2 };
const DEFAULT_WHEN_STATE_TIMEOUT_MS = 10_000;

/** States a start (or restart) ends in: it is up, or it will not come up without an operator. */
const SETTLED_UP: ChildState[] = ['running', 'failed', 'stopped'];
const SETTLED_DOWN: ChildState[] = ['stopped', 'failed'];

interface Entry {
  spec: ChildSpec;
  actor: ChildActor;
}

/**
 * A one-for-one supervisor: each child has its own lifecycle machine, and a crash of one child
 * never touches another. The daemon's shutdown path (signal handlers, exit) must await `stop()`
 * so no child process is left behind.
 */
export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const intensity = opts.intensity ?? DEFAULT_INTENSITY;
  const backoff: NonNullable<SupervisorOptions['backoff']> = opts.backoff ?? DEFAULT_BACKOFF;
  const limits: ChildLimits = {
    intensity,
    backoff: { ...backoff, resetAfterMs: backoff.resetAfterMs ?? intensity.withinMs },
  };
  const log = opts.log;
  const listeners = new Set<(t: ChildTransition) => void>();
  const entries = new Map<string, Entry>();

  for (const spec of opts.children) {
    if (entries.has(spec.name)) throw new Error(`supervisor: two children are named "${spec.name}"`);
    const childLog = log.child({ child: spec.name });
    const actor = createActor(childMachine, { input: { spec, limits, log: childLog } });
    let prev: ChildState = topState(actor.getSnapshot());
    actor.subscribe({
      next: (snap) => {
        const to = topState(snap);
        if (to === prev) return;
        const from = prev;
        prev = to;
        const c = snap.context;
        const t: ChildTransition = {
          name: spec.name,
          from,
          to,
          at: Date.now(),
          incarnation: c.inc?.id ?? 0,
          restarts: c.restarts,
          lastError: c.lastError,
          backoffMs: to === 'backoff' ? c.backoffMs : null,
        };
        logTransition(childLog, t);
        for (const l of listeners) {
          try {
            l(t);
          } catch (err) {
            childLog.warn({ err }, 'onChange listener threw');
          }
        }
      },
      error: (err) => childLog.error({ err }, 'child state machine failed'),
    });
    actor.start();
    entries.set(spec.name, { spec, actor });
  }
  const ordered = [...entries.values()];

  const entry = (name: string): Entry => {
    const e = entries.get(name);
    if (!e) throw notFound(`unknown child "${name}" (children: ${[...entries.keys()].join(', ') || 'none'})`);
    return e;
  };

  const statusOf = ({ spec, actor }: Entry): ChildStatus => {
    const snap = actor.getSnapshot();
    const c = snap.context;
    const state = topState(snap);
    const handle = state === 'running' || state === 'stopping' ? c.inc?.handle ?? null : null;
    let info: Record<string, unknown> = {};
    if (handle?.status) {
      try {
        info = handle.status();
      } catch (err) {
        info = { statusError: err instanceof Error ? err.message : String(err) };
      }
    }
    if (state === 'backoff' && c.backoffMs !== null) info = { ...info, backoffMs: c.backoffMs };
    return {
      name: spec.name,
      state,
      pid: handle?.pid ?? null,
      restarts: c.restarts,
      lastError: c.lastError,
      uptimeMs: state === 'running' && c.runningSince !== null ? Date.now() - c.runningSince : null,
      info,
    };
  };

  const waitIn = async (e: Entry, states: ChildState[], timeoutMs = Infinity): Promise<ChildStatus> => {
    try {
      await waitFor(e.actor, (snap) => states.includes(topState(snap)), { timeout: timeoutMs });
    } catch (err) {
      const now = topState(e.actor.getSnapshot());
      throw new Error(`child "${e.spec.name}" did not reach ${states.join(' or ')} within ${timeoutMs} ms (it is ${now})`, {
        cause: err,
      });
    }
    return statusOf(e);
  };

  // Bumped by stop(), so a start() still walking the list does not start children after it.
  let generation = 0;

  return {
    async start() {
      const gen = ++generation;
      for (const e of ordered) {
        if (gen !== generation) return;
        e.actor.send({ type: 'START' });
        await waitIn(e, SETTLED_UP);
      }
    },

    async stop() {
      generation++;
      for (const e of [...ordered].reverse()) {
        e.actor.send({ type: 'STOP' });
        await waitIn(e, SETTLED_DOWN);
      }
    },

    startChild(name) {
      const e = entry(name);
      e.actor.send({ type: 'START' });
      return waitIn(e, SETTLED_UP);
    },

    stopChild(name) {
      const e = entry(name);
      e.actor.send({ type: 'STOP' });
      return waitIn(e, SETTLED_DOWN);
    },

    restartChild(name) {
      const e = entry(name);
      e.actor.send({ type: 'RESTART' });
      return waitIn(e, SETTLED_UP);
    },

    crashChild(name, err = new Error('crash injected by operator')) {
      const e = entry(name);
      const inc = e.actor.getSnapshot().context.inc;
      if (inc) e.actor.send({ type: 'CRASH', incarnation: inc.id, error: err });
    },

    status: () => ordered.map(statusOf),

    whenState(name, state, timeoutMs = DEFAULT_WHEN_STATE_TIMEOUT_MS) {
      const e = entry(name);
      return waitIn(e, Array.isArray(state) ? state : [state], timeoutMs);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

function logTransition(log: SupervisorOptions['log'], t: ChildTransition): void {
  const fields = { from: t.from, to: t.to, incarnation: t.incarnation, restarts: t.restarts };
  switch (t.to) {
    case 'crashed':
      log.info({ ...fields, error: t.lastError }, 'child crashed');
      return;
    case 'backoff':
      log.info({ ...fields, backoffMs: t.backoffMs }, 'child will restart after backoff');
      return;
    case 'failed':
      log.info({ ...fields, error: t.lastError }, 'child failed: not restarted any more');
      return;
    case 'starting':
      if (t.from === 'backoff') log.info(fields, 'child restarting');
      else log.debug(fields, 'child starting');
      return;
    default:
      log.debug(fields, `child ${t.to}`);
  }
}
