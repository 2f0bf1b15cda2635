import net from 'node:net';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from './config/config.js';
import { describeEffective } from './config/describe.js';
import { daemonPaths } from './config/paths.js';
import { buildDaemon } from './daemon.js';
import { claimDataDir } from './datadir/claim.js';
import { readRuntime } from './datadir/runtime.js';
import { controlRequest } from './http/control/socket.js';
import { createLogger } from './log.js';
import { exitCode, StartupError, SundialError, Unavailable, UsageError } from './model/errors.js';
import { parseDuration } from './privacy/pause.js';
import { VERSION } from './version.js';

const USAGE = `sundial ${VERSION} — local, private, automatic time tracking

Usage:
  sundial start   [--testing] [--port P] [--data-dir D] [--config F] [--verbose]
  sundial config  [--testing] [--port P] [--data-dir D] [--config F]
                 the effective settings and where each came from
  sundial status  [--testing] [--port P] [--data-dir D] [--json]
  sundial restart <child>  [--testing] [--port P] [--data-dir D]
  sundial stop-child <child> / start-child <child>  (same flags)
  sundial pause [30m|2h|1h30m]   stop recording (until resumed, or for that long)
  sundial resume
  sundial forget --match TEXT [--key K] [--substring | --regex] [--bucket B] [--since T] [--dry-run] [--yes]
                 delete the events whose data value (in key K, or any) is TEXT (case-insensitive),
                 contains it (--substring) or matches the regex (--regex); shows the counts and asks first

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
  key?: string;
  substring: boolean;
  regex: boolean;
  yes: boolean;
  bucket?: string;
  since?: string;
  'dry-run': boolean;
}

function setup(flags: Flags) {
  const paths = daemonPaths({ dataDir: flags['data-dir'], configFile: flags.config, testing: flags.testing });
  const loaded = loadConfig({ file: paths.configFile, explicit: flags.config !== undefined, testing: flags.testing });
  const overrides = new Map<string, string>();
  if (flags.port !== undefined) {
    const port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535) throw new UsageError(`--port takes a port number from 0 to 65535, not '${flags.port}'`);
    loaded.config.server.port = port;
    overrides.set('server.port', '--port');
  }
  return { paths, config: loaded.config, loaded, overrides };
}

async function control(flags: Flags, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const paths = daemonPaths({ dataDir: flags['data-dir'], configFile: flags.config, testing: flags.testing });
  const socket = readRuntime(paths.runtime)?.socket ?? paths.controlSocket;
  try {
    return await controlRequest(socket, method, path, body);
  } catch (err) {
    if (err instanceof Unavailable) throw new Unavailable(`no Sundial daemon is running on ${paths.dataDir}`);
    throw err;
  }
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
    const probe = k.info.probe ? `probe ${k.info.probe}${k.info.probeReason ? ` (${k.info.probeReason})` : ''}` : '';
    const extra = [k.pid ? `pid ${k.pid}` : '', k.restarts ? `${k.restarts} restarts` : '', probe, k.info.unavailable ? `unavailable: ${k.info.unavailable}` : '', typeof k.info.queued === 'number' && k.info.queued > 0 ? `${k.info.queued} writes waiting` : '', k.lastError ? `last error: ${k.lastError}` : '']
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
      key: { type: 'string' },
      substring: { type: 'boolean', default: false },
      regex: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
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
    case 'config': {
      const { loaded, overrides } = setup(flags);
      console.log(describeEffective(loaded, overrides));
      return 0;
    }
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
    case 'forget':
      return forget(flags);
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

/** Shows what a forget would delete, asks (or needs --yes), then deletes. */
async function forget(flags: Flags): Promise<number> {
  if (!flags.match) throw new UsageError('forget needs --match TEXT (see sundial --help)');
  if (flags.substring && flags.regex) throw new UsageError('forget: choose one of --substring and --regex');
  const request = {
    match: flags.match,
    mode: flags.regex ? 'regex' : flags.substring ? 'substring' : 'exact',
    key: flags.key,
    bucket: flags.bucket,
    since: flags.since,
  };
  type Found = { matched: number; deleted?: number; buckets: Record<string, number> };
  const dry = (await ok(control(flags, 'POST', '/api/control/forget', { ...request, dry_run: true }), 'forget')) as Found;
  for (const [b, n] of Object.entries(dry.buckets)) console.log(`  ${b}: ${n}`);
  if (dry.matched === 0 || flags['dry-run']) {
    console.log(`${dry.matched} events match${flags['dry-run'] ? ' (dry run: nothing deleted)' : ''}`);
    return 0;
  }
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${dry.matched} events without confirmation: add --yes`);
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Delete these ${dry.matched} events for good? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('nothing deleted');
      return 1;
    }
  }
  const done = (await ok(control(flags, 'POST', '/api/control/forget', { ...request, dry_run: false }), 'forget')) as Found;
  console.log(`${done.deleted} events deleted`);
  return 0;
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
  // Claimed before the log file (in the data dir) is opened: a second daemon must not write there.
  const claim = claimDataDir(paths);
  try {
    await checkPortFree(config.server.host, config.server.port);
  } catch (err) {
    claim.release();
    throw err;
  }
  const log = createLogger({ verbose: flags.verbose, file: paths.logFile });
  const daemon = await buildDaemon({ config, paths, testing: flags.testing, log, claim });
  void daemon.exited.then((code) => process.exit(code));
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
    if (code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`sundial: ${message}`);
      process.exit(2);
    }
    console.error(err instanceof SundialError ? `sundial: ${message}` : err);
    process.exit(exitCode(err));
  },
);
