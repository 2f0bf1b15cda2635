import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findNatsServer } from '../bus/nats-server.js';
import { daemonEntry } from '../service/entry.js';
import { afterUninstall, installPlan, parseEnvLines, sessionImport, servicePaths, shellLine, supported, uninstallPlan, LAUNCHD_LABEL, SYSTEMD_UNIT, type ServiceEnv } from '../service/plan.js';
import { bool, str, type FlagValues } from './args.js';
import { Failed, UsageError } from '../model/errors.js';
import { flags, type Command } from './command.js';
import { where, type Where } from './context.js';
import { runningDaemon } from './daemon-client.js';
import { DATA_FLAGS } from './flags.js';

function run(argv: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error) return { code: -1, out: '', err: r.error.message };
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function mustRun(argv: string[]): void {
  const r = run(argv);
  if (r.code !== 0) throw new Failed(`${shellLine(argv)} failed: ${(r.err || r.out).trim().split('\n')[0] || `exit ${r.code}`}`);
}

export function serviceEnv(w: Where, f: FlagValues, platform = process.platform): ServiceEnv {
  const home = os.homedir();
  const nats = findNatsServer(w.config.bus.nats_server ?? undefined);
  const node = fs.realpathSync(process.execPath);
  const dirs = [nats ? path.dirname(nats) : null, path.dirname(node), ...(platform === 'darwin' ? ['/opt/homebrew/bin'] : []), '/usr/local/bin', '/usr/bin', '/bin'];
  const daemonArgs = ['start'];
  if (w.testing) daemonArgs.push('--testing');
  if (str(f, 'data-dir')) daemonArgs.push('--data-dir', w.paths.dataDir);
  if (str(f, 'config')) daemonArgs.push('--config', w.paths.configFile);
  return {
    platform,
    home,
    uid: os.userInfo().uid,
    configHome: process.env.XDG_CONFIG_HOME || path.join(home, '.config'),
    node,
    entry: daemonEntry(),
    daemonArgs,
    path: [...new Set(dirs.filter((d): d is string => d !== null))].join(':'),
    headless: bool(f, 'headless'),
  };
}

function install(e: ServiceEnv, dry: boolean): number {
  let importVars: string[] = [];
  if (e.platform === 'linux') {
    const shown = run(['systemctl', '--user', 'show-environment']);
    if (shown.code !== 0 && !dry) throw new Failed(`the systemd user manager does not answer (systemctl --user show-environment: ${shown.err.trim() || shown.code})`);
    const s = sessionImport(parseEnvLines(shown.out), process.env);
    importVars = s.vars;
    if (s.missing && !e.headless) {
      console.error('note: neither this shell nor the user manager has DISPLAY or WAYLAND_DISPLAY: the watchers will say "unavailable"');
      console.error('      until the desktop session runs `systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY` (most desktops do).');
    } else if (importVars.length) {
      console.error(`note: importing ${importVars.join(' ')} from this shell into the user manager; if your session does not do it at login, add`);
      console.error(`      \`systemctl --user import-environment ${importVars.join(' ')}\` to its startup.`);
    }
  }
  const plan = installPlan(e, importVars);
  if (dry) {
    console.log(`would write ${plan.file}:\n`);
    console.log(plan.content);
    console.log('would run:');
    for (const c of plan.commands) console.log(`  ${shellLine(c)}`);
    return 0;
  }
  for (const d of plan.dirs) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.writeFileSync(plan.file, plan.content, { mode: 0o644 });
  for (const c of plan.commands) {
    // A first install has nothing to boot out.
    if (c[0] === 'launchctl' && c[1] === 'bootout') run(c);
    else mustRun(c);
  }
  console.log(`installed ${plan.file}; logs: ${plan.logs}`);
  return 0;
}

