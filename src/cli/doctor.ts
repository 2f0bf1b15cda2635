import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { daemonPaths } from '../config/paths.js';
import { findNatsServer } from '../bus/nats-server.js';
import { listBackups } from '../jobs/backup.js';
import { chooseProbe, openProbe } from '../platform/index.js';
import { ProbeUnavailableError } from '../platform/types.js';
import { supported } from '../service/plan.js';
import { checkSundialDatabase } from '../storage/restore.js';
import { StartupError } from '../model/errors.js';
import { bool, intFlag, str, type FlagValues } from './args.js';
import { flags, type Command } from './command.js';
import { where, type Where } from './context.js';
import { runningDaemon } from './daemon-client.js';
import { tryListen } from './daemon.js';
import { DAEMON_FLAGS } from './flags.js';
import { serviceEnv, serviceState } from './service.js';

export type Level = 'ok' | 'warn' | 'fail';
export interface Finding {
  level: Level;
  what: string;
  detail: string;
  fix?: string;
}

const ok = (what: string, detail: string): Finding => ({ level: 'ok', what, detail });
const warn = (what: string, detail: string, fix?: string): Finding => ({ level: 'warn', what, detail, fix });
const fail = (what: string, detail: string, fix?: string): Finding => ({ level: 'fail', what, detail, fix });

function checkNats(w: Where): Finding {
  if (w.config.bus.url) return ok('bus', `external NATS server ${w.config.bus.url} (bus.url)`);
  const bin = findNatsServer(w.config.bus.nats_server ?? undefined);
  if (!bin) {
    return fail('nats-server', w.config.bus.nats_server ? `not found at ${w.config.bus.nats_server} (bus.nats_server)` : 'not found on PATH', 'install it (Debian/Ubuntu: apt install nats-server; macOS: brew install nats-server) or set bus.nats_server');
  }
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (v.status !== 0) return fail('nats-server', `${bin} does not run: ${(v.stderr || v.error?.message || '').trim().split('\n')[0]}`, 'reinstall nats-server');
  return ok('nats-server', `${bin} (${v.stdout.trim()})`);
}

async function checkDisplay(w: Where): Promise<Finding> {
  if (!w.config.watchers.enabled) return ok('watchers', 'off (watchers.enabled = false)');
  let backend: string;
  let why: string;
  try {
    const choice = chooseProbe({ platform: process.platform, env: process.env }, w.config.watchers.probe);
    backend = choice.backend;
    why = `${backend} probe: ${choice.reason}`;
  } catch (err) {
    const reason = err instanceof ProbeUnavailableError ? err.reason : (err as Error).message;
    return warn('display', `no probe: ${reason}`, 'run Sundial inside your graphical session (the service gets DISPLAY / WAYLAND_DISPLAY from it); docs/wayland.md');
  }
  try {
    const probe = await openProbe({ setting: w.config.watchers.probe });
    try {
      const win = await probe.activeWindow();
      const notice = probe.notice?.();
      if (notice) return warn('display', `${why}: ${notice}`, backend === 'macos' ? 'System Settings → Privacy & Security → Accessibility (and Screen Recording for titles): allow the node binary that runs Sundial' : undefined);
      return ok('display', `${why}; focused window: ${win ? `${win.app}` : 'none'}`);
    } finally {
      probe.close();
    }
  } catch (err) {
    return fail('display', `${why}, but it cannot be opened: ${(err as Error).message}`, backend === 'x11' ? 'check DISPLAY and XAUTHORITY (xdpyinfo should work in the same shell)' : undefined);
  }
}

async function checkPort(w: Where): Promise<Finding> {
  const d = runningDaemon(w);
  const { host, port } = w.config.server;
  if (d?.port === null) return warn('port', `the daemon (pid ${d.pid}) runs but its HTTP server is not listening`, 'sundial status; sundial restart http; sundial logs');
  if (d) {
    try {
      const info = (await (await fetch(`http://${d.host === '0.0.0.0' ? '127.0.0.1' : d.host}:${d.port}/api/0/info`, { signal: AbortSignal.timeout(5000) })).json()) as { version?: string };
      return ok('port', `the daemon (pid ${d.pid}) answers on ${d.host}:${d.port} (${info.version ?? '?'})`);
    } catch {
      return fail('port', `the daemon (pid ${d.pid}) runs but nothing answers on ${d.host}:${d.port}`, 'sundial status; sundial restart http; sundial logs');
    }
  }
  if (port === 0) return ok('port', 'any free port (server.port = 0)');
  const busy = await tryListen(host, port);
  if (busy === 'EADDRINUSE') return fail('port', `${host}:${port} is taken by another program (ActivityWatch's aw-server?)`, 'stop it, or set server.port / --port');
  if (busy) return fail('port', `cannot listen on ${host}:${port}: ${busy}`, 'check server.host');
  return ok('port', `${host}:${port} is free`);
}

