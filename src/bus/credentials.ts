import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { writePrivate } from '../datadir/files.js';

/** How a client reaches the bus: kept in `<busDir>/bus.json` (0600), read by plugins and the CLI. */
export interface BusCredentials {
  url: string;
  user?: string;
  pass?: string;
}

interface Stored {
  port: number;
  user: string;
  pass: string;
}

export const credentialsFile = (busDir: string): string => path.join(busDir, 'bus.json');

/**
 * Loads the embedded bus's port and password, creating them at first start. The port is kept so
 * that a restarted nats-server comes back where every client reconnects to; it is re-chosen only
 * when something else took it meanwhile.
 */
export async function ensureCredentials(busDir: string): Promise<Stored> {
  fs.mkdirSync(busDir, { recursive: true, mode: 0o700 });
  const file = credentialsFile(busDir);
  let stored: Stored | null = null;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Stored>;
    if (typeof raw.port === 'number' && typeof raw.user === 'string' && typeof raw.pass === 'string') {
      stored = raw as Stored;
    }
  } catch {
    /* first start, or a damaged file: write a new one */
  }
  if (stored && (await portFree(stored.port))) return stored;
  const next: Stored = {
    port: await freePort(),
    user: stored?.user ?? 'sundial',
    pass: stored?.pass ?? crypto.randomBytes(24).toString('base64url'),
  };
  writePrivate(file, JSON.stringify({ ...next, url: `nats://127.0.0.1:${next.port}` }, null, 2) + '\n');
  return next;
}

/** Reads what a client needs to connect to the embedded bus (CLI, plugins, tests). */
export function readCredentials(busDir: string): BusCredentials {
  const raw = JSON.parse(fs.readFileSync(credentialsFile(busDir), 'utf8')) as Stored;
  return { url: `nats://127.0.0.1:${raw.port}`, user: raw.user, pass: raw.pass };
}

/** Writes a file readable by its owner only, atomically. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
