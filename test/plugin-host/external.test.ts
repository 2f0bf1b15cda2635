import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonPaths } from '../../src/config/paths.js';
import type { Daemon } from '../../src/daemon.js';
import { readToken } from '../../src/http/control/token.js';
import { discoverPlugins, pluginChildren } from '../../src/plugin-host/children.js';
import { silentLogger } from '../../src/log.js';
import { defaultConfig, parseConfig } from '../../src/config/config.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// A stand-in for an ActivityWatch watcher: takes --host/--port, posts heartbeats over REST.
const FAKE_WATCHER = `#!/usr/bin/env node
const args = process.argv.slice(2);
const get = (f) => { const i = args.indexOf(f); return i >= 0 ? args[i + 1] : undefined; };
const base = 'http://' + get('--host') + ':' + get('--port') + '/api/0';
const bucket = 'aw-watcher-test_h';
const post = (p, body) => fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
console.log('aw-watcher-test ' + process.pid + ' sending to ' + base);
console.error('aw-watcher-test: a line on stderr');
(async () => {
  await post('/buckets/' + bucket, { client: 'aw-watcher-test', type: 'test', hostname: 'h' });
  for (;;) {
    await post('/buckets/' + bucket + '/heartbeat?pulsetime=2', { timestamp: new Date().toISOString(), duration: 0, data: { pid: process.pid } }).catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
  }
})();
`;

let daemon: Daemon;
let tmp: ReturnType<typeof tempDir>;
let bin: string;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  tmp = tempDir();
  bin = path.join(tmp.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'aw-watcher-test'), FAKE_WATCHER, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'aw-watcher-not-executable'), FAKE_WATCHER, { mode: 0o644 });
  fs.writeFileSync(path.join(bin, 'some-other-tool'), FAKE_WATCHER, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'aw-watcher-window'), FAKE_WATCHER, { mode: 0o755 });
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  daemon = await startInProcess(
    path.join(tmp.dir, 'data'),
    (c) => {
      c.plugins_discover = true;
      c.watchers.enabled = true; // no display here: the built-in watchers wait; aw-watcher-window is not discovered
      delete process.env.DISPLAY;
    },
    { log, restart: { intensity: { maxRestarts: 10, withinMs: 60_000 }, backoff: { initialMs: 100, maxMs: 500, jitter: 0.1 } } },
  );
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

type Ev = { timestamp: string; data: { pid: number } };
const events = async (): Promise<Ev[]> => {
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/0/buckets/aw-watcher-test_h/events?limit=-1`);
  return r.ok ? ((await r.json()) as Ev[]) : [];
};
const child = () => daemon.supervisor.status().find((c) => c.name === 'plugin-aw-watcher-test');
const control = async (action: string) => {
  const token = readToken(daemonPaths({ dataDir: path.join(tmp.dir, 'data'), testing: true }).token);
  const r = await fetch(`http://127.0.0.1:${daemon.port}/api/control/children/plugin-aw-watcher-test/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervised external watchers', () => {
  it('discovers only executables named aw-watcher-* / sundial-watcher-* on PATH', () => {
    expect(discoverPlugins(bin, new Set()).map((p) => p.name)).toEqual(['aw-watcher-test', 'aw-watcher-window']);
    expect(daemon.supervisor.status().filter((c) => c.name.startsWith('plugin-')).map((c) => c.name)).toEqual(['plugin-aw-watcher-test']);
  });

  it('runs the discovered watcher with our REST address; kill -9 → restarted; stop / start over control; its output in our log', async () => {
    const first = await waitFor('running', () => child()?.state === 'running' && (child()!.pid ?? undefined));
    await waitFor('its heartbeats stored', async () => (await events()).some((e) => e.data.pid === first));

    process.kill(first, 'SIGKILL');
    const second = await waitFor('restarted', () => child()?.state === 'running' && child()!.pid !== first && (child()!.pid ?? undefined));
    expect(child()!.restarts).toBeGreaterThanOrEqual(1);
    await waitFor('heartbeats from the new process', async () => (await events()).some((e) => e.data.pid === second));

    await control('stop');
    expect(child()!.state).toBe('stopped');
    await waitFor('process gone', () => !alive(second));
    await control('start');
    const third = await waitFor('started again', () => child()?.state === 'running' && (child()!.pid ?? undefined));
    expect(third).not.toBe(second);
    await waitFor('heartbeats from the third process', async () => (await events()).some((e) => e.data.pid === third));

    const ours = lines.filter((l) => l.child === 'plugin-aw-watcher-test');
    expect(ours.some((l) => l.stream === 'stdout' && String(l.msg).startsWith(`aw-watcher-test ${first} sending to http://127.0.0.1:${daemon.port}/api/0`))).toBe(true);
    expect(ours.some((l) => l.stream === 'stderr' && l.msg === 'aw-watcher-test: a line on stderr')).toBe(true);
    const st = (await (await fetch(`http://127.0.0.1:${daemon.port}/api/control/status`, { headers: { authorization: `Bearer ${readToken(daemonPaths({ dataDir: path.join(tmp.dir, 'data'), testing: true }).token)}` } })).json()) as { children: { name: string; pid: number }[] };
    expect(st.children.find((c) => c.name === 'plugin-aw-watcher-test')!.pid).toBe(third);
  });

  it('refuses a bad plugins entry with a message naming it', () => {
    const deps = { bus: { url: 'nats://127.0.0.1:1' }, dataDir: tmp.dir, testing: true, log: silentLogger(), http: () => ({ host: '127.0.0.1', port: 1 }) };
    const cfg = (plugins: unknown[]) => ({ ...defaultConfig(true), plugins } as never);
    expect(() => parseConfig({ plugins: [{ name: 'x y', command: 'a' }] }, true, 'config.toml')).toThrow(/plugins\.0\.name/);
    expect(() => parseConfig({ plugins: [{ name: 'x', command: 'a', args: [1] }] }, true, 'config.toml')).toThrow(/plugins\.0\.args/);
    expect(() => pluginChildren(cfg([{ name: 'x' }]), deps)).toThrow(/needs a command/);
    expect(() => pluginChildren(cfg([{ name: 'x', command: 'a' }, { name: 'x', command: 'b' }]), deps)).toThrow(/listed twice/);
    expect(pluginChildren(cfg([{ name: 'x', command: 'a', enabled: false }, { name: 'media' }]), deps).map((c) => c.name)).toEqual(['plugin-media']);
  });
});
