import { InputError, Timeout } from '../model/errors.js';
import type { Micros } from '../model/time.js';
import { parseTimestamp } from '../model/time.js';
import { withArena } from './arena.js';
import { formatInterval, toPlain } from './builtins.js';
import { evaluate } from './interp.js';
import { parse } from './parse.js';
import type { QuerySource } from './source.js';
import { QueryError } from './values.js';

/** Limits that keep one request from monopolising a worker before the timeout even starts. */
const MAX_TIMEPERIODS = 1000;
const MAX_QUERY_CHARS = 1_000_000;

export interface QueryRequest {
  periods: { start: Micros; end: Micros; text: string }[];
  /** The program: the `query` strings joined with "\n", as the reference server does. */
  program: string;
}

/** Validates a raw POST /api/0/query/ body ({timeperiods: string[], query: string[]}). */
export function parseRequest(body: unknown): QueryRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError('query body must be a JSON object with "timeperiods" and "query"', 400);
  }
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.timeperiods)) throw new InputError('"timeperiods" must be a list of "start/end" strings', 400);
  if (!Array.isArray(b.query)) throw new InputError('"query" must be a list of strings', 400);
  if (b.timeperiods.length > MAX_TIMEPERIODS) {
    throw new InputError(`too many timeperiods (${b.timeperiods.length}, at most ${MAX_TIMEPERIODS})`, 400);
  }
  const periods = b.timeperiods.map((tp, i) => {
    if (typeof tp !== 'string') throw new InputError(`timeperiods[${i}] must be a "start/end" string`, 400);
    const parts = tp.split('/');
    if (parts.length !== 2) throw new InputError(`timeperiods[${i}] '${tp}' must be two RFC 3339 times separated by one "/"`, 400);
    const start = parseTimestamp(parts[0], `timeperiods[${i}] start`, false);
    const end = parseTimestamp(parts[1], `timeperiods[${i}] end`, false);
    return { start, end, text: tp };
  });
  let chars = 0;
  for (const [i, q] of b.query.entries()) {
    if (typeof q !== 'string') throw new InputError(`query[${i}] must be a string`, 400);
    chars += q.length;
  }
  if (chars > MAX_QUERY_CHARS) throw new InputError(`query is too long (${chars} characters, at most ${MAX_QUERY_CHARS})`, 400);
  return { periods, program: (b.query as string[]).join('\n') };
}

/** Turns an engine error into the API's error: InputError (400), or Timeout (408). */
function toInputError(err: unknown): unknown {
  if (err instanceof QueryError) return err.kind === 'Timeout' ? new Timeout(err.message) : new InputError(err.message);
  if (err instanceof RangeError && /array length|string length|call stack/i.test(err.message)) {
    return new InputError(`query too large: ${err.message}`, 400);
  }
  return err;
}

export interface RunOptions {
  /** Receives the output of print(). */
  print?: (text: string) => void;
  /** Absolute Date.now() deadline, checked between statements (in-process runs). */
  deadline?: number;
}

/**
 * Runs a query synchronously in this thread: one result per timeperiod, in order, as plain JSON
 * values (events as {id, timestamp, duration (s), data}). Throws InputError for bad input and for
 * parse and evaluation errors.
 */
export function runQuery(source: QuerySource, body: unknown, opts: RunOptions = {}): unknown[] {
  const req = parseRequest(body);
  if (req.periods.length === 0) return [];
  try {
    const program = parse(req.program);
    const all = (): unknown[] =>
      req.periods.map((p) =>
        toPlain(
          evaluate(program, {
            source,
            timeinterval: formatInterval(p.start, p.end),
            print: opts.print ?? (() => {}),
            deadline: opts.deadline,
          }),
        ),
      );
    return withArena(() => (source.snapshot ? source.snapshot(all) : all()));
  } catch (err) {
    throw toInputError(err);
  }
}
