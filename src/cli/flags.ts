import type { FlagSpec } from './args.js';

/** Flags shared by several commands; a command lists the names it takes. */
export const FLAGS = {
  testing: { type: 'boolean', help: "port 5666 and a separate database, queue and bus (as ActivityWatch's --testing)" },
  port: { type: 'string', arg: 'P', default: '5600, 5666 with --testing', help: 'HTTP port' },
  'data-dir': { type: 'string', arg: 'D', default: 'the platform data dir', help: 'keep all state (database, queue, bus, token, logs) in D' },
  config: { type: 'string', arg: 'F', default: 'config.toml in the platform config dir, or in D with --data-dir', help: 'config file (must exist when given)' },
  verbose: { type: 'boolean', help: 'debug logs' },
  json: { type: 'boolean', help: 'print JSON instead of lines' },
  'dry-run': { type: 'boolean', help: 'show what would happen; change nothing' },
} satisfies Record<string, FlagSpec>;

/** Where a daemon lives: every command that talks to one or reads its files takes these. */
export const DATA_FLAGS = ['testing', 'data-dir', 'config'] as const;
export const DAEMON_FLAGS = [...DATA_FLAGS, 'port'] as const;
export const START_FLAGS = [...DAEMON_FLAGS, 'verbose'] as const;
