import type { Logger } from '../log.js';

/** OTP's restart policies: permanent always restarts; transient only after a crash; temporary never. */
export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

/** What a child incarnation gets from its supervisor. */
export interface ChildContext {
  /** Report a crash from inside the child: an error thrown in a loop, a rejected promise, a dead process. */
  crash(err: unknown): void;
  /** Aborted when this incarnation is stopped or has crashed; loops and timers should end on it. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Report that this incarnation ended on its own without error (OTP's `normal` exit): a permanent
   * child is restarted, transient and temporary children go to `stopped`.
   */
  exit?(): void;
}

/** A running child incarnation, returned by `ChildSpec.start`. */
export interface ChildHandle {
  /** Graceful stop (drain, close). */
  stop(): Promise<void>;
  /** Release resources after a crash without draining; defaults to `stop`. */
  kill?(): Promise<void> | void;
  /** Liveness check; a rejection or a timeout counts as a crash. */
  ping?(): Promise<void>;
  /** OS process id, for children that are processes. */
  pid?: number;
  /** Extra facts for the status snapshot (queue depth, "unavailable: no display", ...). */
  status?(): Record<string, unknown>;
}

export interface ChildSpec {
  name: string;
  /** Starts one incarnation; resolves once it is running. A rejection counts as a crash. */
  start(ctx: ChildContext): Promise<ChildHandle>;
  restart: RestartPolicy;
  /** How long `stop` may take before the child is killed / abandoned. */
  shutdownTimeoutMs?: number;
  pingIntervalMs?: number;
  /** Defaults to `pingIntervalMs`. */
  pingTimeoutMs?: number;
  /** A `start` still pending after this long counts as a crash; no limit when unset. */
  startTimeoutMs?: number;
  /**
   * Its failure (restart intensity exceeded) takes the whole daemon down, as OTP's significant
   * children do; the supervisor itself only reports it, the daemon acts on it.
   */
  significant?: boolean;
}

export type ChildState = 'starting' | 'running' | 'crashed' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface ChildStatus {
  name: string;
  state: ChildState;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  /** Milliseconds since this incarnation reached `running`, null when not running. */
  uptimeMs: number | null;
  info: Record<string, unknown>;
}

export interface SupervisorOptions {
  children: ChildSpec[];
  /** Restart intensity: more than `maxRestarts` within `withinMs` → the child is `failed`. */
  intensity?: { maxRestarts: number; withinMs: number };
  /** Exponential backoff between restarts, with ± `jitter` fraction. */
  backoff?: {
    initialMs: number;
    maxMs: number;
    jitter: number;
    /** A child that ran this long before crashing starts over at `initialMs`; defaults to `intensity.withinMs`. */
    resetAfterMs?: number;
  };
  log: Logger;
}
