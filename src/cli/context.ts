import type { Config, LoadedConfig, LoadOptions } from '../config/config.js';
import { loadConfigApart } from '../config/load-apart.js';
import { daemonPaths, type DaemonPaths } from '../config/paths.js';
import { bool, intFlag, str, type FlagValues } from './args.js';

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

/**
 * The data dir and config of the daemon the flags name; a bad config file fails here, in one line.
 * The validator (config/config.js and zod) is imported here, not at the top: a module once loaded
 * stays, and every command, the daemon too, loads this file. `apart`: validate in a worker thread
 * so that the validator is never loaded here at all (the daemon; a thread costs start time).
 */
export async function where(flags: FlagValues, opts: { apart?: boolean } = {}): Promise<Where> {
  const testing = bool(flags, 'testing');
  const configFile = str(flags, 'config');
  const paths = daemonPaths({ dataDir: str(flags, 'data-dir'), configFile, testing });
  const load: LoadOptions = { file: paths.configFile, explicit: configFile !== undefined, testing };
  const loaded = opts.apart ? await loadConfigApart(load) : (await import('../config/config.js')).loadConfig(load);
  const overrides = new Map<string, string>();
  const port = intFlag(flags, 'port', 0, 65535);
  if (port !== undefined) {
    loaded.config.server.port = port;
    overrides.set('server.port', '--port');
  }
  return { paths, config: loaded.config, loaded, overrides, testing, port };
}
