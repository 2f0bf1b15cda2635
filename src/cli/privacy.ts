import { parseDuration } from '../privacy/pause.js';
import { bool, CliError, str, UsageError } from './args.js';
import { flags, type Command } from './command.js';
import { where } from './context.js';
import { callOk } from './daemon-client.js';
import { DAEMON_FLAGS } from './flags.js';

export const privacyCommands: Command[] = [
  {
    name: 'pause',
    summary: 'stop recording, until resumed or for a while',
    args: '[30m|2h|1h30m]',
    positionals: [0, 1],
    flags: flags(DAEMON_FLAGS),
    async run(f, [duration]) {
      let minutes: number | null = null;
      try {
        if (duration !== undefined) minutes = parseDuration(duration);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const st = (await callOk(where(f), 'POST', '/api/control/pause', 'pause', { minutes })) as { until: number | null };
      console.log(st.until ? `paused until ${new Date(st.until).toLocaleString()}` : 'paused until `sundial resume`');
      return 0;
    },
  },
  {
    name: 'resume',
    summary: 'start recording again after a pause',
    positionals: [0, 0],
    flags: flags(DAEMON_FLAGS),
    async run(f) {
      await callOk(where(f), 'POST', '/api/control/resume', 'resume', {});
      console.log('recording resumed');
      return 0;
    },
  },
  {
    name: 'forget',
    summary: 'delete every event with a data value matching a regex (case-insensitive)',
    positionals: [0, 0],
    flags: flags([...DAEMON_FLAGS, 'dry-run'], {
      match: { type: 'string', arg: 'REGEX', help: 'delete events with a data value matching REGEX (required)' },
      bucket: { type: 'string', arg: 'B', help: 'only in bucket B' },
      since: { type: 'string', arg: 'T', help: 'only events starting at or after T (RFC 3339)' },
    }),
    async run(f) {
      const match = str(f, 'match');
      if (!match) throw new UsageError('sundial forget needs --match REGEX');
      const dry = bool(f, 'dry-run');
      const r = (await callOk(where(f), 'POST', '/api/control/forget', 'forget', { match, bucket: str(f, 'bucket'), since: str(f, 'since'), dry_run: dry })) as {
        matched: number;
        deleted?: number;
        buckets: Record<string, number>;
      };
      for (const [b, n] of Object.entries(r.buckets)) console.log(`  ${b}: ${n}`);
      console.log(dry ? `${r.matched} events match (dry run: nothing deleted)` : `${r.deleted} events deleted`);
      return 0;
    },
  },
];
