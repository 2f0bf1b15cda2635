/**
 * The CLI's own argument parser: each command declares the flags it takes, so a flag that a command
 * does not take is refused naming the command, and every message is ours (a value that starts with
 * `-`, such as `--port -1`, is a value, judged by the flag's own check).
 */

import { UsageError } from '../model/errors.js';

export interface FlagSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** Placeholder in help, e.g. `P` for `--port P`. */
  arg?: string;
  /** Shown in help; string defaults may be descriptive ("5600, 5666 with --testing"). */
  default?: string;
  help: string;
}

export type FlagValues = Record<string, string | boolean | undefined>;

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** Parses `argv` against `specs`; `--help/-h` and `--version/-v` are understood everywhere. */
export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, command: string | null): Parsed {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  let help = false;
  let version = false;
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  const where = command ?? 'sundial';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (a === '--version' || a === '-v') {
      version = true;
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (!(name in specs)) throw new UsageError(`${where} does not take --${name}${command ? ` (see sundial ${command} --help)` : ''}`);
    } else if (a.startsWith('-') && a.length === 2 && a !== '--') {
      name = byShort.get(a.slice(1));
      if (!name) throw new UsageError(`${where} does not take ${a}${command ? ` (see sundial ${command} --help)` : ''}`);
    } else {
      positionals.push(a);
      continue;
    }
    const spec = specs[name]!;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.arg ?? 'VALUE'})`);
      flags[name] = value;
    }
  }
  return { flags, positionals, help, version };
}

/** `--port` and similar: an integer in [min, max], or a usage error naming the flag. */
export function intFlag(flags: FlagValues, name: string, min: number, max: number): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${String(v)}'`);
  return n;
}

export const str = (flags: FlagValues, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
export const bool = (flags: FlagValues, name: string): boolean => flags[name] === true;
