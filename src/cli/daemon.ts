import net from 'node:net';
import { buildDaemon, EXIT_CHILD_FAILED } from '../daemon.js';
import { claimDataDir } from '../datadir/claim.js';
import type { JobStatus } from '../jobs/child.js';
import { createLogger } from '../log.js';
import { StartupError } from '../model/errors.js';
import { bool } from './args.js';
import { flags, type Command } from './command.js';
import { where } from './context.js';
import { callOk } from './daemon-client.js';
import { DAEMON_FLAGS, START_FLAGS } from './flags.js';

/** Whether `host:port` can be listened on: null when it can, else the error code (EADDRINUSE, ...). */
export function tryListen(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

/** Fails fast, with one clear line, when something already listens on the HTTP port. */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const problem = await tryListen(host, port);
  if (problem === 'EADDRINUSE') throw new StartupError(`${host}:${port} is already in use (another Sundial or ActivityWatch server?); stop it or choose --port`);
  if (problem) throw new StartupError(`cannot listen on ${host}:${port}: ${problem}`);
}

const start: Command = {
  name: 'start',
  summary: 'run the daemon in the foreground (what the service runs)',
  positionals: [0, 0],
  details: `Exit codes: 0 after SIGTERM/SIGINT, 1 when it cannot start (one line says why), ${EXIT_CHILD_FAILED} when a\npart it cannot run without failed for good (the service manager then starts it again).`,
  flags: flags(START_FLAGS),
  async run(f) {
    const w = await where(f, { apart: true });
    const { paths, config } = w;
    // Claimed before the log file (in the data dir) is opened: a second daemon must not write there.
    const claim = claimDataDir(paths);
    try {
      await checkPortFree(config.server.host, config.server.port);
    } catch (err) {
      claim.release();
      throw err;
    }
    const log = createLogger({ verbose: bool(f, 'verbose'), file: paths.logFile });
    const daemon = await buildDaemon({ config, paths, testing: w.testing, log, claim });
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
    // On a terminal the pretty log goes to stderr; under a service manager say once where the log is.
    if (process.stdout.isTTY) console.log(`Sundial is running at ${url} (Ctrl-C to stop)`);
    else console.log(`Sundial is running at ${url}; log: ${paths.logFile} (sundial logs -f)`);
    return -1;
  },
};

const config: Command = {
  name: 'config',
  summary: 'print the effective settings as TOML, with where each came from',
  positionals: [0, 0],
  flags: flags(DAEMON_FLAGS),
  async run(f) {
    const w = await where(f);
    // Imported here: it needs zod's whole schema machinery, which the daemon must not keep (context.ts).
    const { describeEffective } = await import('../config/describe.js');
    console.log(describeEffective(w.loaded, w.overrides));
    return 0;
  },
};

interface ChildRow {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  info: Record<string, unknown>;
}


const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'never');

export function printStatus(s: Record<string, unknown>): void {
  const kids = s.children as ChildRow[];
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
    const queued = typeof k.info.queued === 'number' && k.info.queued > 0 ? `${k.info.queued} writes waiting` : '';
    const extra = [k.pid ? `pid ${k.pid}` : '', k.restarts ? `${k.restarts} restarts` : '', probe, k.info.unavailable ? `unavailable: ${k.info.unavailable}` : '', queued, k.lastError ? `last error: ${k.lastError}` : '']
      .filter(Boolean)
      .join(', ');
    console.log(`  ${k.name.padEnd(24)} ${k.state.padEnd(9)} ${extra}`);
    for (const j of (k.info.jobs as JobStatus[] | undefined) ?? []) {
      const last = j.lastRun ? `last ${when(j.lastRun)} ${j.outcome}${j.durationMs !== null ? ` in ${j.durationMs} ms` : ''}${j.outcome === 'failed' && j.message ? ` (${j.message})` : ''}` : 'not run yet';
      console.log(`    ${j.name.padEnd(14)} ${j.running ? 'running, ' : ''}${last}; next ${when(j.nextRun)}`);
    }
  }
}

const status: Command = {
  name: 'status',
  summary: "show the running daemon's children, queue, bus and jobs",
  positionals: [0, 0],
  flags: flags([...DAEMON_FLAGS, 'json']),
  async run(f) {
    const body = (await callOk(await where(f), 'GET', '/api/control/status', 'status')) as Record<string, unknown>;
    if (bool(f, 'json')) console.log(JSON.stringify(body, null, 2));
    else printStatus(body);
    return 0;
  },
};

function childCommand(name: string, action: 'restart' | 'stop' | 'start', summary: string): Command {
  return {
    name,
    summary,
    args: '<child>',
    positionals: [1, 1],
    flags: flags(DAEMON_FLAGS),
    async run(f, [child]) {
      await callOk(await where(f), 'POST', `/api/control/children/${encodeURIComponent(child!)}/${action}`, `${action} ${child}`);
      console.log(`${child}: ${action} done`);
      return 0;
    },
  };
}

export const daemonCommands: Command[] = [
  start,
  status,
  config,
  childCommand('restart', 'restart', 'restart one child of the running daemon (bus, storage, queue, http, jobs, watcher-*)'),
  childCommand('stop-child', 'stop', 'stop one child of the running daemon'),
  childCommand('start-child', 'start', 'start a stopped child of the running daemon'),
];
