import { parse } from 'node-cron';

/**
 * Next run times of a cron expression in the process's local time, with plain `Date` arithmetic.
 *
 * node-cron computes the same times with `Intl.DateTimeFormat`, which pages in ICU's locale data
 * (about 6.5 MB of the daemon's RSS); here only the expression is parsed by node-cron (`parse`, no
 * Intl) and the walk reads local fields with `Date` getters and `getTimezoneOffset`. The results
 * equal node-cron's `TimeMatcher.getNextMatch` (test/jobs/schedule.test.ts compares them in three
 * time zones), including its choices on daylight-saving days:
 * - a local time that does not exist (spring forward) never runs. node-cron moves it forward by the
 *   gap and runs it if that time matches too; with whole-hour gaps (Berlin, New York) that gives
 *   the same times, with Lord Howe's 30-minute gap it can differ (the test shows the one case);
 * - a local time that happens twice (fall back) runs once, in the pass node-cron picks: the UTC
 *   offset in force at that wall time read as UTC. East of Greenwich (and at UTC+0) that is the
 *   second pass, west of it the first.
 * Day of month and day of week must both match (node-cron ANDs them, unlike Vixie cron).
 */
export interface CronSchedule {
  expression: string;
  /** Ascending, without repeats. */
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** Index 1–12. */
  months: boolean[];
  days: DayRule;
  weekdays: WeekdayRule;
}

/** Day-of-month field: plain days, `L`, `L-n`, and `nW` / `LW` (nearest weekday). */
interface DayRule {
  /** Index 1–31. */
  plain: boolean[];
  last: boolean;
  /** n of each `L-n`. */
  beforeLast: number[];
  /** Targets of `nW`; 0 stands for `LW`. */
  nearestWeekday: number[];
}

/** Day-of-week field (0 = Sunday): plain weekdays, `5L` (last Friday), `1#2` (second Monday). */
interface WeekdayRule {
  plain: boolean[];
  /** Weekdays of each `dL`. */
  lastOf: number[];
  nth: { weekday: number; nth: number }[];
}

/** node-cron's bound on the walk: an expression that never matches gives up after a century. */
const MAX_DAYS = 366 * 100;

