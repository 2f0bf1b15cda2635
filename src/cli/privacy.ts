import readline from 'node:readline/promises';
import { parseDuration } from '../privacy/pause.js';
import { bool, str } from './args.js';
import { UsageError } from '../model/errors.js';
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
        throw new UsageError((err as Error).message);
      }
      const st = (await callOk(await where(f), 'POST', '/api/control/pause', 'pause', { minutes })) as { until: number | null };
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
      await callOk(await where(f), 'POST', '/api/control/resume', 'resume', {});
      console.log('recording resumed');
      return 0;
    },
  },
  {
    name: 'forget',
    summary: 'delete the events whose data matches, after showing the counts and asking',
    positionals: [0, 0],
    details:
      'Matching is explicit: by default a data value must equal TEXT (case-insensitive); --substring\n' +
      'matches values containing it, --regex values matching the regular expression. --key limits it to\n' +
      'one data key (title, app, url, ...). On a terminal it asks before deleting; scripts pass --yes.',
    flags: flags([...DAEMON_FLAGS, 'dry-run'], {
      match: { type: 'string', arg: 'TEXT', help: 'the value to match (required)' },
      key: { type: 'string', arg: 'K', help: 'only the data key K (default: any key)' },
      substring: { type: 'boolean', help: 'match values that contain TEXT' },
      regex: { type: 'boolean', help: 'TEXT is a regular expression' },
      bucket: { type: 'string', arg: 'B', help: 'only in bucket B' },
      since: { type: 'string', arg: 'T', help: 'only events starting at or after T (RFC 3339)' },
      yes: { type: 'boolean', short: 'y', help: 'delete without asking' },
    }),
    async run(f) {
      const match = str(f, 'match');
      if (!match) throw new UsageError('forget needs --match TEXT (sundial forget --help)');
      if (bool(f, 'substring') && bool(f, 'regex')) throw new UsageError('forget: choose one of --substring and --regex');
      const w = await where(f);
      const request = {
        match,
        mode: bool(f, 'regex') ? 'regex' : bool(f, 'substring') ? 'substring' : 'exact',
        key: str(f, 'key'),
        bucket: str(f, 'bucket'),
        since: str(f, 'since'),
      };
      type Found = { matched: number; deleted?: number; buckets: Record<string, number> };
      const dry = bool(f, 'dry-run');
      const found = (await callOk(w, 'POST', '/api/control/forget', 'forget', { ...request, dry_run: true })) as Found;
      for (const [b, n] of Object.entries(found.buckets)) console.log(`  ${b}: ${n}`);
      if (found.matched === 0 || dry) {
        console.log(`${found.matched} events match${dry ? ' (dry run: nothing deleted)' : ''}`);
        return 0;
      }
      if (!bool(f, 'yes')) {
        if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${found.matched} events without confirmation: add --yes`);
        const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`Delete these ${found.matched} events for good? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          console.log('nothing deleted');
          return 1;
        }
      }
      const done = (await callOk(w, 'POST', '/api/control/forget', 'forget', { ...request, dry_run: false })) as Found;
      console.log(`${done.deleted} events deleted`);
      return 0;
    },
  },
];
