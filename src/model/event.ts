import { InputError } from './errors.js';
import { formatTimestamp, microsToSeconds, parseTimestamp, secondsToMicros, type Micros } from './time.js';

export type EventData = Record<string, unknown>;

/** An event covers [timestamp, timestamp + duration). `id` is null for events not (yet) stored. */
export interface Event {
  id: number | null;
  timestamp: Micros;
  duration: Micros;
  data: EventData;
}

/** The wire form used by the REST API, the bus and exports. */
export interface EventJson {
  id?: number | null;
  timestamp: string;
  duration: number;
  data: EventData;
}

export const endOf = (e: Event): Micros => e.timestamp + e.duration;

export function eventToJson(e: Event): EventJson {
  return { id: e.id, timestamp: formatTimestamp(e.timestamp), duration: microsToSeconds(e.duration), data: e.data };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates an event from outside (REST body, bus payload, import file).
 * `keepId` keeps an integer `id` (REST inserts use it to mean "replace"); imports drop ids.
 */
export function parseEvent(raw: unknown, opts: { keepId?: boolean; where?: string } = {}): Event {
  const where = opts.where ?? 'event';
  if (!isPlainObject(raw)) throw new InputError(`${where} must be a JSON object`, 400);
  const timestamp = parseTimestamp(raw.timestamp, `${where}.timestamp`);
  const duration = raw.duration === undefined ? 0 : secondsToMicros(raw.duration, `${where}.duration`);
  if (duration < 0) throw new InputError(`${where}.duration must not be negative`, 400);
  if (!isPlainObject(raw.data)) throw new InputError(`${where}.data must be a JSON object`, 400);
  let id: number | null = null;
  if (opts.keepId && raw.id !== undefined && raw.id !== null) {
    if (typeof raw.id !== 'number' || !Number.isSafeInteger(raw.id) || raw.id <= 0) {
      throw new InputError(`${where}.id must be a positive integer`, 400);
    }
    id = raw.id;
  }
  return { id, timestamp, duration, data: raw.data };
}

/** Deep JSON equality, key order irrelevant. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** JSON with object keys sorted, so equal data always serialises the same (dedup keys, cache keys). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
