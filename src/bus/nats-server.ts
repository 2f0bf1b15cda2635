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
 * pid file and ends it, so the port is free again.
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

/** Writes the server config: loopback only, password auth; no JetStream (nothing uses streams). */
function writeConfig(dir: string, port: number, user: string, pass: string): string {
  const file = path.join(dir, 'nats.conf');
  const q = (s: string) => JSON.stringify(s);
  writePrivate(
    file,
    [
      `listen: ${q(`127.0.0.1:${port}`)}`,
      `server_name: sundial`,
      `authorization { users: [ { user: ${q(user)}, password: ${q(pass)} } ] }`,
      // No system account: nothing here asks the server about itself ($SYS), and without it the
      // server starts fewer internal clients and touches less of its binary (≈ 1 MB less RSS).
      'no_sys_acc: true',
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

/**
 * The supervisor's liveness check over one kept-open, logged-in connection: a NATS PING that must
 * be answered by PONG within `timeoutMs`. A new connection per check (as `natsAnswers`) would cost
 * nats-server an accept, its connection goroutines and an auth timer every few seconds. A server
 * that stopped answering fails the check; a closed connection is opened again by the next one.
 */
export function natsPinger(port: number, user: string, pass: string, timeoutMs: number): () => Promise<void> {
  let sock: net.Socket | null = null;
  let buffered = '';
  /** Who waits for the INFO (at connect) and for each PONG, oldest first. */
  const waiting: Array<{ resolve(): void; reject(err: Error): void }> = [];
  const drop = (err: Error): void => {
    sock?.destroy();
    sock = null;
    buffered = '';
    for (const w of waiting.splice(0)) w.reject(err);
  };
  const answer = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ resolve, reject });
    });
  const open = (): Promise<void> => {
    const s = net.connect(port, '127.0.0.1');
    s.unref(); // never what keeps the daemon running
    sock = s;
    s.setEncoding('latin1');
    s.on('data', (chunk: string) => {
      buffered += chunk;
      for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        if (line === 'PING') s.write('PONG\r\n'); // the server's own keep-alive
        else if (line === 'PONG' || line.startsWith('INFO')) waiting.shift()?.resolve();
        else if (line.startsWith('-ERR')) drop(new Error(`nats-server: ${line}`));
      }
    });
    s.on('error', (err) => sock === s && drop(err));
    s.on('close', () => sock === s && drop(new Error('nats-server closed the connection')));
    const info = answer();
    return info.then(() => {
      s.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user, pass, name: 'sundial-liveness' })}\r\n`);
    });
  };
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nats-server on port ${port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          if (!sock) await open();
          const pong = answer();
          sock!.write('PING\r\n');
          await pong;
        })(),
        timedOut,
      ]);
    } catch (err) {
      drop(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
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
 * The embedded bus: a supervised nats-server child bound to 127.0.0.1 with a generated password, so other local users cannot publish. A hung server (no PONG within the
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
    // One scheduler thread: the local bus carries a few messages a second, and each idle Go
    // scheduler thread adds wakeups (a bare server: 17 a second with two, 9 with one).
    env: { GOMAXPROCS: '1' },
    restart: 'permanent',
    shutdownTimeoutMs: 5_000,
    ready: (_child, signal) => waitUntilAnswers(creds.port, signal),
    ping: natsPinger(creds.port, creds.user, creds.pass, 2_000),
  });
  return { spec: { ...spec, pingIntervalMs: 5_000, pingTimeoutMs: 3_000 }, url: `nats://127.0.0.1:${creds.port}`, user: creds.user, pass: creds.pass };
}
