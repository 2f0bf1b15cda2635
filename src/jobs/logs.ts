import fs from 'node:fs';
import path from 'node:path';
import { fileTimestamp } from '../model/time.js';

/** Rotated log files of `logFile` (`sundial.log.20240601T041500Z`), newest first. */
export function rotatedLogs(logFile: string): string[] {
  const dir = path.dirname(logFile);
  const base = path.basename(logFile);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`${base}.`) && /^\d{8}T\d{6}Z$/.test(n.slice(base.length + 1))).sort().reverse().map((n) => path.join(dir, n));
}

/**
 * Keeps the daemon's log small: above `maxBytes` it is copied to a dated file and truncated in place
 * (the daemon keeps appending to the same open file, so nothing needs reopening), and only the
 * newest `keep` rotated files stay.
 */
export function pruneLogs(logFile: string, maxBytes: number, keep: number, now = new Date()): { rotated: string | null; removed: string[] } {
  let rotated: string | null = null;
  let size = 0;
  try {
    size = fs.statSync(logFile).size;
  } catch {
    /* no log yet */
  }
  if (size > maxBytes) {
    rotated = `${logFile}.${fileTimestamp(now)}`;
    fs.copyFileSync(logFile, rotated);
    fs.chmodSync(rotated, 0o600);
    fs.truncateSync(logFile, 0);
  }
  const removed = rotatedLogs(logFile).slice(keep);
  for (const f of removed) fs.rmSync(f, { force: true });
  return { rotated, removed };
}
