import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, readCredentials, type BusCredentials } from '../../src/bus/credentials.js';
import { createBusLink, type BusLink } from '../../src/bus/link.js';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { daemonPaths } from '../../src/config/paths.js';
import { buildDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { mergeHeartbeat } from '../../src/model/heartbeat.js';
import type { Event } from '../../src/model/event.js';
import { formatTimestamp } from '../../src/model/time.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'sundial.js');

/** A daemon in this process (real nats-server, real SQLite, real HTTP on port 0). */
export async function startInProcess(dataDir: string, tweak: (c: Config) => void = () => {}, extra: Partial<DaemonOptions> = {}): Promise<Daemon> {
  const config = defaultConfig(true);
  config.server.port = 0;
  config.watchers.enabled = false;
  tweak(config);
  const paths = daemonPaths({ dataDir, testing: true });
  const d = await buildDaemon({ config, paths, testing: true, log: silentLogger(), ...extra });
  await d.start();
  return d;
}

/**
 * `sundial start` as a real OS process, up: its HTTP port answers and its runtime file is written.
 * Stopped with SIGTERM by a cleanup registered in `cleanups`.
 */
export async function spawnRunning(dataDir: string, cleanups: (() => unknown)[]): Promise<{ p: ChildProcess; port: number }> {
  const port = await freePort();
  const p = spawnDaemon(dataDir, port);
  cleanups.push(async () => {
    if (p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.on('exit', r));
    }
  });
  await waitForHttp(port);
  await waitFor('runtime file', () => fs.existsSync(daemonPaths({ dataDir, testing: true }).runtime));
  return { p, port };
}

/** `sundial start` as a real OS process. */
export function spawnDaemon(dataDir: string, port: number, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [BIN, 'start', '--testing', '--port', String(port), '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitForHttp(port: number): Promise<void> {
  await waitFor(`http on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/api/0/info`)).ok);
}

export const busOf = (dataDir: string): BusCredentials => readCredentials(daemonPaths({ dataDir, testing: true }).busDir);

export function link(creds: BusCredentials, name = 'test-producer'): BusLink {
  return createBusLink(creds, { name, log: silentLogger() });
}

/**
 * A producer that sends heartbeats in order and retries each until it is acknowledged
 * (a retried heartbeat merges into itself, so a lost reply never duplicates anything).
 * Returns the heartbeats that were acknowledged.
 */
export async function produce(l: BusLink, bucket: string, heartbeats: Event[], pulsetimeS: number, stop?: () => boolean): Promise<Event[]> {
  const acked: Event[] = [];
  for (const hb of heartbeats) {
    if (stop?.()) break;
    for (;;) {
      try {
        const r = await l.request<Reply>(SUBJECTS.heartbeat, { bucket, pulsetime: pulsetimeS, event: { timestamp: formatTimestamp(hb.timestamp), duration: hb.duration / 1e6, data: hb.data } }, 2_000);
        if (r.ok) break;
        await new Promise((res) => setTimeout(res, 20));
      } catch {
        if (stop?.()) return acked;
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    acked.push(hb);
  }
  return acked;
}

/** What the merge rule makes of heartbeats applied in order: the expected bucket content, oldest first. */
export function expectedEvents(heartbeats: Event[], pulsetime: number): { timestamp: number; duration: number; data: unknown }[] {
  const out: Event[] = [];
  for (const hb of heartbeats) {
    const last = out.length ? out[out.length - 1]! : null;
    const merged = mergeHeartbeat(last, hb, pulsetime);
    if (merged) out[out.length - 1] = merged;
    else out.push({ ...hb });
  }
  return out.map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data }));
}

/** n heartbeats one second apart whose data changes every `run` beats. */
export function heartbeatSeries(n: number, start: number, label: string, run = 5): Event[] {
  return Array.from({ length: n }, (_, i) => ({ id: null, timestamp: start + i * 1_000_000, duration: 0, data: { app: label, n: Math.floor(i / run) } }));
}