function uninstall(e: ServiceEnv, dry: boolean): number {
  const plan = uninstallPlan(e);
  const after = afterUninstall(e);
  if (dry) {
    console.log('would run:');
    for (const c of plan.commands) console.log(`  ${shellLine(c)}`);
    console.log(`would remove ${plan.file}`);
    for (const c of after) console.log(`  ${shellLine(c)}`);
    return 0;
  }
  if (!fs.existsSync(plan.file)) {
    console.log(`not installed (no ${plan.file})`);
    return 0;
  }
  for (const c of plan.commands) run(c); // stopping what is not running is fine
  fs.rmSync(plan.file, { force: true });
  for (const c of after) mustRun(c);
  console.log(`removed ${plan.file}`);
  return 0;
}

/** Installed / enabled / running, as facts for `service status` and `doctor`. */
export function serviceState(e: ServiceEnv): { installed: boolean; enabled: boolean | null; running: boolean | null; pid: number | null; file: string } {
  const { file } = servicePaths(e);
  const installed = fs.existsSync(file);
  if (e.platform === 'darwin') {
    const r = run(['launchctl', 'print', `gui/${e.uid}/${LAUNCHD_LABEL}`]);
    const pid = /\bpid = (\d+)/.exec(r.out)?.[1];
    return { installed, enabled: r.code === 0, running: /\bstate = running\b/.test(r.out), pid: pid ? Number(pid) : null, file };
  }
  const enabled = run(['systemctl', '--user', 'is-enabled', SYSTEMD_UNIT]);
  const active = run(['systemctl', '--user', 'show', '-p', 'ActiveState', '-p', 'MainPID', SYSTEMD_UNIT]);
  const props = parseEnvLines(active.out);
  const reachable = active.code === 0;
  return {
    installed,
    enabled: reachable ? enabled.out.trim() === 'enabled' : null,
    running: reachable ? props.ActiveState === 'active' : null,
    pid: reachable && props.MainPID && props.MainPID !== '0' ? Number(props.MainPID) : null,
    file,
  };
}

const yesNo = (v: boolean | null) => (v === null ? 'unknown (service manager not reachable)' : v ? 'yes' : 'no');

export const service: Command = {
  name: 'service',
  summary: 'install, remove or inspect Sundial as a user service (systemd, launchd)',
  args: 'install|uninstall|status',
  positionals: [1, 1],
  flags: flags([...DATA_FLAGS, 'dry-run'], {
    headless: { type: 'boolean', help: 'Linux: start with the user manager (default.target) instead of the graphical session' },
  }),
  details: [
    'install    writes the unit (Linux: ~/.config/systemd/user/sundial.service) or LaunchAgent',
    '           (macOS: ~/Library/LaunchAgents/org.sundial.daemon.plist) for this install and starts it',
    'uninstall  stops it and removes the file',
    'status     whether it is installed, enabled and running, and where its logs are',
    'With --data-dir/--config/--testing the service runs the daemon with the same flags.',
  ].join('\n'),
  async run(f, [action]) {
    if (!supported(process.platform)) throw new Failed(`no service support on ${process.platform} yet: run \`sundial start\` from your session's autostart`);
    const w = await where(f);
    const e = serviceEnv(w, f);
    const dry = bool(f, 'dry-run');
    switch (action) {
      case 'install': {
        const d = runningDaemon(w);
        if (d) console.error(`note: a daemon started by hand (pid ${d.pid}) uses ${w.paths.dataDir}; stop it, or the service's daemon cannot start`);
        return install(e, dry);
      }
      case 'uninstall':
        return uninstall(e, dry);
      case 'status': {
        const s = serviceState(e);
        console.log(`file       ${s.file}${s.installed ? '' : ' (not installed)'}`);
        console.log(`enabled    ${yesNo(s.enabled)}`);
        console.log(`running    ${yesNo(s.running)}${s.pid ? ` (pid ${s.pid})` : ''}`);
        console.log(`log        ${w.paths.logFile} (sundial logs -f)`);
        console.log(`output     ${installPlan(e).logs}`);
        return 0;
      }
      default:
        throw new UsageError(`service: unknown action '${action}' (install, uninstall or status)`);
    }
  },
};
