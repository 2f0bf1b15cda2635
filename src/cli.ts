import net from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from './config/config.js';
import { daemonPaths } from './config/paths.js';
import { buildDaemon, StartupError } from './daemon.js';
import { readToken } from './http/control/token.js';
import { createLogger } from './log.js';
import { parseDuration } from './privacy/pause.js';
import { VERSION } from './version.js';

const USAGE = `sundial ${VERSION} — local, private, automatic time tracking

Usage:
  sundial start   [--testing] [--port P] [--data-dir D] [--config F] [--verbose]
  sundial status  [--testing] [--port P] [--data-dir D] [--json]
  sundial restart <child>  [--testing] [--port P] [--data-dir D]
  sundial stop-child <child> / start-child <child>  (same flags)
  sundial pause [30m|2h|1h30m]   stop recording (until resumed, or for that long)
  sundial resume
  sundial forget --match REGEX [--bucket B] [--since T] [--dry-run]
                 delete every event with a data value matching REGEX (case-insensitive)

--testing      port 5666 and separate database, queue and bus (as ActivityWatch's --testing)
--port P       HTTP port (default 5600, 5666 with --testing)
--data-dir D   keep all state (database, queue, bus, token, logs, config.json) in D
--config F     config file (default: the platform's config dir, or D/config.json with --data-dir)
--verbose      debug logs`;

interface Flags {
  testing: boolean;
  port?: string;
  'data-dir'?: string;
  config?: string;
  verbose: boolean;
  json: boolean;
  help: boolean;
  match?: string;
  bucket?: string;
  since?: string;
  'dry-run': boolean;
}

function setup(flags: Flags) {
  const paths = daemonPaths({ dataDir: flags['data-dir'], configFile: flags.config, testing: flags.testing });
  const config = loadConfig(paths.configFile, flags.testing);
  if (flags.port !== undefined) {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartupError(`--port must be a port number, not '${flags.port}'`);
    config.server.port = port;
  }
  return { paths, config };
}

