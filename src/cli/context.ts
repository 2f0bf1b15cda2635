import type { Config, LoadedConfig, LoadOptions } from '../config/config.js';
import { loadConfigApart, startLoadingConfigApart } from '../config/load-apart.js';
import { daemonPaths, type DaemonPaths } from '../config/paths.js';
import { bool, intFlag, parseArgs, str, type FlagValues } from './args.js';
import { flags as commandFlags } from './command.js';
import { START_FLAGS } from './flags.js';

/** What a command knows about the daemon it concerns: its files, its config, an explicit `--port`. */
export interface Where {
  paths: DaemonPaths;
  config: Config;
  /** The config as loaded, and which keys flags overrode (for `sundial config`). */
  loaded: LoadedConfig;
  overrides: Map<string, string>;
  testing: boolean;
  /** `--port` as given. */
  port?: number;
}

/** The daemon's files, and which config file to load, as the flags say. */
function files(flags: FlagValues): { testing: boolean; paths: DaemonPaths; load: LoadOptions } {
  const testing = bool(flags, 'testing');
  const configFile = str(flags, 'config');
  const paths = daemonPaths({ dataDir: str(flags, 'data-dir'), configFile, testing });
  return { testing, paths, load: { file: paths.configFile, explicit: configFile !== undefined, testing } };
}

/**
 * The data dir and config of the daemon the flags name; a bad config file fails here, in one line.
 * The validator (config/config.js and zod) is imported here, not at the top: a module once loaded
 * stays, and every command, the daemon too, loads this file. `apart`: validate in a child process
 * so that the validator is never loaded here at all (the daemon, whose child cli.ts starts early;
 * other commands would wait for a process's start-up).
 */
export async function where(flags: FlagValues, opts: { apart?: boolean } = {}): Promise<Where> {
  const { testing, paths, load } = files(flags);
  const loaded = opts.apart ? await loadConfigApart(load) : (await import('../config/config.js')).loadConfig(load);
  const overrides = new Map<string, string>();
  const port = intFlag(flags, 'port', 0, 65535);
  if (port !== undefined) {
    loaded.config.server.port = port;
    overrides.set('server.port', '--port');
  }
  return { paths, config: loaded.config, loaded, overrides, testing, port };
}

/**
 * `sundial start ARGS`: starts loading the config apart (as where(flags, { apart: true }) will ask)
 * before the CLI's modules load, so that the two overlap. Arguments that do not parse are left to
 * main() to report.
 */
export function startLoadingDaemonConfig(args: string[]): void {
  let parsed;
  try {
    parsed = parseArgs(args, commandFlags(START_FLAGS), 'start');
  } catch {
    return;
  }
  if (parsed.help || parsed.version) return;
  startLoadingConfigApart(files(parsed.flags).load);
}
