import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DaemonPaths } from '../config/paths.js';
import { ensureToken } from '../http/control/token.js';
import { StartupError } from '../model/errors.js';
import { findDamage } from '../storage/open.js';
import { readOrCreate } from './files.js';
import { lockDataDir } from './lock.js';

/** What a daemon holds once the data dir is its own. */
export interface DataDirClaim {
  deviceId: string;
  /** The control endpoint's bearer token (HTTP; the unix socket needs none). */
  token: string;
  release(): void;
}

function ensureDirectory(dir: string): void {
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StartupError(`data dir ${dir} cannot be used: ${(err as Error).message}`);
  }
  if (stat && !stat.isDirectory()) throw new StartupError(`data dir ${dir} is a file, not a directory; choose another --data-dir`);
  if (!stat) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StartupError(`data dir ${dir} cannot be created: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    throw new StartupError(`data dir ${dir} is not writable by this user; fix its permissions or choose another --data-dir`);
  }
}

const DAMAGED_HINT = {
  database: "restore a backup (sundial restore <file>) or move the file aside to start with an empty database",
  queue: 'move the file aside to start with an empty queue (heartbeats still waiting in it are then lost)',
};

/**
 * Makes the data dir this daemon's: a usable directory, the one-daemon lock, sound database files,
 * the device id and control token. Refuses, with one line, whatever it cannot serve from.
 */
export function claimDataDir(paths: DaemonPaths): DataDirClaim {
  ensureDirectory(paths.dataDir);
  const lock = lockDataDir(paths.lock, paths.runtime);
  try {
    for (const [file, hint] of [
      [paths.database, DAMAGED_HINT.database],
      [paths.queue, DAMAGED_HINT.queue],
    ] as const) {
      const damage = findDamage(file);
      if (damage) throw new StartupError(`${file} is damaged (${damage}): ${hint}`);
    }
    return {
      deviceId: readOrCreate(paths.deviceId, () => crypto.randomUUID()),
      token: ensureToken(paths.token),
      release: () => lock.release(),
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
