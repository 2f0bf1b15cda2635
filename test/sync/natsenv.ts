import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../src/bus/credentials.js';
import { findNatsServer } from '../../src/bus/nats-server.js';

/** A real nats-server with JetStream on loopback, owned by the test. */
export interface NatsNode {
  name: string;
  port: number;
  url: string;
  storeDir: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function node(name: string, port: number, storeDir: string, extra: string[]): NatsNode {
  let proc: ChildProcess | null = null;
  const url = `nats://127.0.0.1:${port}`;
  return {
    name,
    port,
    url,
    storeDir,
    async start() {
      fs.mkdirSync(storeDir, { recursive: true });
      proc = spawn(findNatsServer()!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-n', name, ...extra], { stdio: 'ignore' });
      const until = Date.now() + 10_000;
      while (!(await portOpen(port))) {
        if (Date.now() > until) throw new Error(`nats-server ${name} did not start`);
        await new Promise((r) => setTimeout(r, 30));
      }
    },
    async kill() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
  };
}

/** One server. */
export async function startNats(dir: string): Promise<NatsNode> {
  const n = node('sync-1', await freePort(), path.join(dir, 'js'), []);
  await n.start();
  return n;
}

/** Three servers in one cluster (routes between them), JetStream clustered. */
export async function startCluster(dir: string): Promise<NatsNode[]> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const routes = [await freePort(), await freePort(), await freePort()];
  const routeUrls = routes.map((p) => `nats-route://127.0.0.1:${p}`).join(',');
  const nodes = ports.map((p, i) =>
    node(`sync-c${i + 1}`, p, path.join(dir, `js${i + 1}`), ['--cluster_name', 'sundial-sync', '--cluster', `nats://127.0.0.1:${routes[i]}`, '--routes', routeUrls]),
  );
  await Promise.all(nodes.map((n) => n.start()));
  return nodes;
}

/** Every byte under `dir` (the JetStream store), for a plaintext scan. */
export function storeBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else parts.push(fs.readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}
