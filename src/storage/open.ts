import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema.js';

/**
 * Opens (creating it 0600, its folder 0700) a database written durably: WAL, synchronous=FULL so
 * that a committed transaction survives kill -9 and power loss.
 */
export function openDurable(file: string): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  // Only possible before the first table exists: lets the weekly job hand free pages back in small steps.
  if ((db.pragma('user_version', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

/** Opens the database for the storage writer: durable, migrations applied. */
export function openWritable(file: string): Database.Database {
  const db = openDurable(file);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * A read connection (HTTP handlers, query workers). WAL lets it read while the writer commits;
 * it never takes the write lock.
 */
export function openReadonly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * What is wrong with a SQLite file, or null when it is sound or absent. `quick_check` reads every
 * page (O(N)) without the index cross-checks of `integrity_check`; `full` asks for those too.
 */
export function findDamage(file: string, full = false): string | null {
  if (!fs.existsSync(file)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { fileMustExist: true });
    return integrityProblems(db, full);
  } catch (err) {
    return (err as Error).message;
  } finally {
    db?.close();
  }
}

/** SQLite's own check of an open database, as one line (the first problems), or null when sound. */
export function integrityProblems(db: Database.Database, full = false): string | null {
  const rows = db.pragma(full ? 'integrity_check(5)' : 'quick_check(5)', { simple: false }) as Record<string, string>[];
  const problems = rows.map((r) => Object.values(r)[0]).filter((v) => v !== 'ok');
  if (!problems.length) return null;
  // SQLite's report spans lines ("*** in database main ***\nPage 40: ..."): one line, first problems only.
  const text = problems.join('; ').replace(/\*\*\* in database \w+ \*\*\*/g, '').replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
