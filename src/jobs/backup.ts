import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openReadonly } from '../storage/open.js';
import { fileTimestamp } from '../model/time.js';

const NAME = /^sundial-(\d{8}T\d{6}Z)\.db$/;

/** `sundial-20240601T033000Z.db`: sorts by time, says when. */
export const backupName = (at: Date): string => `sundial-${fileTimestamp(at)}.db`;

/** Backups in `dir`, newest first. */
export function listBackups(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => NAME.test(n)).sort().reverse().map((n) => path.join(dir, n));
}

export interface BackupResult {
  file: string;
  bytes: number;
  removed: string[];
}

/**
 * An online backup with SQLite's backup API from a read-only connection: a consistent snapshot
 * while the daemon keeps writing (never a file copy of a live database), copied in steps so the
 * event loop stays free. Written as `.partial` and renamed, so a crash never leaves a half backup
 * that looks whole; then only the newest `keep` backups are kept.
 */
export async function backupDatabase(dbFile: string, dir: string, keep: number, onProgress?: (fraction: number) => void, now = new Date()): Promise<BackupResult> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, backupName(now));
  const partial = `${file}.partial`;
  const db = openReadonly(dbFile);
  try {
    await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages ? 1 - remainingPages / totalPages : 1);
        return 256; // pages per step
      },
    });
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
  // The copy is a complete database of its own: no WAL to carry along.
  const copy = new Database(partial);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  fs.chmodSync(partial, 0o600);
  fs.renameSync(partial, file);
  const removed = listBackups(dir).slice(Math.max(1, keep));
  for (const f of removed) fs.rmSync(f, { force: true });
  return { file, bytes: fs.statSync(file).size, removed };
}
