import type { Event, EventData } from '../model/event.js';
import type { Micros } from '../model/time.js';
import { EventList } from './event-list.js';

/**
 * Runtime values of the query language. Values are never mutated once built, so variables,
 * lists and events can share them freely (copying `a = b` costs nothing). Lists of events the
 * built-ins make are EventLists (columns); the language sees them as lists.
 */
export type Value = null | boolean | number | string | Value[] | EventList | QDict | QEvent | QFunc;

/** A dict literal. Keys are strings; a Map keeps the last of duplicate keys. */
export class QDict {
  constructor(readonly map: Map<string, Value>) {}
}

/** An event value; only built-ins create these (a dict that looks like an event is not one). */
export class QEvent implements Event {
  constructor(
    readonly id: number | null,
    readonly timestamp: Micros,
    readonly duration: Micros,
    /** Shared between events and never mutated: transforms build new objects. */
    readonly data: EventData,
  ) {}
  get end(): Micros {
    return this.timestamp + this.duration;
  }
}

export interface CallContext {
  /** The function name as written at the call site (for messages). */
  name: string;
}

export type BuiltinImpl = (args: Value[], call: CallContext) => Value;

export class QFunc {
  constructor(readonly name: string, readonly impl: BuiltinImpl) {}
}

export type ErrorKind =
  | 'ParsingError'
  | 'EmptyQuery'
  | 'VariableNotDefined'
  | 'MathError'
  | 'InvalidType'
  | 'InvalidFunctionParameters'
  | 'TimeIntervalError'
  | 'BucketQueryError'
  | 'RegexCompileError'
  | 'InvalidValue'
  | 'Timeout';

export interface Pos {
  line: number;
  col: number;
  offset: number;
}

/** A parse or evaluation error; the message follows the reference's `Kind("detail")` form plus a position. */
export class QueryError extends Error {
  pos: Pos | undefined;
  constructor(readonly kind: ErrorKind, readonly detail: string | null, pos?: Pos) {
    super('');
    this.name = 'QueryError';
    this.pos = pos;
    this.message = this.describe();
  }
  at(pos: Pos): this {
    if (!this.pos) {
      this.pos = pos;
      this.message = this.describe();
    }
    return this;
  }
  private describe(): string {
    const head = this.detail === null ? this.kind : `${this.kind}(${JSON.stringify(this.detail)})`;
    return this.pos ? `${head} at line ${this.pos.line}, column ${this.pos.col}` : head;
  }
}

export function typeName(v: Value): string {
  if (v === null) return 'none';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v) || v instanceof EventList) return 'list';
  if (v instanceof QDict) return 'dict';
  if (v instanceof QEvent) return 'event';
  return 'function';
}

/** `v` with an event list as the array of its events (for everything that reads lists generically). */
export const asArray = (v: Value): Exclude<Value, EventList> => (v instanceof EventList ? v.events() : v);
