import fs from 'node:fs';
import { bool, intFlag } from './args.js';
import { Failed } from '../model/errors.js';
import { flags, type Command } from './command.js';
import { where } from './context.js';
import { DATA_FLAGS } from './flags.js';

/**
 * Turns JSON log lines into readable ones; a line that is not JSON is shown as it is. pino-pretty
 * is imported here, not at the top: every CLI run loads this file, the daemon too.
 */
export async function logFormatter(colorize: boolean): Promise<(line: string) => string> {
  const { prettyFactory } = await import('pino-pretty');
  const pretty = prettyFactory({ colorize, ignore: 'pid,hostname', translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', singleLine: true });
  return (line) => {
    try {
      return pretty(JSON.parse(line) as object).replace(/\n$/, '');
    } catch {
      return line;
    }
  };
}

/** The last `n` lines of a file, reading only its tail. */
export function lastLines(file: string, n: number): { lines: string[]; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let pos = size;
    let text = '';
    while (pos > 0 && text.split('\n').length <= n + 1) {
      const len = Math.min(64 * 1024, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, pos);
      text = buf.toString('utf8') + text;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    return { lines: lines.slice(-n), size };
  } finally {
    fs.closeSync(fd);
  }
}

export const logs: Command = {
  name: 'logs',
  summary: "show the daemon's log as readable lines",
  positionals: [0, 0],
  flags: flags(DATA_FLAGS, {
    follow: { type: 'boolean', short: 'f', help: 'keep printing new lines as they are written' },
    lines: { type: 'string', short: 'n', arg: 'N', default: '50', help: 'how many of the last lines to show' },
  }),
  async run(f) {
    const { paths } = await where(f);
    const n = intFlag(f, 'lines', 0, 1_000_000) ?? 50;
    const file = paths.logFile;
    if (!fs.existsSync(file)) throw new Failed(`no log at ${file} yet: has the daemon run with this data dir?`);
    const fmt = await logFormatter(process.stdout.isTTY === true);
    const { lines, size } = lastLines(file, n);
    for (const l of lines) console.log(fmt(l));
    if (!bool(f, 'follow')) return 0;
    let offset = size;
    let partial = '';
    const poll = () => {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        return; // rotated away; the daemon recreates it
      }
      if (st.size < offset) offset = 0; // truncated by log rotation
      if (st.size === offset) return;
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(st.size - offset);
        fs.readSync(fd, buf, 0, buf.length, offset);
        offset = st.size;
        const parts = (partial + buf.toString('utf8')).split('\n');
        partial = parts.pop()!;
        for (const l of parts) if (l) console.log(fmt(l));
      } finally {
        fs.closeSync(fd);
      }
    };
    setInterval(poll, 300);
    return -1; // until Ctrl-C
  },
};
