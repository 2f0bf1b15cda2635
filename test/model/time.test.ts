import { describe, expect, it } from 'vitest';
import {
  formatTimestamp,
  formatTimestampGeneral,
  parseTimestamp,
  parseTimestampGeneral,
  parseUtcFast,
  US_PER_MS,
} from '../../src/model/time.js';

/** What a parse gives: the number, or the error's message (the general path's errors are the API's). */
const outcome = (f: () => number): number | string => {
  try {
    return f();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
};

/** A deterministic pseudo-random sequence (xorshift), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const EDGE_TEXTS = [
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00.5Z',
  '2024-05-01T10:00:00.123Z',
  '2024-05-01T10:00:00.123456Z',
  '2024-05-01T10:00:00.123456789Z', // nanoseconds: truncated
  '2024-05-01T10:00:00.000001Z',
  '2024-05-01T10:00:00.1234567890Z', // ten digits: not RFC 3339 here
  '2024-05-01T10:00:00.Z',
  '2024-05-01T10:00:00ZZ',
  '2024-05-01T10:00:00z',
  '2024-05-01t10:00:00Z',
  '2024-05-01 10:00:00Z',
  ' 2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00Z ',
  '2024-05-01T10:00:00+00:00',
  '2024-05-01T12:00:00+02:00',
  '2024-05-01T05:30:00-04:30',
  '2024-05-01T10:00:00.25+0530',
  '2024-05-01T10:00:00+24:00',
  '2024-02-29T00:00:00Z', // leap day
  '2023-02-29T00:00:00Z', // not a leap year
  '2000-02-29T23:59:59.999999Z', // divisible by 400: leap
  '1900-02-29T00:00:00Z', // divisible by 100: not leap
  '2100-02-28T00:00:00Z',
  '2024-04-31T00:00:00Z',
  '2024-12-31T23:59:60Z', // leap second: clamped to :59
  '2024-12-31T23:59:61Z',
  '2024-13-01T00:00:00Z',
  '2024-00-10T00:00:00Z',
  '2024-01-00T00:00:00Z',
  '2024-01-32T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T23:60:00Z',
  '0001-01-01T00:00:00Z', // Date.UTC maps years 0–99 to 19xx: the general path's business
  '0099-12-31T23:59:59Z',
  '0999-06-15T12:00:00Z',
  '1000-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '1969-12-31T23:59:59.999999Z',
  '9999-12-31T23:59:59.999999Z',
  '2024-0５-01T10:00:00Z', // a full-width digit
  '2024-05-01T10:00:0٠Z', // an Arabic-Indic digit
  '2024-05-01T10:00:00.12a4Z',
  '2024/05/01T10:00:00Z',
  '2024-05-01T10-00-00Z',
  '+2024-05-01T10:00:00Z',
  '',
  'Z',
  'not a date at all, but twenty chars Z',
];

describe('parseTimestamp fast path', () => {
  it('equals the general path (value or error) on edge cases', () => {
    for (const t of EDGE_TEXTS) {
      const general = outcome(() => parseTimestampGeneral(t, 'timestamp', true));
      expect(outcome(() => parseTimestamp(t)), t).toBe(general);
      const fast = parseUtcFast(t);
      if (fast !== null) expect(fast, t).toBe(general);
    }
  });

  it('takes the common forms (so the speed-up is real) and leaves the rest', () => {
    expect(parseUtcFast('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10) * US_PER_MS);
    expect(parseUtcFast('2024-05-01T10:00:00.123456789Z')).toBe(Date.UTC(2024, 4, 1, 10) * US_PER_MS + 123_456);
    expect(parseUtcFast('2024-02-29T00:00:00Z')).not.toBeNull();
    expect(parseUtcFast('2000-02-29T00:00:00Z')).not.toBeNull();
    expect(parseUtcFast('2024-12-31T23:59:60Z')).toBe(Date.UTC(2024, 11, 31, 23, 59, 59) * US_PER_MS);
    for (const t of ['2024-05-01T12:00:00+02:00', '2024-05-01 10:00:00Z', '2023-02-29T00:00:00Z', '0099-12-31T23:59:59Z']) {
      expect(parseUtcFast(t), t).toBeNull();
    }
  });

  it('keeps the general rule that query parameters may not use a space', () => {
    expect(() => parseTimestamp('2024-05-01 10:00:00Z', 'start', false)).toThrow(/not an RFC 3339/);
    expect(parseTimestamp('2024-05-01T10:00:00Z', 'start', false)).toBe(Date.UTC(2024, 4, 1, 10) * US_PER_MS);
  });

  it('equals the general path on random, partly broken, timestamps', () => {
    const r = rng(13);
    const d = (n: number) => String(Math.floor(r() * n)).padStart(2, '0');
    for (let i = 0; i < 20_000; i++) {
      const year = String(Math.floor(r() * 10_000)).padStart(4, '0');
      let t = `${year}-${d(14)}-${d(33)}T${d(26)}:${d(62)}:${d(62)}`;
      const frac = Math.floor(r() * 11);
      if (frac > 0) t += '.' + String(Math.floor(r() * 1e9)).padStart(9, '0').slice(0, frac);
      t += r() < 0.85 ? 'Z' : r() < 0.5 ? '+01:00' : 'z';
      if (r() < 0.05) {
        // a random character replaced (ASCII or not)
        const at = Math.floor(r() * t.length);
        t = t.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x700)) + t.slice(at + 1);
      }
      expect(outcome(() => parseTimestamp(t)), t).toBe(outcome(() => parseTimestampGeneral(t, 'timestamp', true)));
    }
  });
});

describe('formatTimestamp fast path', () => {
  const EDGE_US = [
    0,
    1,
    999,
    1000,
    1001,
    999_999,
    1_000_000,
    86_400_000_000 - 1, // last microsecond of 1970-01-01
    86_400_000_000,
    Date.UTC(2024, 1, 29, 23, 59, 59, 999) * 1000 + 999, // leap day's last microsecond
    Date.UTC(2024, 2, 1) * 1000,
    Date.UTC(2000, 1, 29, 12) * 1000 + 500,
    Date.UTC(9999, 11, 31, 23, 59, 59, 999) * 1000 + 999, // last four-digit-year instant
    Date.UTC(10000, 0, 1) * 1000, // six-digit year
    -1, // before 1970
    -1000,
    Date.UTC(1969, 11, 31, 23, 59, 59, 999) * 1000,
    Date.UTC(-1, 0, 1) * 1000, // negative year
    1.5, // not an integer: whatever the general path does
    Number.MAX_SAFE_INTEGER,
  ];

  it('equals the general path on edge cases (including the ones it hands over)', () => {
    for (const us of EDGE_US) {
      expect(outcome(() => formatTimestamp(us) as unknown as number), String(us)).toBe(
        outcome(() => formatTimestampGeneral(us) as unknown as number),
      );
    }
    // What Date cannot hold throws in both.
    for (const us of [NaN, Infinity, 8.64e15 * 1000 + 1000]) {
      expect(() => formatTimestamp(us)).toThrow(RangeError);
    }
  });

  it('writes 0, 3 or 6 fractional digits', () => {
    const base = Date.UTC(2024, 4, 1, 10) * 1000;
    expect(formatTimestamp(base)).toBe('2024-05-01T10:00:00Z');
    expect(formatTimestamp(base + 5000)).toBe('2024-05-01T10:00:00.005Z');
    expect(formatTimestamp(base + 5)).toBe('2024-05-01T10:00:00.000005Z');
    expect(formatTimestamp(base + 123_456)).toBe('2024-05-01T10:00:00.123456Z');
  });

  it('equals the general path on random instants, alternating days (the day cache)', () => {
    const r = rng(42);
    for (let i = 0; i < 50_000; i++) {
      // From 1900 to 2300, with every sub-millisecond shape.
      const us = Math.floor((r() * 400 - 70) * 365.25 * 86_400_000_000);
      const shaped = i % 3 === 0 ? us - (us % 1_000_000) : i % 3 === 1 ? us - (us % 1000) : us;
      expect(formatTimestamp(shaped), String(shaped)).toBe(formatTimestampGeneral(shaped));
      // A parse of what was written gives the instant back.
      if (shaped >= Date.UTC(1000, 0, 1) * 1000) expect(parseTimestamp(formatTimestamp(shaped))).toBe(shaped);
    }
  });
});
