import fs from 'node:fs';
import { sendJson } from '../respond.js';
import type { Ctx } from './context.js';

/** The most this endpoint reads from the end of the log file. */
const TAIL_BYTES = 512 * 1024;
const MAX_ENTRIES = 1_000;

/**
 * GET /api/0/log: the daemon's recent log entries, newest first (the legacy Python server's
 * route; the reference server has none). Entries are our pino JSON lines; an unreadable or absent
 * file gives [].
 */
export function getLog(ctx: Ctx): void {
  sendJson(ctx.res, 200, ctx.deps.logFile ? tail(ctx.deps.logFile) : []);
}

function tail(file: string): unknown[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    fs.readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // a partial first line
    const out: unknown[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < MAX_ENTRIES; i--) {
      const line = lines[i]!.trim();
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        /* a line being written */
      }
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
