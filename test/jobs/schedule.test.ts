import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { nextRunAfter, parseSchedule, planWake } from '../../src/jobs/schedule.js';
import { ROOT } from '../helpers/daemon.js';

// The comparison runs in child processes with TZ set (a process's zone is fixed once Date is used),
// on the built module: dist/jobs/schedule.js, so it needs `npm run build` after a change.
const FIXTURE = path.join(ROOT, 'test/jobs/fixtures/compare-schedules.mjs');
const BUILT = path.join(ROOT, 'dist/jobs/schedule.js');

const EXPRESSIONS = [
  // The defaults.
  '30 3 * * *', '0 4 * * 0', '15 4 * * *',
  // Seconds fields, steps, ranges (one wrapping midnight).
  '* * * * * *', '*/1 * * * * *', '*/15 * * * *', '0 */2 * * *', '5-50/7 * * * * *', '*/20 */10 * * * *', '10 22-2 * * *', '0 0 */5 * *',
  // Wall times in or next to the daylight-saving hours of Berlin and New York.
  '30 2 * * *', '30 1 * * *', '0 2 * * *', '0 3 * * *', '15,45 1-3 * * *', '0 30 2 * * 0', '0,30 0,15,30,45 1,2,3 * * *', '59 59 23 * * *', '0 0 0 * * 0-7',
  // Names, '?', nicknames; day of month AND day of week.
  '0 0 1 1 *', '@weekly', '@daily', '@hourly', '0 9 * * mon-fri', '0 0 * jan,jul *', '0 12 ? * 3', '0 12 15 * ?', '0 0 13 * 5', '0 0 29 2 *', '0 0 29 2 1', '0 0 31 * *',
  // Day-of-month tokens.
  '0 0 L * *', '0 0 L-2 * *', '0 12 L-30 * *', '0 0 15W * *', '0 0 1W * *', '0 0 LW * *', '0 0 31W * *', '0 0 1,L * *',
  // Day-of-week tokens.
  '0 0 * * 5L', '0 0 * * 1#2', '0 0 * * 7#1', '30 2 * * 0L', '0 0 * * 1#5', '0 0 * * SUN#2,6L', '0 0 12 L * 5',
];

interface Probe {
  expression: string;
  from: string;
}
interface Comparison {
  transitions: string[];
  intl: number;
  compared: number;
  mismatchCount: number;
  mismatches: { expression: string; from: string; mine: string | null; nodeCron: string }[];
  probes: (Probe & { mine: string | null; nodeCron: string })[];
}

async function compareIn(tz: string, expressions: string[], probes: Probe[] = []): Promise<Comparison> {
  const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE, JSON.stringify({ expressions, probes })], {
    env: { ...process.env, TZ: tz },
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as Comparison;
}

const probe = (expression: string, from: string): Probe => ({ expression, from });

/** Same answers as node-cron on every start compared, across `transitions` DST changes, without Intl; the probes' [mine, node-cron] pairs. */
function agreesWithNodeCron(r: Comparison, transitions: number, atLeast: number): [string | null, string][] {
  expect(r.transitions).toHaveLength(transitions);
  expect(r.compared).toBeGreaterThan(atLeast);
  expect(r.mismatches).toEqual([]);
  expect(r.intl).toBe(0);
  return r.probes.map((p) => [p.mine, p.nodeCron]);
}

