import path from 'node:path';
import { launchdPlist } from './launchd.js';
import { systemdUnit } from './systemd.js';

/** Everything a plan depends on, gathered by the CLI; the plans themselves are pure. */
export interface ServiceEnv {
  platform: NodeJS.Platform;
  home: string;
  uid: number;
  /** XDG_CONFIG_HOME or ~/.config (Linux). */
  configHome: string;
  node: string;
  entry: string;
  /** Arguments of the daemon after the entry (start plus --data-dir/--config/--testing when given). */
  daemonArgs: string[];
  /** PATH the daemon gets: the directory of nats-server first, then the usual system dirs. */
  path: string;
  headless: boolean;
}

export interface Plan {
  /** The service file (unit or plist) and its content. */
  file: string;
  content: string;
  /** Directories to create (0700) before writing. */
  dirs: string[];
  /** Commands to run, in order, each argv. */
  commands: string[][];
  /** Where the daemon's output goes besides its own log file. */
  logs: string;
}

export const SYSTEMD_UNIT = 'sundial.service';
export const LAUNCHD_LABEL = 'org.sundial.daemon';

/** The variables a graphical session exports into the user manager (`systemctl --user import-environment`). */
export const SESSION_VARS = ['DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'XDG_CURRENT_DESKTOP', 'XDG_SESSION_TYPE', 'XDG_SESSION_DESKTOP'];

export function servicePaths(e: Pick<ServiceEnv, 'platform' | 'home' | 'configHome'>): { file: string; logDir: string } {
  if (e.platform === 'darwin') {
    return { file: path.join(e.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`), logDir: path.join(e.home, 'Library', 'Logs', 'sundial') };
  }
  return { file: path.join(e.configHome, 'systemd', 'user', SYSTEMD_UNIT), logDir: '' };
}

export function supported(platform: NodeJS.Platform): boolean {
  return platform === 'linux' || platform === 'darwin';
}

export function installPlan(e: ServiceEnv, importVars: string[] = []): Plan {
  const { file, logDir } = servicePaths(e);
  if (e.platform === 'darwin') {
    const domain = `gui/${e.uid}`;
    return {
      file,
      content: launchdPlist({ label: LAUNCHD_LABEL, node: e.node, entry: e.entry, args: e.daemonArgs, path: e.path, logDir }),
      dirs: [path.dirname(file), logDir],
      // bootout first (ignoring "not loaded") so a reinstall picks up the new plist.
      commands: [
        ['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`],
        ['launchctl', 'bootstrap', domain, file],
      ],
      logs: logDir,
    };
  }
  return {
    file,
    content: systemdUnit({ node: e.node, entry: e.entry, args: e.daemonArgs, path: e.path, headless: e.headless }),
    dirs: [path.dirname(file)],
    commands: [
      ...(importVars.length ? [['systemctl', '--user', 'import-environment', ...importVars]] : []),
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', SYSTEMD_UNIT],
    ],
    logs: `journalctl --user -u ${SYSTEMD_UNIT}`,
  };
}

export function uninstallPlan(e: ServiceEnv): { file: string; commands: string[][] } {
  const { file } = servicePaths(e);
  if (e.platform === 'darwin') return { file, commands: [['launchctl', 'bootout', `gui/${e.uid}/${LAUNCHD_LABEL}`]] };
  return { file, commands: [['systemctl', '--user', 'disable', '--now', SYSTEMD_UNIT]] };
}

/** After the file is removed (systemd forgets the unit only on reload). */
export const afterUninstall = (e: Pick<ServiceEnv, 'platform'>): string[][] => (e.platform === 'darwin' ? [] : [['systemctl', '--user', 'daemon-reload']]);

/**
 * Which session variables to import into the user manager: those this shell has and the manager
 * lacks. `missing` is true when neither has a display, so the watchers would have nothing to watch.
 */
export function sessionImport(manager: Record<string, string>, shell: NodeJS.ProcessEnv): { vars: string[]; missing: boolean } {
  const vars = SESSION_VARS.filter((k) => shell[k] && !manager[k]);
  const has = (env: Record<string, string | undefined>) => Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  return { vars, missing: !has(manager) && !has(shell) };
}

/** `KEY=value` lines (systemctl show-environment) → object. */
export function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Shell-quoted command line, for printing. */
export const shellLine = (argv: string[]): string => argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
