import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { StartupError } from '../model/errors.js';
import { isPlainObject } from '../model/event.js';
import { configSchema, type Config } from './schema.js';

export type { Config, PluginConfig } from './schema.js';

/** The embedded defaults (what an empty config file gives). */
export const defaultConfig = (testing: boolean): Config => configSchema(testing).parse({});

/** Where the effective config came from: the file read (null: none, defaults only) and the keys it set. */
export interface LoadedConfig {
  config: Config;
  file: string | null;
  /** Dotted paths of the values the file set (`server.port`, `privacy.rules`). */
  fromFile: Set<string>;
}

const describeIssue = (issue: z.core.$ZodIssue): string => {
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `unknown key '${at ? `${at}.${k}` : k}'`).join(', ');
  return `'${at}' ${issue.message.replace(/^Invalid input: /, '')}`;
};

/** Validates a user's settings (already parsed from TOML or JSON) over the defaults. */
export function parseConfig(user: unknown, testing: boolean, where: string): Config {
  const result = configSchema(testing).safeParse(user);
  if (!result.success) throw new StartupError(`config ${where}: ${result.error.issues.map(describeIssue).join('; ')}`);
  return result.data;
}

function readSettings(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new StartupError(`config ${file} is a directory; give the path of a config.toml file`);
    if (code === 'EACCES') throw new StartupError(`config ${file} cannot be read (permission denied)`);
    throw new StartupError(`config ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseToml(text);
  } catch (err) {
    const what = file.endsWith('.json') ? 'JSON' : 'TOML';
    const e = err as Error & { line?: number; column?: number };
    const at = e.line !== undefined ? ` (line ${e.line}, column ${e.column})` : '';
    throw new StartupError(`config ${file} is not valid ${what}${at}: ${e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}`);
  }
}

function leafPaths(value: unknown, prefix: string, out: Set<string>): Set<string> {
  if (!isPlainObject(value)) {
    if (prefix) out.add(prefix);
    return out;
  }
  for (const [k, v] of Object.entries(value)) leafPaths(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** Which config to load: `file`, which must exist when `explicit` (given with `--config`). */
export interface LoadOptions {
  file: string;
  explicit: boolean;
  testing: boolean;
}

/**
 * Loads the config. A path given with `--config` must exist; otherwise `config.toml` is read, or an
 * older `config.json` beside it, or nothing (the defaults).
 */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const candidates = opts.explicit ? [opts.file] : [opts.file, opts.file.replace(/\.toml$/, '.json')];
  const file = candidates.find((f) => fs.existsSync(f)) ?? null;
  if (file === null) {
    if (opts.explicit) throw new StartupError(`config ${opts.file} does not exist`);
    return { config: defaultConfig(opts.testing), file: null, fromFile: new Set() };
  }
  const user = readSettings(file);
  return { config: parseConfig(user, opts.testing, file), file: path.resolve(file), fromFile: leafPaths(user, '', new Set()) };
}