describe('next run without Intl, against node-cron', () => {
  const runs: Record<string, Promise<Comparison>> = {};
  beforeAll(() => {
    expect(fs.statSync(BUILT).mtimeMs, 'dist/jobs/schedule.js is older than the source: npm run build').toBeGreaterThanOrEqual(fs.statSync(path.join(ROOT, 'src/jobs/schedule.ts')).mtimeMs);
    // Started together: each child is a few seconds of work.
    runs.berlin = compareIn('Europe/Berlin', EXPRESSIONS, [
      probe('30 2 * * *', '2026-03-28T12:00:00Z'),
      probe('30 2 * * *', '2026-10-24T12:00:00Z'),
      probe('*/15 * * * *', '2026-10-25T00:50:00Z'),
    ]);
    runs.newYork = compareIn('America/New_York', EXPRESSIONS, [
      probe('30 2 * * *', '2026-03-07T12:00:00Z'),
      probe('30 1 * * *', '2026-10-31T12:00:00Z'),
      probe('*/15 * * * *', '2026-11-01T05:50:00Z'),
    ]);
    runs.utc = compareIn('UTC', EXPRESSIONS, [probe('0 0 12 L-30 2 *', '2026-01-01T00:00:00Z')]);
    runs.lordHowe = compareIn('Australia/Lord_Howe', ['0 10,35,40 2 * * *', '*/10 * * * *', '30 1 * * *', '15,45 1-3 * * *']);
    for (const r of Object.values(runs)) r.catch(() => undefined); // awaited by the tests below
  });

  it('Europe/Berlin: equal on every start and through every transition; a repeated wall time runs in the second pass, a missing one not at all', async () => {
    expect(agreesWithNodeCron(await runs.berlin!, 4, 50_000)).toEqual([
      ['2026-03-30T00:30:00.000Z', '2026-03-30T00:30:00.000Z'], // 02:30 does not exist on the 29th
      ['2026-10-25T01:30:00.000Z', '2026-10-25T01:30:00.000Z'], // 02:30 CET, not 02:30 CEST
      ['2026-10-25T02:00:00.000Z', '2026-10-25T02:00:00.000Z'], // from 02:50 CEST on to 03:00 CET: nothing in the second pass of 02:xx either, as node-cron
    ]);
  });

  it('America/New_York: equal on every start and through every transition; a repeated wall time runs in the first pass', async () => {
    expect(agreesWithNodeCron(await runs.newYork!, 4, 50_000)).toEqual([
      ['2026-03-09T06:30:00.000Z', '2026-03-09T06:30:00.000Z'], // 02:30 does not exist on the 8th
      ['2026-11-01T05:30:00.000Z', '2026-11-01T05:30:00.000Z'], // 01:30 EDT, not 01:30 EST
      ['2026-11-01T07:00:00.000Z', '2026-11-01T07:00:00.000Z'], // from 01:50 EDT on to 02:00 EST: no second pass of 01:xx
    ]);
  });

  it('UTC: equal; an expression that never matches gives null where node-cron throws', async () => {
    const r = await runs.utc!;
    agreesWithNodeCron(r, 0, 10_000);
    expect(r.probes[0]).toMatchObject({ mine: null, nodeCron: expect.stringMatching(/^throws: Could not find next matching date/) });
  });

  it('Australia/Lord_Howe (a 30-minute gap): the one deliberate difference — node-cron moves a missing 02:10 to 02:40 and skips the real 02:35', async () => {
    const r = await runs.lordHowe!;
    expect(r.transitions).toHaveLength(4);
    expect(r.intl).toBe(0);
    expect(r.mismatchCount).toBeGreaterThan(0);
    expect(r.mismatchCount).toBe(r.mismatches.length);
    // Every difference is that one, on the two gap days (02:00 → 02:30 local, +10:30 → +11).
    expect(new Set(r.mismatches.map((m) => `${m.expression} ${m.mine} ${m.nodeCron}`))).toEqual(
      new Set(['0 10,35,40 2 * * * 2026-10-03T15:35:00.000Z 2026-10-03T15:40:00.000Z', '0 10,35,40 2 * * * 2027-10-02T15:35:00.000Z 2027-10-02T15:40:00.000Z']),
    );
  });
});

describe('planWake', () => {
  // Local wall times, so these hold in whatever zone the tests run (no transition on June 1st–3rd).
  const at = (day: number, h: number, m: number, s = 0, ms = 0) => new Date(2026, 5, day, h, m, s, ms).getTime();
  const daily = parseSchedule('30 3 * * *');
  const everySecond = parseSchedule('* * * * * *');

  it('runs the due slot when on time or up to a second late, and waits for the next one', () => {
    const due = at(1, 3, 30);
    expect(nextRunAfter(daily, at(1, 0, 0))).toBe(due);
    expect(planWake(daily, due, due + 20)).toEqual({ run: due, missedFrom: null, due: at(2, 3, 30) });
    expect(planWake(daily, due, due + 1999)).toEqual({ run: due, missedFrom: null, due: at(2, 3, 30) });
  });

  it('a slot more than the tolerance late is missed and caught up once, at the wake', () => {
    const due = at(1, 3, 30);
    expect(planWake(daily, due, due + 2000)).toEqual({ run: due, missedFrom: due, due: at(2, 3, 30) });
    // After a night's suspend: the backup runs now rather than waiting for the next night.
    expect(planWake(daily, due, at(1, 9, 12, 7))).toEqual({ run: due, missedFrom: due, due: at(2, 3, 30) });
    // Two days asleep: one run and one missed report, from the first slot.
    expect(planWake(daily, due, at(3, 9, 0))).toEqual({ run: due, missedFrom: due, due: at(4, 3, 30) });
  });

  it('of the slots passed, the latest within the tolerance runs, as node-cron planBeat does', () => {
    const due = at(1, 12, 0, 0);
    // 1.5 s late: 12:00:00 is missed (its next slot has come), 12:00:01 runs.
    expect(planWake(everySecond, due, due + 1500)).toEqual({ run: due + 1000, missedFrom: due, due: due + 2000 });
    expect(planWake(everySecond, due, at(1, 15, 0, 0, 300))).toEqual({ run: at(1, 15, 0), missedFrom: due, due: at(1, 15, 0, 1) });
  });

  it('an early wake (a capped wait, or the clock set back) plans again from now', () => {
    expect(planWake(daily, at(1, 3, 30), at(1, 2, 30))).toEqual({ run: null, missedFrom: null, due: at(1, 3, 30) });
    // A slot computed when the clock was a day ahead moves back once the clock is right.
    expect(planWake(daily, at(3, 3, 30), at(1, 10, 0))).toEqual({ run: null, missedFrom: null, due: at(2, 3, 30) });
    // The timer may fire a moment before the wall clock reaches the slot.
    expect(planWake(daily, at(1, 3, 30), at(1, 3, 29, 59, 999))).toEqual({ run: null, missedFrom: null, due: at(1, 3, 30) });
  });

  it('refuses what node-cron refuses', () => {
    expect(() => parseSchedule('every night')).toThrow();
    expect(() => parseSchedule('60 * * * *')).toThrow(/minute/);
    expect(() => parseSchedule('0 0 31 2 *')).toThrow(/impossible/);
  });
});
