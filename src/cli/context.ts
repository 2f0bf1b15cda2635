import { loadConfig, type Config } from '../config/config.js';
import { daemonPaths, type DaemonPaths } from '../config/paths.js';
import { StartupError } from '../daemon.js';
import { bool, CliError, intFlag, str, type FlagValues } from './args.js';

/** What a command knows about the daemon it concerns: its files, its config, an explicit `--port`. */
export interface Where {
  paths: DaemonPaths;
  config: Config;
  testing: boolean;
  /** `--port` as given; when absent, a running daemon is found through its daemon file. */
  port?: number;
}

export function where(flags: FlagValues): Where {
  const testing = bool(flags, 'testing');
  const paths = daemonPaths({ dataDir: str(flags, 'data-dir'), configFile: str(flags, 'config'), testing });
  let config: Config;
  try {
    config = loadConfig(paths.configFile, testing);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const port = intFlag(flags, 'port', 0, 65535);
  if (port !== undefined) config.server.port = port;
  return { paths, config, testing, port };
}

/** Errors that are the user's to fix print as one line; anything else is a bug and keeps its stack. */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof CliError || err instanceof StartupError || (err instanceof Error && err.message.startsWith('config:'));
}
