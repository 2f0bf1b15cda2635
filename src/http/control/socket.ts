import fs from 'node:fs';
import http from 'node:http';
import { Unavailable } from '../../model/errors.js';
import type { ControlHandler } from './index.js';

/**
 * The CLI's way in: the control endpoint on a unix socket (a named pipe on Windows) that belongs to
 * the daemon, not to the `http` child, so stopping or restarting `http` never cuts the CLI off.
 * Only the user can connect: the socket is 0600 inside the 0700 data dir.
 */
export interface ControlSocket {
  close(): Promise<void>;
}

export async function listenControlSocket(file: string, handler: ControlHandler): Promise<ControlSocket> {
  // The data-dir lock is held, so a socket file left here is a dead daemon's.
  if (process.platform !== 'win32') fs.rmSync(file, { force: true });
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    void handler(req, res, q === -1 ? url : url.slice(0, q));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') fs.chmodSync(file, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One request over the control socket; rejects with Unavailable when no daemon listens there. */
export function controlRequest(file: string, method: string, urlPath: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; body: unknown }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: file,
        method,
        path: urlPath,
        headers: { host: 'localhost', ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = raw === '' ? null : JSON.parse(raw);
          } catch {
            parsed = raw;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Unavailable(`the daemon did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(err instanceof Unavailable ? err : new Unavailable(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no Sundial daemon is running' : `cannot reach the daemon: ${err.message}`)),
    );
    req.end(text);
  });
}
