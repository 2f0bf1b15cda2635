import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** The platform's per-user data and config directories for Sundial (XDG, Application Support, LocalAppData). */
export function platformDirs(env: NodeJS.ProcessEnv = process.env, platform = process.platform, home = os.homedir()): { data: string; config: string } {
  if (platform === 'darwin') {
    const dir = path.join(home, 'Library', 'Application Support', 'sundial');
    return { data: dir, config: dir };
  }
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local');
    const dir = path.join(local, 'sundial');
    return { data: dir, config: dir };
  }
  const data = env.XDG_DATA_HOME ? path.join(env.XDG_DATA_HOME, 'sundial') : path.join(home, '.local', 'share', 'sundial');
  const config = env.XDG_CONFIG_HOME ? path.join(env.XDG_CONFIG_HOME, 'sundial') : path.join(home, '.config', 'sundial');
  return { data, config };
}

/** Every file of one daemon. `--testing` keeps a separate database, queue, bus and token, as the reference server does. */
export interface DaemonPaths {
  dataDir: string;
  configFile: string;
  database: string;
  queue: string;
  busDir: string;
  token: string;
  deviceId: string;
  logFile: string;
  /** Pause state (privacy), so a pause survives a restart. */
  pause: string;
  /** Held (SQLite exclusive lock) by the one daemon that owns this data dir. */
  lock: string;
  /** The running daemon's pid, port and control socket, for the CLI. */
  runtime: string;
  /** The control endpoint for the CLI (unix socket; a named pipe on Windows). */
  controlSocket: string;
  /** Nightly backups (scheduled jobs, `sundial backup now`). */
  backupDir: string;
  /** The sync key derived from the passphrase (`sundial sync setup`), 0600; never sent. */
  syncKey: string;
}

export function daemonPaths(opts: { dataDir?: string; configFile?: string; testing: boolean }): DaemonPaths {
  const dirs = platformDirs();
  const dataDir = path.resolve(opts.dataDir ?? dirs.data);
  const t = opts.testing ? '-testing' : '';
  return {
    dataDir,
    // With --data-dir every piece of state, the config included, lives in that one folder.
    configFile: path.resolve(opts.configFile ?? path.join(opts.dataDir ? dataDir : dirs.config, `config${t}.toml`)),
    database: path.join(dataDir, `sqlite${t}.db`),
    queue: path.join(dataDir, `queue${t}.db`),
    busDir: path.join(dataDir, `bus${t}`),
    token: path.join(dataDir, `control-token${t}`),
    deviceId: path.join(dataDir, 'device_id'),
    logFile: path.join(dataDir, 'logs', `sundial${t}.log`),
    pause: path.join(dataDir, `pause${t}.json`),
    lock: path.join(dataDir, `daemon${t}.lock`),
    runtime: path.join(dataDir, `daemon${t}.json`),
    controlSocket: controlSocketPath(dataDir, `control${t}`),
    backupDir: path.join(dataDir, `backups${t}`),
    syncKey: path.join(dataDir, `sync-key${t}.json`),
  };
}

/** The control socket's path: in the data dir, or (sun_path holds ~104 bytes) the runtime dir for a deep one. */
export function controlSocketPath(dataDir: string, name: string): string {
  const hash = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\sundial-${hash}-${name}`;
  const inDir = path.join(dataDir, `${name}.sock`);
  if (Buffer.byteLength(inDir) < 100) return inDir;
  return path.join(process.env.XDG_RUNTIME_DIR ?? os.tmpdir(), `sundial-${hash}-${name}.sock`);
}