/** Parses with node-cron's own parser (throws its error on an invalid expression). */
export function parseSchedule(expression: string): CronSchedule {
  const f = parse(expression);
  const ascending = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
  const months: boolean[] = [];
  for (const m of f.month) months[m] = true;
  const days: DayRule = { plain: [], last: false, beforeLast: [], nearestWeekday: [] };
  for (const v of f.dayOfMonth) {
    if (typeof v === 'number') days.plain[v] = true;
    else if (v === 'L') days.last = true;
    else if (/^L-\d{1,2}$/.test(v)) days.beforeLast.push(Number(v.slice(2)));
    else if (/^(\d{1,2}|L)W$/.test(v)) days.nearestWeekday.push(v === 'LW' ? 0 : Number(v.slice(0, -1)));
    else throw new Error(`${expression}: unknown day-of-month token ${v}`);
  }
  const weekdays: WeekdayRule = { plain: [], lastOf: [], nth: [] };
  for (const v of f.dayOfWeek) {
    if (typeof v === 'number') weekdays.plain[v % 7] = true;
    else if (/^[0-7]L$/i.test(v)) weekdays.lastOf.push(Number(v[0]) % 7);
    else if (/^[0-7]#[1-5]$/.test(v)) weekdays.nth.push({ weekday: Number(v[0]) % 7, nth: Number(v[2]) });
    else throw new Error(`${expression}: unknown day-of-week token ${v}`);
  }
  return { expression, seconds: ascending(f.second), minutes: ascending(f.minute), hours: ascending(f.hour), months, days, weekdays };
}

/**
 * The first run strictly after `after` (ms since the epoch; its milliseconds are dropped first, as
 * node-cron does), or null when the expression has no run within a century (e.g. `L-30` in February).
 */
export function nextRunAfter(schedule: CronSchedule, after: number): number | null {
  const baseMs = Math.floor(after / 1000) * 1000;
  const base = new Date(baseMs);
  let year = base.getFullYear();
  let month = base.getMonth() + 1;
  let day = base.getDate();
  // On the first day only wall times later than the base's own count, as in node-cron.
  let bound = base.getHours() * 3600 + base.getMinutes() * 60 + base.getSeconds();
  let last = daysInMonth(year, month);
  for (let walked = 0; walked < MAX_DAYS; ) {
    if (!schedule.months[month]) {
      // A whole month off the schedule is skipped at once (its days still count towards the bound).
      walked += last - day + 1;
      day = last;
    } else {
      if (dayMatches(schedule, year, month, day, last)) {
        const found = firstTimeOnDay(schedule, year, month, day, bound, baseMs);
        if (found !== null) return found;
      }
      walked++;
    }
    bound = -1;
    if (day < last) day++;
    else {
      day = 1;
      if (month < 12) month++;
      else {
        month = 1;
        year++;
      }
      last = daysInMonth(year, month);
    }
  }
  return null;
}

function firstTimeOnDay(s: CronSchedule, year: number, month: number, day: number, bound: number, baseMs: number): number | null {
  for (const hour of s.hours) {
    if (hour * 3600 + 3599 <= bound) continue;
    for (const minute of s.minutes) {
      for (const second of s.seconds) {
        if (hour * 3600 + minute * 60 + second <= bound) continue;
        const t = wallTimeToInstant(year, month, day, hour, minute, second);
        if (t !== null && t > baseMs) return t;
      }
    }
  }
  return null;
}

/**
 * The instant a local wall time names, or null in a spring-forward gap. A repeated wall time
 * resolves as node-cron's localTimeToTimestamp does: take the offset in force at the wall time read
 * as UTC; if the offset there differs, keep whichever candidate reads back as the wall time.
 */
export function wallTimeToInstant(year: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const firstOffset = offsetMs(asUtc);
  const first = asUtc - firstOffset;
  const secondOffset = offsetMs(first);
  if (secondOffset === firstOffset) return first;
  const other = asUtc - secondOffset;
  for (const t of [first, other]) {
    const d = new Date(t);
    if (d.getFullYear() === year && d.getMonth() === month - 1 && d.getDate() === day && d.getHours() === hour && d.getMinutes() === minute && d.getSeconds() === second) return t;
  }
  return null;
}

/** Local time minus UTC at an instant. */
function offsetMs(t: number): number {
  return -new Date(t).getTimezoneOffset() * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Weekday of a calendar date, 0 = Sunday. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** `last`: the month's last day. */
function dayMatches(s: CronSchedule, year: number, month: number, day: number, last: number): boolean {
  return dayOfMonthMatches(s.days, year, month, day, last) && dayOfWeekMatches(s.weekdays, year, month, day, last);
}

function dayOfMonthMatches(r: DayRule, year: number, month: number, day: number, last: number): boolean {
  if (r.plain[day]) return true;
  if (r.last && day === last) return true;
  for (const n of r.beforeLast) if (last - n >= 1 && last - n === day) return true;
  for (const target of r.nearestWeekday) if (nearestWeekday(year, month, target === 0 ? last : target, last) === day) return true;
  return false;
}

/**
 * Quartz's `nW`: the weekday nearest to day `target`, staying in the month (a Saturday the 1st
 * moves to Monday the 3rd, a Sunday the last to Friday); -1 when the month has no such day.
 */
function nearestWeekday(year: number, month: number, target: number, last: number): number {
  if (target < 1 || target > last) return -1;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfWeekMatches(r: WeekdayRule, year: number, month: number, day: number, last: number): boolean {
  const weekday = weekdayOf(year, month, day);
  if (r.plain[weekday]) return true;
  for (const w of r.lastOf) if (w === weekday && day + 7 > last) return true;
  for (const { weekday: w, nth } of r.nth) if (w === weekday && Math.floor((day - 1) / 7) + 1 === nth) return true;
  return false;
}

/** What the scheduler does when its timer fires. */
export interface Wake {
  /** The slot to run now (for a missed one: the first of them, run late), if any. */
  run: number | null;
  /** The earliest slot that passed without running (suspend, a blocked loop, a clock set forward). */
  missedFrom: number | null;
  /** The slot to wait for next (null: none within a century). */
  due: number | null;
}

/**
 * node-cron's default missedExecutionTolerance: a slot runs on time when the timer comes at most
 * this late (now taken to the whole second); later than that it is missed, and caught up once.
 */
export const MISSED_TOLERANCE_MS = 1000;

/**
 * Decides a timer wake. When the due slot has come, the latest slot at or before now runs if it is
 * at most `toleranceMs` old, and any slots before it since `due` are missed, as node-cron's
 * planBeat decides. Unlike node-cron, when no slot is that recent, one run still happens now for
 * all that were missed (as systemd's `Persistent=` or anacron): a nightly backup on a laptop that
 * sleeps at night is late, not skipped every night. When the due slot has not come (a capped wait,
 * or the clock was set back), the next slot is computed again from now, so a clock change moves
 * the wait rather than leaving it on a stale time.
 */
export function planWake(schedule: CronSchedule, due: number, now: number, toleranceMs = MISSED_TOLERANCE_MS): Wake {
  const nowS = Math.floor(now / 1000) * 1000;
  if (nowS < due) return { run: null, missedFrom: null, due: nextRunAfter(schedule, now) };
  // The latest slot in [nowS - tolerance, nowS]: the only one planBeat can run (its next is after now).
  let run = nextRunAfter(schedule, nowS - toleranceMs - 1);
  for (let n = run === null ? null : nextRunAfter(schedule, run); n !== null && n <= nowS; n = nextRunAfter(schedule, n)) run = n;
  if (run !== null && (run > nowS || run < due)) run = null;
  return { run: run ?? due, missedFrom: run === due ? null : due, due: nextRunAfter(schedule, nowS) };
}
