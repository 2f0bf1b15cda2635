import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { processChild } from '../supervisor/process-child.js';
import type { ChildSpec } from '../supervisor/types.js';
import { writePrivate } from '../datadir/files.js';
import { ensureCredentials } from './credentials.js';

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server', '/opt/homebrew/bin/nats-server'];

/** Finds the nats-server binary: the configured path, then PATH, then the usual install places. */
export function findNatsServer(configured?: string): string | null {
  if (configured) return fs.existsSync(configured) ? configured : null;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const exe = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';
  for (const file of [...dirs.map((d) => path.join(d, exe)), ...CANDIDATES]) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return null;
}

export const NATS_MISSING =
  'nats-server not found: install it (Debian/Ubuntu: sudo apt-get install nats-server; macOS: brew install nats-server) or set bus.url in the config to an existing NATS server';

/**
 * A daemon killed with SIGKILL cannot stop its nats-server; the next start finds it through the
 * pid file and ends it, so the port and the JetStream store are free again.
 */
function killLeftover(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmd = '';
  try {
    // Only a process that really is our nats-server (its command line names our bus dir).
    cmd = fs.existsSync(`/proc/${pid}/cmdline`)
      ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      : execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    /* not running */
  }
  if (cmd.includes('nats-server') && cmd.includes(path.dirname(pidFile))) {
    try {
      process.kill(pid, 'SIGKILL');
      const until = Date.now() + 2_000;
      while (Date.now() < until && fs.existsSync(`/proc/${pid}`)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(pidFile, { force: true });
}

/** Writes the server config: loopback only, JetStream stored in the data dir, password auth. */
function writeConfig(dir: string, port: number, user: string, pass: string): string {
  const jsDir = path.join(dir, 'jetstream');
  fs.mkdirSync(jsDir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'nats.conf');
  const q = (s: string) => JSON.stringify(s);
  writePrivate(
    file,
    [
      `listen: ${q(`127.0.0.1:${port}`)}`,
      `server_name: sundial`,
      `jetstream { store_dir: ${q(jsDir)} }`,
      `authorization { users: [ { user: ${q(user)}, password: ${q(pass)} } ] }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Resolves once something accepts connections on the port and speaks NATS (sends INFO). */
export function natsAnswers(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => done(new Error(`nats-server on port ${port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.once('data', (buf) => (buf.toString('latin1').startsWith('INFO') ? done() : done(new Error('not a NATS server'))));
    sock.once('error', (e) => done(e));
  });
}

async function waitUntilAnswers(port: number, signal: AbortSignal, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await natsAnswers(port, 1_000);
    } catch (err) {
      if (signal.aborted || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The embedded bus: a supervised nats-server child bound to 127.0.0.1 with JetStream on and a
 * generated password, so other local users cannot publish. A hung server (no INFO within the
 * ping timeout) counts as crashed, as does an exit.
 */
export async function natsServerChild(opts: { busDir: string; binary: string }): Promise<{ spec: ChildSpec; url: string; user: string; pass: string }> {
  killLeftover(path.join(opts.busDir, 'nats.pid'));
  const creds = await ensureCredentials(opts.busDir);
  const conf = writeConfig(opts.busDir, creds.port, creds.user, creds.pass);
  const pidFile = path.join(opts.busDir, 'nats.pid');
  const spec = processChild({
    name: 'bus',
    command: opts.binary,
    args: ['-c', conf, '-P', pidFile],
    restart: 'permanent',
    shutdownTimeoutMs: 5_000,
    ready: (_child, signal) => waitUntilAnswers(creds.port, signal),
    ping: () => natsAnswers(creds.port, 2_000),
  });
  return { spec: { ...spec, pingIntervalMs: 5_000, pingTimeoutMs: 3_000 }, url: `nats://127.0.0.1:${creds.port}`, user: creds.user, pass: creds.pass };
}
