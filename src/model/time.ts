import { InputError } from './errors.js';

/**
 * Instants and durations are integer microseconds (UTC, since the Unix epoch).
 * Microseconds keep every value a plain JS number that is exact until the year 2255;
 * nanosecond digits in input are truncated (the legacy server kept only milliseconds).
 */
export type Micros = number;

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an RFC 3339 date-time with an explicit offset ("Z" or ±hh:mm).
 * `allowSpace` tolerates a space between date and time, as the reference's body parser does.
 */
export function parseTimestamp(text: unknown, what = 'timestamp', allowSpace = true): Micros {
  if (typeof text !== 'string') throw new InputError(`${what} must be an RFC 3339 string`, 400);
  const m = RFC3339.exec(text.trim());
  if (!m || (!allowSpace && text.includes(' '))) {
    throw new InputError(`${what} '${text}' is not an RFC 3339 date-time with offset`, 400);
  }
  const [, y, mo, d, h, mi, s, frac = '', off] = m;
  const year = +y!, month = +mo!, day = +d!, hour = +h!, minute = +mi!, second = +s!;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60) {
    throw new InputError(`${what} '${text}' is not a valid date-time`, 400);
  }
  let offsetMin = 0;
  if (off !== 'Z' && off !== 'z') {
    const sign = off![0] === '-' ? -1 : 1;
    const digits = off!.slice(1).replace(':', '');
    const oh = +digits.slice(0, 2), om = +digits.slice(2);
    if (oh > 23 || om > 59) throw new InputError(`${what} '${text}' has an invalid offset`, 400);
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) - offsetMin * 60_000;
  const micros = frac ? Math.trunc(+(frac + '000000').slice(0, 6)) : 0;
  return ms * US_PER_MS + micros;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DAY_MS = 86_400_000;
/** Year 10000: from there on toISOString writes six-digit years. */
const FAST_FORMAT_END_MS = 253_402_300_800_000;
let formatDay = NaN;
let formatDayText = '';
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/** RFC 3339 in UTC with a Z suffix and 0, 3 or 6 fractional digits, as the reference server emits. */
export function formatTimestamp(us: Micros): string {
  const ms = Math.floor(us / US_PER_MS);
  const subMs = us - ms * US_PER_MS;
  let base: string, milli: string;
  if (ms >= 0 && ms < FAST_FORMAT_END_MS) {
    // Results hold thousands of times on few days: the date part is made once per day.
    const day = Math.floor(ms / DAY_MS);
    if (day !== formatDay) {
      formatDayText = new Date(day * DAY_MS).toISOString().slice(0, 11); // yyyy-mm-ddT
      formatDay = day;
    }
    const t = ms - day * DAY_MS;
    const sec = Math.floor(t / 1000);
    base = `${formatDayText}${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}`;
    milli = pad3(t - sec * 1000);
  } else {
    const iso = new Date(ms).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
    base = iso.slice(0, 19);
    milli = iso.slice(20, 23);
  }
  if (subMs !== 0) return `${base}.${milli}${String(subMs).padStart(3, '0')}Z`;
  if (milli !== '000') return `${base}.${milli}Z`;
  return `${base}Z`;
}

/** Duration in seconds (JSON number) → microseconds. Rejects what is not a finite number. */
export function secondsToMicros(seconds: unknown, what = 'duration'): Micros {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    throw new InputError(`${what} must be a finite number of seconds`, 400);
  }
  return Math.round(seconds * US_PER_S);
}

export const microsToSeconds = (us: Micros): number => us / US_PER_S;

export const nowMicros = (): Micros => Date.now() * US_PER_MS;

/** `20240601T033000Z`: a UTC time for file names (sorts by time, no characters that need quoting). */
export const fileTimestamp = (at: Date): string => at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
