import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Conflict } from '../model/errors.js';
import { readRuntime } from './runtime.js';

export interface DataDirLock {
  release(): void;
}

/**
 * One daemon per data dir. The lock is SQLite's own exclusive file lock on `daemon.lock`, held by an
 * open connection for the life of the process: the operating system drops it when the process ends,
 * even by `kill -9`, so a stale lock cannot exist and a second daemon is refused at once.
 */
export function lockDataDir(file: string, runtimeFile: string): DataDirLock {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write of an exclusive-mode connection takes the lock and keeps it until close.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); DELETE FROM owner; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const other = readRuntime(runtimeFile);
    const who = other ? `pid ${other.pid}${other.port !== null ? `, port ${other.port}` : ''}` : 'starting up';
    throw new Conflict(`another Sundial daemon (${who}) is using this data dir; stop it first (sundial status shows it)`);
  }
  return { release: () => db.close() };
}
