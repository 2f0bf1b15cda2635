import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BusCredentials } from '../bus/credentials.js';
import type { Config, PluginConfig } from '../config/config.js';
import { StartupError } from '../model/errors.js';
import type { Logger } from '../log.js';
import { PLUGIN_ENV } from '../plugin/client.js';
import { processChild } from '../supervisor/process-child.js';
import type { ChildSpec } from '../supervisor/types.js';

export interface PluginHostDeps {
  bus: BusCredentials;
  dataDir: string;
  testing: boolean;
  /** The REST API's address, known once the HTTP child listens (plugins start after it). */
  http: () => { host: string; port: number | null };
  log: Logger;
  /** PATH to discover on (default: the daemon's). */
  path?: string;
}

/** Executable names discovered on PATH with `plugins_discover`. */
export const DISCOVER = /^(aw-watcher-|sundial-watcher-)[A-Za-z0-9._-]+$/;
/** ActivityWatch's own watchers duplicate our built-in ones: not discovered while those run. */
const BUILT_IN_EQUIVALENTS = new Set(['aw-watcher-afk', 'aw-watcher-window']);

/** The package root, from src/ (tests) or dist/ alike. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Plugins shipped with Sundial: enabled by name alone, run with this Node. */
export const BUNDLED: Record<string, () => { command: string; args: string[] }> = {
  media: () => ({ command: process.execPath, args: [path.join(packageRoot(), 'dist', 'plugins', 'media', 'main.js')] }),
};

/** Executables on PATH matching DISCOVER, first occurrence of each name wins (as the shell's lookup). */
export function discoverPlugins(pathVar: string, skip: Set<string>): PluginConfig[] {
  const found = new Map<string, string>();
  for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (!DISCOVER.test(n) || found.has(n) || skip.has(n)) continue;
      const file = path.join(dir, n);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) found.set(n, file);
      } catch {
        /* not executable */
      }
    }
  }
  return [...found].map(([name, command]) => ({ name, command }));
}

const isActivityWatch = (p: PluginConfig): boolean => /^aw-/.test(path.basename(p.command ?? p.name));

/**
 * One supervised child process per enabled plugin (`plugin-<name>`), configured or discovered:
 * restarted with backoff, output logged at info under its name, stoppable over the control
 * endpoint. Sundial plugins find the bus in their environment (PLUGIN_ENV); ActivityWatch watchers
 * get our REST address as their `--host` / `--port` flags.
 */
export function pluginChildren(config: Pick<Config, 'plugins' | 'plugins_discover' | 'watchers'>, deps: PluginHostDeps): ChildSpec[] {
  const configured = new Map<string, PluginConfig>();
  // Types and names are checked by the config schema; what needs the list as a whole is here.
  for (const [i, p] of config.plugins.entries()) {
    if (p.command === undefined && !BUNDLED[p.name]) throw new StartupError(`config: plugins[${i}] ('${p.name}') needs a command`);
    if (configured.has(p.name)) throw new StartupError(`config: plugin '${p.name}' is listed twice`);
    configured.set(p.name, p);
  }
  const plugins = [...configured.values()];
  if (config.plugins_discover) {
    const skip = new Set([...configured.keys(), ...(config.watchers.enabled ? BUILT_IN_EQUIVALENTS : [])]);
    const found = discoverPlugins(deps.path ?? process.env.PATH ?? '', skip);
    if (found.length) deps.log.info({ plugins: found.map((f) => f.name) }, 'plugins discovered on PATH');
    plugins.push(...found);
  }
  return plugins.filter((p) => p.enabled !== false).map((p) => pluginChild(p, deps));
}

function pluginChild(p: PluginConfig, deps: PluginHostDeps): ChildSpec {
  const bundled = p.command === undefined ? BUNDLED[p.name]!() : null;
  const name = `plugin-${p.name}`;
  const address = () => {
    const { host, port } = deps.http();
    // A server on every interface is reached on loopback.
    return { host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port };
  };
  const env = (): NodeJS.ProcessEnv => {
    const { host, port } = address();
    return {
      [PLUGIN_ENV.busUrl]: deps.bus.url,
      [PLUGIN_ENV.busUser]: deps.bus.user ?? '',
      [PLUGIN_ENV.busPass]: deps.bus.pass ?? '',
      [PLUGIN_ENV.dataDir]: deps.dataDir,
      [PLUGIN_ENV.testing]: deps.testing ? '1' : '0',
      ...(port ? { [PLUGIN_ENV.apiUrl]: `http://${host.includes(':') ? `[${host}]` : host}:${port}` } : {}),
      ...p.env,
    };
  };
  const args = (): string[] => {
    const base = [...(bundled?.args ?? []), ...(p.args ?? [])];
    const { host, port } = address();
    return isActivityWatch(p) && port ? [...base, '--host', host, '--port', String(port)] : base;
  };
  const spec: ChildSpec = {
    name,
    restart: 'permanent',
    shutdownTimeoutMs: 5_000,
    // Arguments and environment are made at each start: the HTTP port is known only then.
    start: (ctx) => processChild({ name, command: bundled?.command ?? p.command!, args: args(), env: env(), outputLevel: 'info' }).start(ctx),
  };
  return spec;
}
