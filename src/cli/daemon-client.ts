import { readRuntime } from '../datadir/runtime.js';
import { controlRequest } from '../http/control/socket.js';
import { Failed, Unavailable } from '../model/errors.js';
import type { Where } from './context.js';

/** The daemon that owns a data dir, as its runtime file (`daemon.json`) says. */
export interface RunningDaemon {
  pid: number;
  host: string;
  /** The bound HTTP port; null while the http child is not listening. */
  port: number | null;
  socket: string;
}

export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The daemon on this data dir, if its runtime file names a live process. */
export function runningDaemon(w: Where): RunningDaemon | null {
  const rt = readRuntime(w.paths.runtime);
  if (!rt || !processAlive(rt.pid)) return null;
  const host = w.config.server.host;
  return { pid: rt.pid, host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port: rt.port, socket: rt.socket };
}

export interface Reply {
  status: number;
  body: unknown;
}

/**
 * The one way a command talks to a running daemon: the control socket in its data dir (0600, the
 * daemon's own, so it answers even while the http child is stopped or restarting).
 */
export async function callDaemon(w: Where, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 60_000): Promise<Reply> {
  const socket = readRuntime(w.paths.runtime)?.socket ?? w.paths.controlSocket;
  try {
    return await controlRequest(socket, method, path, body, timeoutMs);
  } catch (err) {
    if (err instanceof Unavailable) throw new Unavailable(`no Sundial daemon is running on ${w.paths.dataDir}`);
    throw err;
  }
}

/** callDaemon that expects 200 and turns anything else into one line. */
export async function callOk(w: Where, method: 'GET' | 'POST', path: string, what: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
  const r = await callDaemon(w, method, path, body, timeoutMs);
  if (r.status !== 200) throw new Failed(`${what} failed: ${(r.body as { message?: string } | null)?.message ?? r.status}`);
  return r.body;
}
