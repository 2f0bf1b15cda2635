import cron from 'node-cron';
import type { ChildSpec } from '../supervisor/types.js';

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
      const tasks = jobs.map((job) => {
        const st = state.get(job.name)!;
        const runOnce = async (): Promise<void> => {
          if (st.running || ctx.signal.aborted) return; // never two at once
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
        const task = cron.createTask(job.schedule, () => {
          const p = runOnce();
          running.add(p);
          void p.finally(() => running.delete(p));
        }, {
          name: `sundial-${job.name}`,
          noOverlap: true,
          // node-cron's own notes (a missed run after a suspend, ...) go to our log, not to stdout.
          logger: {
            info: (m) => ctx.log.debug({ job: job.name }, m),
            warn: (m) => ctx.log.warn({ job: job.name }, m),
            error: (m, err) => ctx.log.error({ job: job.name, err: err ?? m }, typeof m === 'string' ? m : 'node-cron error'),
            debug: () => {},
          },
        });
        return { job, task };
      });
      for (const { task } of tasks) await task.start();
      return {
        async stop() {
          for (const { task } of tasks) await task.destroy();
          await Promise.allSettled([...running]);
        },
        status: () => ({
          jobs: tasks.map(({ job, task }) => ({ ...state.get(job.name)!, nextRun: task.getNextRun()?.toISOString() ?? null })),
        }),
      };
    },
  };
}