function nearestExisting(p: string): string {
  let cur = p;
  while (!fs.existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

function checkDataDir(w: Where): Finding {
  const dir = w.paths.dataDir;
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    try {
      fs.accessSync(nearestExisting(dir), fs.constants.W_OK);
      return ok('data dir', `${dir} (created at first start)`);
    } catch {
      return fail('data dir', `${dir} does not exist and ${nearestExisting(dir)} is not writable`, 'choose another --data-dir');
    }
  }
  if (!st.isDirectory()) return fail('data dir', `${dir} is not a directory`, 'move that file away or choose another --data-dir');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    return fail('data dir', `${dir} is not writable`, `chown $USER ${dir}`);
  }
  if (process.getuid && st.uid !== process.getuid()) return warn('data dir', `${dir} belongs to uid ${st.uid}, not you`, `chown -R $USER ${dir}`);
  if (st.mode & 0o077) return warn('data dir', `${dir} is readable by others (mode ${(st.mode & 0o777).toString(8)}): it holds your activity history`, `chmod 700 ${dir}`);
  return ok('data dir', `${dir} (private)`);
}

function checkDisk(w: Where, minFreeMb: number): Finding {
  const at = nearestExisting(w.paths.dataDir);
  const s = fs.statfsSync(at);
  const free = s.bavail * s.bsize;
  const mb = Math.floor(free / 1e6);
  if (mb < minFreeMb) return fail('disk', `${mb} MB free on the data dir's disk`, 'free some space: Sundial stops storing when the disk is full');
  if (mb < minFreeMb * 10) return warn('disk', `${mb} MB free on the data dir's disk`, 'free some space soon');
  return ok('disk', `${(free / 1e9).toFixed(1)} GB free`);
}

function checkService(w: Where, f: FlagValues): Finding {
  if (!supported(process.platform)) return ok('service', `no service support on ${process.platform}`);
  const s = serviceState(serviceEnv(w, f));
  if (!s.installed) return warn('service', 'not installed: Sundial runs only while started by hand', 'sundial service install');
  if (s.running === null) return warn('service', `installed (${s.file}), but the service manager does not answer`);
  if (!s.running) return warn('service', `installed (${s.file}) but not running`, process.platform === 'darwin' ? 'sundial service install (again), then sundial logs' : 'systemctl --user status sundial; sundial logs');
  return ok('service', `running (pid ${s.pid ?? '?'})`);
}

function checkDatabase(w: Where): Finding[] {
  const db = w.paths.database;
  if (!fs.existsSync(db)) return [ok('database', `${db} (created at first start)`)];
  const problem = checkSundialDatabase(db, false);
  const newest = listBackups(w.paths.backupDir)[0];
  if (problem) return [fail('database', problem, newest ? `stop the daemon, then sundial restore ${newest}` : `stop the daemon and move ${db} aside (a new one is created)`)];
  const out = [ok('database', `${db} passes the integrity check`)];
  if (w.config.jobs.enabled) {
    const age = newest ? Date.now() - fs.statSync(newest).mtimeMs : Infinity;
    if (age > 3 * 86_400_000) out.push(warn('backups', newest ? `newest backup is ${Math.floor(age / 86_400_000)} days old (${newest})` : `no backup yet in ${w.paths.backupDir}`, 'sundial backup now; keep the daemon running overnight'));
    else out.push(ok('backups', newest!));
  }
  return out;
}

export async function diagnose(w: Where, f: FlagValues, configProblem: string | null): Promise<Finding[]> {
  const findings: Finding[] = [];
  findings.push(configProblem ? fail('config', configProblem, `fix ${w.paths.configFile}`) : ok('config', fs.existsSync(w.paths.configFile) ? w.paths.configFile : `${w.paths.configFile} (absent: defaults)`));
  findings.push(checkNats(w));
  findings.push(await checkDisplay(w));
  findings.push(await checkPort(w));
  findings.push(checkDataDir(w));
  findings.push(checkDisk(w, intFlag(f, 'min-free-mb', 0, 1e9) ?? 100));
  findings.push(checkService(w, f));
  findings.push(...checkDatabase(w));
  return findings;
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check what Sundial needs (nats-server, display, port, data dir, disk, service, database)',
  positionals: [0, 0],
  flags: flags([...DAEMON_FLAGS, 'json'], {
    'min-free-mb': { type: 'string', arg: 'MB', default: '100', help: 'free disk below this is a failure (below 10× a warning)' },
  }),
  details: 'Each line is ok, warn or fail, with a fix where there is one. Exit code 1 when anything fails.',
  async run(f) {
    // A config that does not load is a finding, not the end: the other checks run on the defaults.
    let w: Where;
    let configProblem: string | null = null;
    try {
      w = await where(f);
    } catch (err) {
      if (!(err instanceof StartupError)) throw err;
      configProblem = err.message.replace(/^config /, '');
      const testing = bool(f, 'testing');
      const paths = daemonPaths({ dataDir: str(f, 'data-dir'), configFile: str(f, 'config'), testing });
      const { defaultConfig } = await import('../config/config.js'); // not at the top: see context.ts
      const config = defaultConfig(testing);
      w = { paths, config, loaded: { config, file: null, fromFile: new Set() }, overrides: new Map(), testing };
    }
    const findings = await diagnose(w, f, configProblem);
    if (bool(f, 'json')) console.log(JSON.stringify(findings, null, 2));
    else {
      const width = Math.max(...findings.map((x) => x.what.length));
      for (const x of findings) {
        console.log(`${x.level.padEnd(4)}  ${x.what.padEnd(width)}  ${x.detail}`);
        if (x.fix && x.level !== 'ok') console.log(`${' '.repeat(width + 8)}fix: ${x.fix}`);
      }
    }
    return findings.some((x) => x.level === 'fail') ? 1 : 0;
  },
};
