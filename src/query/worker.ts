import { workerData } from 'node:worker_threads';
import { SundialError, toWire, type WireError } from '../model/errors.js';
import { openReadonly } from '../storage/open.js';
import { keepScratch } from './arena.js';
import { runQuery } from './run.js';
import { SqliteSource } from './source.js';

/**
 * Piscina worker: one read-only SQLite connection per thread, opened on first use (the database
 * may be created after the pool). Replies are plain data so errors keep their status and message
 * across the thread boundary.
 */
export type WorkerReply =
  | { ok: true; json: string; periods: number; printed: string[] }
  | { ok: false; error: WireError; printed: string[] };

let source: SqliteSource | null = null;
const data = workerData as { dbFile: string; cacheEvents?: number; scratchBytes?: number };
if (data.scratchBytes !== undefined) keepScratch(data.scratchBytes);

export default function run(task: { body: unknown }): WorkerReply {
  const printed: string[] = [];
  try {
    source ??= new SqliteSource(openReadonly(data.dbFile), data.cacheEvents);
    const result = runQuery(source, task.body, { print: (t) => printed.push(t) });
    // As JSON text: one string crosses to the main thread, which sends and caches it as it is,
    // instead of cloning the object graph there and serialising it again.
    return { ok: true, json: JSON.stringify(result), periods: result.length, printed };
  } catch (err) {
    if (err instanceof SundialError) return { ok: false, error: toWire(err), printed };
    throw err;
  }
}
