import fs from 'node:fs';
import { writePrivate } from '../bus/credentials.js';
import { readToken } from '../http/control/token.js';
import { CliError } from './args.js';
import type { Where } from './context.js';

/** What a running daemon writes into its data dir (`daemon.json`): how to reach it. */
export interface DaemonRecord {
  pid: number;
  host: string;
  port: number;
  startedAt: string;
}

export function writeDaemonRecord(file: string, rec: DaemonRecord): void {
  writePrivate(file, JSON.stringify(rec) + '\n');
}

export function removeDaemonRecord(file: string, pid = process.pid): void {
  // Only our own record: a second daemon refused at start must not remove the first one's.
  if (readDaemonRecord(file)?.pid === pid) fs.rmSync(file, { force: true });
}

export function readDaemonRecord(file: string): DaemonRecord | null {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonRecord;
    return typeof r.port === 'number' && typeof r.pid === 'number' ? r : null;
  } catch {
    return null;
  }
}

export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The daemon on this data dir, if its record names a live process. */
export function runningDaemon(w: Where): DaemonRecord | null {
  const rec = readDaemonRecord(w.paths.daemonFile);
  return rec && processAlive(rec.pid) ? rec : null;
}

function endpoint(w: Where): { host: string; port: number } {
  const loopback = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  if (w.port === undefined) {
    const rec = runningDaemon(w);
    if (rec) return { host: loopback(rec.host), port: rec.port };
  }
  return { host: loopback(w.config.server.host), port: w.config.server.port };
}

export interface Reply {
  status: number;
  body: unknown;
}

/**
 * The one way a command talks to a running daemon: its control endpoint, with the token from the
 * data dir. Every command goes through here, so the transport can change in one place.
 */
export async function callDaemon(w: Where, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 60_000): Promise<Reply> {
  let token: string;
  try {
    token = readToken(w.paths.token);
  } catch {
    throw new CliError(`no control token at ${w.paths.token}: is a daemon using this data dir?`);
  }
  const { host, port } = endpoint(w);
  let res: Response;
  try {
    res = await fetch(`http://${host}:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new CliError(`no Sundial daemon answers on ${host}:${port}`);
  }
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** callDaemon that expects 200 and turns anything else into one line. */
export async function callOk(w: Where, method: 'GET' | 'POST', path: string, what: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
  const r = await callDaemon(w, method, path, body, timeoutMs);
  if (r.status !== 200) throw new CliError(`${what} failed: ${(r.body as { message?: string } | null)?.message ?? r.status}`);
  return r.body;
}
