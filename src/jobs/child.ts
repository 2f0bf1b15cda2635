import type { ChildSpec } from '../supervisor/types.js';
import { nextRunAfter, parseSchedule, planWake } from './schedule.js';

/** Longest single timer wait; see `arm`. */
const MAX_WAIT_MS = 60 * 60_000;

/** One scheduled job: a name, a cron expression, and work that resolves with a one-line summary. */
export interface Job {
  name: string;
  schedule: string;
  run(signal: AbortSignal): Promise<string>;
}

/** What `sundial status` and the control status show per job. */
export interface JobStatus {
  name: string;
  schedule: string;
  running: boolean;
  lastRun: string | null;
  outcome: 'ok' | 'failed' | null;
  durationMs: number | null;
  message: string | null;
  nextRun: string | null;
}

/**
 * All scheduled jobs in one supervised child. A failing job is logged and shown in the status, and
 * runs again at its next time; it never crashes the child or stops the daemon. Jobs do their work
 * in steps (backup API steps, writer ops), so the daemon stays responsive while they run.
 *
 * Each job waits on one timer for its next time (./schedule.ts, local time, no Intl). A time that
 * passed while the machine slept or the clock jumped is logged and caught up once, at the wake
 * (`planWake`); a run still going at the next time makes that time skipped.
 */
export function jobsChild(jobs: Job[]): ChildSpec {
  // Kept across incarnations: a restart of the child does not forget the last runs.
  const state = new Map<string, JobStatus>(jobs.map((j) => [j.name, { name: j.name, schedule: j.schedule, running: false, lastRun: null, outcome: null, durationMs: null, message: null, nextRun: null }]));
  return {
    name: 'jobs',
    restart: 'permanent',
    shutdownTimeoutMs: 10_000,
    async start(ctx) {
      const running = new Set<Promise<void>>();
      let stopped = false;
      // All parsed before any timer starts: a bad expression fails the start with nothing left armed.
      const schedules = jobs.map((job) => parseSchedule(job.schedule));
      const scheduled = jobs.map((job, i) => {
        const st = state.get(job.name)!;
        const schedule = schedules[i]!;
        const runOnce = async (): Promise<void> => {
          st.running = true;
          const started = Date.now();
          st.lastRun = new Date(started).toISOString();
          try {
            st.message = await job.run(ctx.signal);
            st.outcome = 'ok';
            ctx.log.info({ job: job.name, ms: Date.now() - started, result: st.message }, 'job done');
          } catch (err) {
            st.outcome = 'failed';
            st.message = (err as Error).message;
            ctx.log.error({ job: job.name, err: st.message }, 'job failed; it runs again at its next time');
          } finally {
            st.durationMs = Date.now() - started;
            st.running = false;
          }
        };
        const entry = { job, due: nextRunAfter(schedule, Date.now()), timer: undefined as NodeJS.Timeout | undefined };
        if (entry.due === null) ctx.log.warn({ job: job.name, schedule: job.schedule }, 'the schedule has no run within a century; the job never runs');
        const arm = (): void => {
          if (stopped || entry.due === null) return;
          // Capped, so a wait is re-planned at least hourly against the wall clock (suspend, clock change).
          entry.timer = setTimeout(wake, Math.min(Math.max(entry.due - Date.now(), 0), MAX_WAIT_MS));
        };
        const wake = (): void => {
          if (stopped || entry.due === null) return;
          const plan = planWake(schedule, entry.due, Date.now());
          entry.due = plan.due;
          if (plan.missedFrom !== null) {
            ctx.log.warn({ job: job.name, missedFrom: new Date(plan.missedFrom).toISOString(), next: plan.due === null ? null : new Date(plan.due).toISOString() }, 'missed its time (suspended, busy or the clock changed); it runs now, once');
          }
          if (plan.run !== null) {
            if (st.running) {
              ctx.log.warn({ job: job.name, since: st.lastRun }, 'still running; this run is skipped'); // never two at once
            } else if (!ctx.signal.aborted) {
              const p = runOnce();
              running.add(p);
              void p.finally(() => running.delete(p));
            }
          }
          arm();
        };
        arm();
        return entry;
      });
      const stopTimers = (): void => {
        stopped = true;
        for (const e of scheduled) clearTimeout(e.timer);
      };
      ctx.signal.addEventListener('abort', stopTimers, { once: true });
      return {
        async stop() {
          stopTimers();
          await Promise.allSettled([...running]);
        },
        status: () => ({
          jobs: scheduled.map(({ job, due }) => ({ ...state.get(job.name)!, nextRun: due === null ? null : new Date(due).toISOString() })),
        }),
      };
    },
  };
}
