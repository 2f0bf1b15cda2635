import type { Writer } from '../actors/storage-writer/ops.js';
import type { Config } from '../config/config.js';
import type { DaemonPaths } from '../config/paths.js';
import { backupDatabase } from './backup.js';
import type { Job } from './child.js';
import { pruneLogs } from './logs.js';

/** Free pages handed back per writer op: small enough that heartbeats flow in between. */
const VACUUM_STEP = 1000;

/** The daemon's scheduled jobs, from the config. */
export function builtinJobs(config: Config['jobs'], paths: DaemonPaths, writer: Writer): Job[] {
  return [
    {
      name: 'backup',
      schedule: config.backup.schedule,
      async run() {
        const r = await backupDatabase(paths.database, paths.backupDir, config.backup.keep);
        return `${r.file} (${r.bytes} bytes)${r.removed.length ? `, ${r.removed.length} old removed` : ''}`;
      },
    },
    {
      name: 'optimize',
      schedule: config.optimize.schedule,
      async run(signal) {
        let m = await writer.submit({ kind: 'maintenance', optimize: true, vacuumPages: VACUUM_STEP });
        const before = m.freePagesBefore;
        while (m.autoVacuum === 2 && m.freePagesAfter > 0 && m.freePagesAfter < m.freePagesBefore && !signal.aborted) {
          m = await writer.submit({ kind: 'maintenance', optimize: false, vacuumPages: VACUUM_STEP });
        }
        if (m.autoVacuum !== 2) return `optimized; ${before} free pages (incremental vacuum is off for this database)`;
        return `optimized; free pages ${before} → ${m.freePagesAfter}`;
      },
    },
    {
      name: 'prune_logs',
      schedule: config.prune_logs.schedule,
      async run() {
        const r = pruneLogs(paths.logFile, config.prune_logs.max_bytes, config.prune_logs.keep);
        return `${r.rotated ? `rotated to ${r.rotated}` : 'log below the limit'}${r.removed.length ? `, ${r.removed.length} old removed` : ''}`;
      },
    },
  ];
}
