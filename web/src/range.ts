import { dateInput, formatDate, isoLocal } from './format';

/** A range of the Activity view: local days, each starting at the start-of-day setting. */
export type Mode = 'day' | 'week' | 'month' | 'custom';
export interface Range {
  mode: Mode;
  /** First day (local date, `YYYY-MM-DD`). */
  from: string;
  /** Last day, inclusive. */
  to: string;
}

/** `"04:00"` → minutes after midnight; anything unreadable is 0. */
export function parseStartOfDay(s: unknown): number {
  const m = typeof s === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(s) : null;
  if (!m) return 0;
  return Math.min(23, Number(m[1])) * 60 + Math.min(59, Number(m[2]));
}

const parseDay = (s: string): Date => {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d);
};
const addDays = (d: Date, n: number): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);

/** The local date a moment belongs to when days start at `sod` minutes. */
export function dayOf(t: Date, sod: number): string {
  return dateInput(new Date(t.getTime() - sod * 60_000));
}

/** The `startOfWeek` setting (ActivityWatch's: "Monday" or "Sunday") as a day number (Sunday = 0). */
export const weekStartOf = (setting: unknown): number => (setting === 'Sunday' ? 0 : 1);

/** The range of `mode` that contains the day `day`; weeks start on `weekStart` (Monday by default). */
export function rangeAround(mode: Exclude<Mode, 'custom'>, day: string, weekStart = 1): Range {
  const d = parseDay(day);
  if (mode === 'day') return { mode, from: day, to: day };
  if (mode === 'week') {
    const first = addDays(d, -((d.getDay() - weekStart + 7) % 7));
    return { mode, from: dateInput(first), to: dateInput(addDays(first, 6)) };
  }
  const first = new Date(d.getFullYear(), d.getMonth(), 1);
  return { mode, from: dateInput(first), to: dateInput(new Date(d.getFullYear(), d.getMonth() + 1, 0)) };
}

/** The range before (-1) or after (+1). */
export function shift(r: Range, dir: number, weekStart = 1): Range {
  if (r.mode === 'custom') {
    const n = days(r).length;
    return { mode: 'custom', from: dateInput(addDays(parseDay(r.from), dir * n)), to: dateInput(addDays(parseDay(r.to), dir * n)) };
  }
  if (r.mode === 'month') {
    const f = parseDay(r.from);
    return rangeAround('month', dateInput(new Date(f.getFullYear(), f.getMonth() + dir, 1)));
  }
  return rangeAround(r.mode, dateInput(addDays(parseDay(r.from), dir * (r.mode === 'week' ? 7 : 1))), weekStart);
}

export const days = (r: Range): string[] => {
  const out: string[] = [];
  for (let d = parseDay(r.from); d <= parseDay(r.to) && out.length < 400; d = addDays(d, 1)) out.push(dateInput(d));
  return out;
};

/** Start of a local day at the start-of-day offset. */
export function dayStart(day: string, sod: number): Date {
  const d = parseDay(day);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate(), Math.floor(sod / 60), sod % 60);
}

export function bounds(r: Range, sod: number): { start: Date; end: Date } {
  return { start: dayStart(r.from, sod), end: dayStart(dateInput(addDays(parseDay(r.to), 1)), sod) };
}

export const period = (start: Date, end: Date): string => `${isoLocal(start)}/${isoLocal(end)}`;

/** The bars of the time chart: the hours of a single day, else the days of the range. */
export function slices(r: Range, sod: number): { label: string; start: Date; end: Date }[] {
  const { start } = bounds(r, sod);
  if (r.mode === 'day' || (r.mode === 'custom' && r.from === r.to)) {
    return Array.from({ length: 24 }, (_, h) => {
      const s = new Date(start.getFullYear(), start.getMonth(), start.getDate(), start.getHours() + h, start.getMinutes());
      const e = new Date(start.getFullYear(), start.getMonth(), start.getDate(), start.getHours() + h + 1, start.getMinutes());
      return { label: `${String(s.getHours()).padStart(2, '0')}:${String(s.getMinutes()).padStart(2, '0')}`, start: s, end: e };
    });
  }
  return days(r).map((d) => {
    const s = dayStart(d, sod);
    const e = dayStart(dateInput(addDays(parseDay(d), 1)), sod);
    const label = r.mode === 'week' ? new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' }).format(s) : String(parseDay(d).getDate());
    return { label, start: s, end: e };
  });
}

export function describe(r: Range): string {
  if (r.from === r.to) return formatDate(parseDay(r.from));
  if (r.mode === 'month') return new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' }).format(parseDay(r.from));
  return `${formatDate(parseDay(r.from))} – ${formatDate(parseDay(r.to))}`;
}
