import path from 'node:path';
import { listBackups, backupDatabase } from '../jobs/backup.js';
import { checkSundialDatabase, restoreDatabase } from '../storage/restore.js';
import { Failed, UsageError } from '../model/errors.js';
import { flags, type Command } from './command.js';
import { where } from './context.js';
import { lockDataDir } from '../datadir/lock.js';
import { DATA_FLAGS } from './flags.js';
import { progressBar } from './progress.js';

export const backupCommands: Command[] = [
  {
    name: 'backup',
    summary: 'back up the database now (online: the daemon may keep running), or list backups',
    args: 'now|list',
    positionals: [1, 1],
    flags: flags(DATA_FLAGS),
    details: 'Backups go to <data dir>/backups; the nightly job keeps the newest jobs.backup.keep of them.',
    async run(f, [action]) {
      const w = await where(f);
      if (action === 'list') {
        for (const b of listBackups(w.paths.backupDir)) console.log(b);
        return 0;
      }
      if (action !== 'now') throw new UsageError(`backup: unknown action '${action}' (now or list)`);
      const bar = progressBar('backup', '%');
      let r;
      try {
        r = await backupDatabase(w.paths.database, w.paths.backupDir, w.config.jobs.backup.keep, (frac) => bar.update(Math.round(frac * 100), 100));
      } catch (err) {
        throw new Failed(`backup of ${w.paths.database} failed: ${(err as Error).message}`);
      }
      bar.done(100, 100);
      console.log(`backed up to ${r.file} (${r.bytes} bytes)${r.removed.length ? `; removed ${r.removed.length} older` : ''}`);
      return 0;
    },
  },
  {
    name: 'restore',
    summary: 'replace the database by a backup (the daemon must be stopped; the old one is kept aside)',
    args: '<file>',
    positionals: [1, 1],
    flags: flags(DATA_FLAGS),
    async run(f, [file]) {
      const w = await where(f);
      const from = path.resolve(file!);
      // Refuse a missing or foreign file before taking the lock, which would create the data dir.
      const problem = checkSundialDatabase(from, false);
      if (problem) throw new Failed(`cannot restore: ${problem}`);
      // Held for the restore: a daemon starting meanwhile is refused instead of opening a half-moved file.
      const lock = lockDataDir(w.paths.lock, w.paths.runtime);
      let aside: string | null;
      try {
        aside = await restoreDatabase(from, w.paths.database);
      } catch (err) {
        throw new Failed(`cannot restore: ${(err as Error).message}`);
      } finally {
        lock.release();
      }
      console.log(`restored ${w.paths.database} from ${from}${aside ? `; the replaced database is at ${aside}` : ''}`);
      return 0;
    },
  },
];
