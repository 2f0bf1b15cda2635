import fs from 'node:fs';
import Database from 'better-sqlite3';
import { integrityProblems } from './open.js';
import { SCHEMA_VERSION } from './schema.js';
import { fileTimestamp } from '../model/time.js';

/** Why a file cannot be used as a Sundial database, in one line; null when it can. */
export function checkSundialDatabase(file: string, full = true): string | null {
  if (!fs.existsSync(file)) return `${file} does not exist`;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    return `${file} cannot be opened: ${(err as Error).message}`;
  }
  try {
    const damage = integrityProblems(db, full);
    if (damage) return `${file} is damaged: ${damage}`;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const ours = ['buckets', 'events', 'key_value', 'applied'].every((t) => tables.has(t));
    if (!ours || version < 1) return `${file} is not a Sundial database`;
    if (version > SCHEMA_VERSION) return `${file} is from a newer Sundial (schema ${version}, this one knows ${SCHEMA_VERSION})`;
    return null;
  } catch (err) {
    const m = (err as Error).message;
    if (/not a database|file is encrypted/.test(m)) return `${file} is not a SQLite database`;
    if (/malformed|corrupt/.test(m)) return `${file} is damaged (${m}): it is truncated or overwritten`;
    return `${file}: ${m}`;
  } finally {
    db.close();
  }
}

const SIDE = ['', '-wal', '-shm'];

/**
 * Replaces `dbFile` by a copy of `from` (checked first), keeping the replaced database (with its WAL)
 * aside as `<db>.replaced-<time>`. The daemon must not be running. Returns where the old one went.
 */
export async function restoreDatabase(from: string, dbFile: string, now = new Date()): Promise<string | null> {
  const problem = checkSundialDatabase(from);
  if (problem) throw new Error(problem);
  const stamp = fileTimestamp(now);
  const aside = `${dbFile}.replaced-${stamp}`;
  const moved: string[] = [];
  for (const ext of SIDE) {
    if (fs.existsSync(dbFile + ext)) {
      fs.renameSync(dbFile + ext, aside + ext);
      moved.push(ext);
    }
  }
  const src = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await src.backup(dbFile);
    fs.chmodSync(dbFile, 0o600);
  } catch (err) {
    for (const ext of SIDE) fs.rmSync(dbFile + ext, { force: true });
    for (const ext of moved) fs.renameSync(aside + ext, dbFile + ext);
    throw err;
  } finally {
    src.close();
  }
  return moved.includes('') ? aside : null;
}
