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
  return parseUtcFast(text) ?? parseTimestampGeneral(text, what, allowSpace);
}

/** The whole grammar and every error message; parseTimestamp takes the fast path first. */
export function parseTimestampGeneral(text: string, what: string, allowSpace: boolean): Micros {
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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at `i` as a number, or -1. */
function digits2(t: string, i: number): number {
  const a = t.charCodeAt(i) - 48, b = t.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The common form `yyyy-mm-ddThh:mm:ss[.f{1,9}]Z` (every client sends it, on every write) parsed
 * without a regex or Date objects; null for anything else, which the general path then parses or
 * rejects. Years below 1000 go the general way too (Date.UTC maps years 0–99 to 19xx, the general
 * path's leap-year check included). Equal to the general path wherever it answers.
 */
export function parseUtcFast(t: string): Micros | null {
  const n = t.length;
  if (n < 20 || n > 30 || t.charCodeAt(n - 1) !== 90 /* Z */) return null;
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 84 /* T */) return null;
  if (t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return null;
  const y1 = digits2(t, 0), y2 = digits2(t, 2);
  const month = digits2(t, 5), day = digits2(t, 8), hour = digits2(t, 11), minute = digits2(t, 14), second = digits2(t, 17);
  if (y1 < 10 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return null;
  }
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  let micros = 0;
  if (n > 20) {
    // `.` and 1–9 digits; the first 6 are microseconds, the rest is truncated.
    if (t.charCodeAt(19) !== 46 || n === 21) return null;
    for (let i = 20; i < n - 1; i++) {
      const d = t.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      if (i < 26) micros = micros * 10 + d;
    }
    for (let i = Math.min(n - 1, 26); i < 26; i++) micros *= 10;
  } else if (t.charCodeAt(19) !== 90) {
    return null;
  }
  return Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) * US_PER_MS + micros;
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : '' + n);
const pad3 = (n: number): string => (n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n);

/** Newest UTC day formatted, `yyyy-mm-ddT`: times of one day share it, so most calls build no Date. */
let dayStartMs = NaN;
let dayPrefix = '';
const MS_PER_DAY = 86_400_000;
/** 10000-01-01: from there on toISOString writes six-digit years. */
const YEAR_10000_MS = 253_402_300_800_000;

/** RFC 3339 in UTC with a Z suffix and 0, 3 or 6 fractional digits, as the reference server emits. */
export function formatTimestamp(us: Micros): string {
  if (Number.isSafeInteger(us) && us >= 0 && us < YEAR_10000_MS * US_PER_MS) {
    const ms = Math.floor(us / US_PER_MS);
    const subMs = us - ms * US_PER_MS;
    const day = ms - (ms % MS_PER_DAY);
    if (day !== dayStartMs) {
      dayPrefix = new Date(day).toISOString().slice(0, 11);
      dayStartMs = day;
    }
    const inDay = ms - day;
    const sec = Math.floor(inDay / 1000);
    const milli = inDay - sec * 1000;
    const base = dayPrefix + pad2(Math.floor(sec / 3600)) + ':' + pad2(Math.floor(sec / 60) % 60) + ':' + pad2(sec % 60);
    if (subMs !== 0) return base + '.' + pad3(milli) + pad3(subMs) + 'Z';
    if (milli !== 0) return base + '.' + pad3(milli) + 'Z';
    return base + 'Z';
  }
  return formatTimestampGeneral(us);
}

/** Every instant Date can hold (negative, six-digit years), and what it cannot (throws RangeError). */
export function formatTimestampGeneral(us: Micros): string {
  const ms = Math.floor(us / US_PER_MS);
  const subMs = us - ms * US_PER_MS;
  const iso = new Date(ms).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  const base = iso.slice(0, 19);
  const milli = iso.slice(20, 23);
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
