import type { FlagSpec, FlagValues } from './args.js';
import { FLAGS } from './flags.js';

/** One row of the command table: everything help, parsing and dispatch need. */
export interface Command {
  name: string;
  summary: string;
  /** Positional synopsis for help, e.g. `<child>`. */
  args?: string;
  /** Allowed positional count [min, max]. */
  positionals: [number, number];
  flags: Record<string, FlagSpec>;
  /** More help text, shown by `sundial <command> --help`. */
  details?: string;
  /** Resolves with the exit code; -1 keeps the process running (the daemon). */
  run(flags: FlagValues, args: string[]): Promise<number>;
}

/** Shared flags by name plus a command's own. */
export function flags(names: readonly (keyof typeof FLAGS)[], own: Record<string, FlagSpec> = {}): Record<string, FlagSpec> {
  return { ...Object.fromEntries(names.map((n) => [n, FLAGS[n] as FlagSpec])), ...own };
}