async function control(flags: Flags, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const { paths, config } = setup(flags);
  let token: string;
  try {
    token = readToken(paths.token);
  } catch {
    throw new StartupError(`no control token at ${paths.token}: is a daemon using this data dir?`);
  }
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  let res: Response;
  try {
    res = await fetch(`http://${host}:${config.server.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch {
    throw new StartupError(`no Sundial daemon answers on ${host}:${config.server.port}`);
  }
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function ok(call: Promise<{ status: number; body: unknown }>, what: string): Promise<unknown> {
  const r = await call;
  if (r.status !== 200) throw new StartupError(`${what} failed: ${(r.body as { message?: string })?.message ?? r.status}`);
  return r.body;
}

function printStatus(s: Record<string, unknown>): void {
  const kids = s.children as { name: string; state: string; pid: number | null; restarts: number; lastError: string | null; uptimeMs: number | null; info: Record<string, unknown> }[];
  const q = s.queue as { depth?: number; warning?: string } | null;
  console.log(`sundial ${s.version}  pid ${s.pid}${s.testing ? '  (testing)' : ''}  up ${Math.round((s.uptimeMs as number) / 1000)} s`);
  console.log(`database  ${s.database}`);
  const bus = s.bus as { mode: string; url: string; connected: boolean };
  console.log(`bus       ${bus.mode} ${bus.url} ${bus.connected ? 'connected' : 'DISCONNECTED'}`);
  if (q) console.log(`queue     ${q.depth} waiting${q.warning ? `  WARNING: ${q.warning}` : ''}`);
  const p = s.paused as { paused: boolean; until: number | null } | undefined;
  if (p?.paused) console.log(`PAUSED    ${p.until ? `until ${new Date(p.until).toLocaleString()}` : 'until resumed'}`);
  for (const k of kids) {
    const extra = [k.pid ? `pid ${k.pid}` : '', k.restarts ? `${k.restarts} restarts` : '', k.info.unavailable ? `unavailable: ${k.info.unavailable}` : '', typeof k.info.queued === 'number' && k.info.queued > 0 ? `${k.info.queued} writes waiting` : '', k.lastError ? `last error: ${k.lastError}` : '']
      .filter(Boolean)
      .join(', ');
    console.log(`  ${k.name.padEnd(24)} ${k.state.padEnd(9)} ${extra}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      testing: { type: 'boolean', default: false },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      match: { type: 'string' },
      bucket: { type: 'string' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const flags = values as Flags;
  const [command, ...args] = positionals;
  if (flags.help || !command) {
    console.log(USAGE);
    return command || flags.help ? 0 : 2;
  }
  switch (command) {
    case 'start':
      return start(flags);
    case 'status': {
      const r = await control(flags, 'GET', '/api/control/status');
      if (r.status !== 200) throw new StartupError(`status failed: ${(r.body as { message?: string })?.message ?? r.status}`);
      if (flags.json) console.log(JSON.stringify(r.body, null, 2));
      else printStatus(r.body as Record<string, unknown>);
      return 0;
    }
    case 'restart':
    case 'stop-child':
    case 'start-child': {
      const child = args[0];
      if (!child) throw new StartupError(`usage: sundial ${command} <child>`);
      const action = command === 'restart' ? 'restart' : command === 'stop-child' ? 'stop' : 'start';
      const r = await control(flags, 'POST', `/api/control/children/${encodeURIComponent(child)}/${action}`);
      if (r.status !== 200) throw new StartupError(`${action} ${child} failed: ${(r.body as { message?: string })?.message ?? r.status}`);
      console.log(`${child}: ${action} done`);
      return 0;
    }
    case 'pause': {
      let minutes: number | null = null;
      try {
        if (args[0] !== undefined) minutes = parseDuration(args[0]);
      } catch (err) {
        throw new StartupError((err as Error).message);
      }
      const r = await ok(control(flags, 'POST', '/api/control/pause', { minutes }), 'pause');
      const st = r as { until: number | null };
      console.log(st.until ? `paused until ${new Date(st.until).toLocaleString()}` : 'paused until `sundial resume`');
      return 0;
    }
    case 'resume':
      await ok(control(flags, 'POST', '/api/control/resume', {}), 'resume');
      console.log('recording resumed');
      return 0;
    case 'forget': {
      if (!flags.match) throw new StartupError('usage: sundial forget --match REGEX [--bucket B] [--since T] [--dry-run]');
      const r = (await ok(
        control(flags, 'POST', '/api/control/forget', { match: flags.match, bucket: flags.bucket, since: flags.since, dry_run: flags['dry-run'] }),
        'forget',
      )) as { matched: number; deleted?: number; buckets: Record<string, number> };
      for (const [b, n] of Object.entries(r.buckets)) console.log(`  ${b}: ${n}`);
      console.log(flags['dry-run'] ? `${r.matched} events match (dry run: nothing deleted)` : `${r.deleted} events deleted`);
      return 0;
    }
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

/** Fails fast, with one clear line, when something already listens on the HTTP port. */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          err.code === 'EADDRINUSE'
            ? `${host}:${port} is already in use (another Sundial or ActivityWatch server?); stop it or choose --port`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

async function start(flags: Flags): Promise<number> {
  const { paths, config } = setup(flags);
  await checkPortFree(config.server.host, config.server.port);
  const log = createLogger({ verbose: flags.verbose, file: paths.logFile });
  const daemon = await buildDaemon({ config, paths, testing: flags.testing, log });
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    stopping = daemon.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (kept running)'));
  await daemon.start();
  const url = `http://${config.server.host}:${daemon.port}`;
  if (process.stdout.isTTY) console.log(`Sundial is running at ${url} (Ctrl-C to stop)`);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const code = (err as { code?: string }).code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof StartupError || code.startsWith('ERR_PARSE_ARGS') || message.startsWith('config:')) {
      console.error(`sundial: ${message}`);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
