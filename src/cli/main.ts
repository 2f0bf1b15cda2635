import { VERSION } from '../version.js';
import { parseArgs } from './args.js';
import { exitCode, SundialError, UsageError } from '../model/errors.js';
import type { Command } from './command.js';
import { daemonCommands } from './daemon.js';
import { logs } from './logs.js';
import { service } from './service.js';
import { backupCommands } from './backup.js';
import { importCommands } from './import.js';
import { doctor } from './doctor.js';
import { privacyCommands } from './privacy.js';
import { syncCommand } from './sync.js';

const meta: Command[] = [
  {
    name: 'help',
    summary: 'list commands, or show one command’s flags',
    args: '[command]',
    positionals: [0, 1],
    flags: {},
    async run(_f, [name]) {
      if (name === undefined) console.log(overview());
      else console.log(commandHelp(find(name)));
      return 0;
    },
  },
  {
    name: 'version',
    summary: 'print the version',
    positionals: [0, 0],
    flags: {},
    async run() {
      console.log(VERSION);
      return 0;
    },
  },
];

export const COMMANDS: Command[] = [...daemonCommands, ...privacyCommands, logs, service, ...backupCommands, ...importCommands, syncCommand, doctor, ...meta];

function find(name: string): Command {
  const c = COMMANDS.find((c) => c.name === name);
  if (!c) throw new UsageError(`unknown command '${name}' (sundial --help lists them)`);
  return c;
}

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `sundial ${VERSION} — local, private, automatic time tracking`,
    '',
    'Usage: sundial <command> [flags]     (sundial <command> --help shows its flags)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Everywhere: --help/-h, --version/-v',
  ].join('\n');
}

export function commandHelp(c: Command): string {
  const entries = Object.entries(c.flags);
  const label = ([name, s]: (typeof entries)[number]) => `${s.short ? `-${s.short}, ` : ''}--${name}${s.arg ? ` ${s.arg}` : ''}`;
  const width = Math.max(0, ...entries.map((e) => label(e).length)) + 2;
  return [
    `sundial ${c.name} — ${c.summary}`,
    '',
    `Usage: sundial ${c.name}${c.args ? ` ${c.args}` : ''}${entries.length ? ' [flags]' : ''}`,
    ...(c.details ? ['', c.details] : []),
    ...(entries.length
      ? ['', 'Flags:', ...entries.map((e) => `  ${label(e).padEnd(width)}${e[1].help}${e[1].default ? ` (default: ${e[1].default})` : ''}`)]
      : []),
  ].join('\n');
}

/** Parses, dispatches and maps failures to exit codes (model/errors.ts: 2 usage, 3 no daemon, 1 failure), 0 success (-1: keep running). */
export async function main(argv: string[]): Promise<number> {
  try {
    // The command is the first word that names one (flags may come before it), else the first word.
    let first = argv.findIndex((a) => COMMANDS.some((c) => c.name === a));
    if (first < 0) first = argv.findIndex((a) => !a.startsWith('-'));
    if (first < 0) {
      const top = parseArgs(argv, {}, null);
      if (top.version) {
        console.log(VERSION);
        return 0;
      }
      if (top.help) {
        console.log(overview());
        return 0;
      }
      console.error(overview());
      return 2;
    }
    const cmd = find(argv[first]!);
    const parsed = parseArgs([...argv.slice(0, first), ...argv.slice(first + 1)], cmd.flags, cmd.name);
    if (parsed.help) {
      console.log(commandHelp(cmd));
      return 0;
    }
    if (parsed.version) {
      console.log(VERSION);
      return 0;
    }
    const [min, max] = cmd.positionals;
    const n = parsed.positionals.length;
    if (n < min || n > max) {
      const extra = n > max ? `unexpected '${parsed.positionals[max]}'` : `missing ${cmd.args ?? 'argument'}`;
      throw new UsageError(`${cmd.name}: ${extra} (usage: sundial ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''})`);
    }
    return await cmd.run(parsed.flags, parsed.positionals);
  } catch (err) {
    // Ours on purpose: one line and its exit code (2 usage or input, 3 no daemon, 1 otherwise).
    if (err instanceof SundialError) {
      console.error(`sundial: ${err.message}`);
      return exitCode(err);
    }
    throw err;
  }
}

