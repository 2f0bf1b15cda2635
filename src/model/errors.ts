/**
 * The one family of errors Sundial reports on purpose, and the one place that maps each kind to an
 * HTTP status and a CLI exit code. Anything thrown that is not a SundialError is a bug of ours:
 * HTTP answers 500 and logs it, the CLI prints it with its stack.
 */
export type ErrorKind = 'input' | 'usage' | 'denied' | 'not-found' | 'conflict' | 'unavailable' | 'timeout' | 'startup' | 'failed';

export abstract class SundialError extends Error {
  abstract readonly kind: ErrorKind;
}

/** The caller's input is wrong (a bad value, shape, size or content type): a 4xx, never 5xx. */
export class InputError extends SundialError {
  readonly kind = 'input';
  constructor(
    message: string,
    /** 400 bad value, 413 too large, 415 wrong content type, 422 wrong shape. */
    readonly status: 400 | 413 | 415 | 422 = 400,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** The command line is wrong (unknown command or flag, missing argument). */
export class UsageError extends SundialError {
  readonly kind = 'usage';
  override name = 'UsageError';
}

/** The caller lacks the credential this needs (API key, control token). */
export class Denied extends SundialError {
  readonly kind = 'denied';
  override name = 'Denied';
}

/** A named thing (bucket, event, child, file) does not exist. */
export class NotFound extends SundialError {
  readonly kind = 'not-found';
  override name = 'NotFound';
}

/** The request clashes with the current state (a daemon already owns the data dir, ...). */
export class Conflict extends SundialError {
  readonly kind = 'conflict';
  override name = 'Conflict';
}

/** A part needed to answer is down for now (writer restarting, no daemon answers): try again later. */
export class Unavailable extends SundialError {
  readonly kind = 'unavailable';
  override name = 'Unavailable';
}

/** The work took longer than allowed and was stopped (a query over its budget). */
export class Timeout extends SundialError {
  readonly kind = 'timeout';
  override name = 'Timeout';
}

/** The daemon cannot start in this state (bad config, unusable data dir, corrupt database). */
export class StartupError extends SundialError {
  readonly kind = 'startup';
  override name = 'StartupError';
}

/** A command could not do what was asked, for a reason the user can act on (a CLI failure, exit 1). */
export class Failed extends SundialError {
  readonly kind = 'failed';
  override name = 'Failed';
}

export const notFound = (what: string): NotFound => new NotFound(what);

const STATUS: Record<ErrorKind, number> = {
  input: 400,
  usage: 400,
  denied: 401,
  'not-found': 404,
  timeout: 408,
  conflict: 409,
  startup: 500,
  failed: 500,
  unavailable: 503,
};

const EXIT: Record<ErrorKind, number> = {
  input: 2,
  usage: 2,
  denied: 1,
  'not-found': 1,
  conflict: 1,
  timeout: 1,
  startup: 1,
  failed: 1,
  unavailable: 3,
};

export function httpStatus(err: unknown): number {
  if (err instanceof InputError) return err.status;
  if (err instanceof SundialError) return STATUS[err.kind];
  return 500;
}

/** Exit code of a CLI command that failed with `err` (1 for our own bugs too). */
export function exitCode(err: unknown): number {
  return err instanceof SundialError ? EXIT[err.kind] : 1;
}

/** An error as it crosses a thread or process boundary (worker threads, bus replies). */
export interface WireError {
  kind: ErrorKind | 'bug';
  message: string;
  status?: number;
}

export function toWire(err: unknown): WireError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof InputError) return { kind: 'input', message, status: err.status };
  if (err instanceof SundialError) return { kind: err.kind, message };
  return { kind: 'bug', message };
}

const MAKE: Record<ErrorKind, (message: string) => SundialError> = {
  input: (m) => new InputError(m),
  usage: (m) => new UsageError(m),
  denied: (m) => new Denied(m),
  'not-found': (m) => new NotFound(m),
  conflict: (m) => new Conflict(m),
  unavailable: (m) => new Unavailable(m),
  timeout: (m) => new Timeout(m),
  startup: (m) => new StartupError(m),
  failed: (m) => new Failed(m),
};

export function fromWire(w: WireError): Error {
  if (w.kind === 'input') return new InputError(w.message, (w.status as InputError['status'] | undefined) ?? 400);
  return w.kind === 'bug' ? new Error(w.message) : MAKE[w.kind](w.message);
}
