import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import { parseTimestamp } from '../../src/model/time.js';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { busOf, expectedEvents, heartbeatSeries, link, produce, runCli, spawnDaemon, waitFor, waitForHttp } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = parseTimestamp('2024-06-01T08:00:00Z');
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exited = (p: ReturnType<typeof spawnDaemon>) =>
  new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c))));

function stored(dataDir: string, bucket: string) {
  const r = new Reader(openReadonly(path.join(dataDir, 'sqlite-testing.db')));
  try {
    const b = r.bucket(bucket);
    return b ? r.events(b.row).reverse().map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data })) : [];
  } finally {
    r.db.close();
  }
}

async function started(dataDir: string) {
  const port = await freePort();
  const p = spawnDaemon(dataDir, port);
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  cleanups.push(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await exited(p);
    }
  });
  await waitForHttp(port).catch((e) => {
    throw new Error(`${e.message}\n${err}`);
  });
  return { p, port };
}

describe('the daemon as a process', () => {
  it('keeps every acknowledged heartbeat across kill -9 of the daemon', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const first = await started(tmp.dir);
    const status = await runCli(['status', '--json', '--testing', '--port', String(first.port), '--data-dir', tmp.dir]);
    const natsPid = (JSON.parse(status.stdout).children as { name: string; pid: number }[]).find((c) => c.name === 'bus')!.pid;
    const l = link(busOf(tmp.dir));
    expect(await l.request<Reply>(SUBJECTS.createBucket, { bucket: 'k9', type: 't', client: 'c', hostname: 'h' })).toMatchObject({ ok: true });
    let dead = false;
    const work = produce(l, 'k9', heartbeatSeries(100_000, T0, 'k9', 4), 2, () => dead);
    await waitFor('some heartbeats stored', () => stored(tmp.dir, 'k9').length > 20);
    first.p.kill('SIGKILL');
    await exited(first.p);
    dead = true;
    const acked = await work;
    await l.close();
    expect(acked.length).toBeGreaterThan(80);
    const second = await started(tmp.dir);
    // The orphaned nats-server of the killed daemon was ended by the new one.
    expect(alive(natsPid)).toBe(false);
    const want = expectedEvents(acked, 2e6);
    // Whatever was acknowledged is there (queued ones are delivered after the restart).
    await waitFor('acked heartbeats delivered', () => stored(tmp.dir, 'k9').length >= want.length);
    const got = stored(tmp.dir, 'k9');
    expect(got.slice(0, want.length - 1)).toEqual(want.slice(0, -1));
    // The last acked heartbeat is covered by the last stored event of its run (a heartbeat that was
    // queued but not acknowledged may have extended it further).
    const lastWant = want.at(-1)!, lastGot = got[want.length - 1]!;
    expect(lastGot.timestamp).toBe(lastWant.timestamp);
    expect(lastGot.duration).toBeGreaterThanOrEqual(lastWant.duration);
    second.p.kill('SIGTERM');
    expect(await exited(second.p)).toBe(0);
  });

  it('shuts down gracefully on SIGTERM: exit 0, nats-server gone, files private', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { p, port } = await started(tmp.dir);
    const s = await runCli(['status', '--json', '--testing', '--port', String(port), '--data-dir', tmp.dir]);
    expect(s.code).toBe(0);
    const st = JSON.parse(s.stdout);
    expect(st.children.map((c: { name: string; state: string }) => `${c.name}:${c.state}`)).toEqual(
      expect.arrayContaining(['bus:running', 'storage:running', 'queue:running', 'http:running']),
    );
    const natsPid = st.children.find((c: { name: string }) => c.name === 'bus').pid;
    for (const f of ['sqlite-testing.db', 'queue-testing.db', 'control-token-testing', 'bus-testing/bus.json', 'bus-testing/nats.conf']) {
      expect((fs.statSync(path.join(tmp.dir, f)).mode & 0o077).toString(8)).toBe('0');
    }
    expect(fs.statSync(tmp.dir).mode & 0o077).toBe(0);
    p.kill('SIGTERM');
    expect(await exited(p)).toBe(0);
    expect(alive(natsPid)).toBe(false);
  });

  it('control endpoint: token required, Host header checked, children restartable from the CLI', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { port } = await started(tmp.dir);
    const url = `http://127.0.0.1:${port}/api/control/status`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const token = fs.readFileSync(path.join(tmp.dir, 'control-token-testing'), 'utf8').trim();
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ testing: true, database: path.join(tmp.dir, 'sqlite-testing.db'), bus: { mode: 'embedded', connected: true } });
    // A page on another origin cannot reach it (DNS rebinding: the Host header names a foreign host).
    const http = await import('node:http');
    const foreign = await new Promise<number>((resolve) =>
      http.get({ host: '127.0.0.1', port, path: '/api/control/status', headers: { host: 'evil.example:80', authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }),
    );
    expect(foreign).toBe(400);
    const flags = ['--testing', '--port', String(port), '--data-dir', tmp.dir];
    const before = JSON.parse((await runCli(['status', '--json', ...flags])).stdout).children.find((c: { name: string }) => c.name === 'queue');
    const restartedAt = Date.now();
    const r = await runCli(['restart', 'queue', ...flags]);
    expect(r).toMatchObject({ code: 0 });
    const after = JSON.parse((await runCli(['status', '--json', ...flags])).stdout).children.find((c: { name: string }) => c.name === 'queue');
    expect(after.state).toBe('running');
    expect(before.uptimeMs).toBeGreaterThan(0);
    expect(after.uptimeMs).toBeLessThanOrEqual(Date.now() - restartedAt);
    const bad = await runCli(['restart', 'nope', ...flags]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no child named 'nope'/);
    const human = await runCli(['status', ...flags]);
    expect(human.stdout).toMatch(/queue\s+running/);
  });

  it('exits non-zero with one clear line when nats-server is missing', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    fs.writeFileSync(path.join(tmp.dir, 'config-testing.json'), JSON.stringify({ bus: { nats_server: '/nonexistent/nats-server' } }));
    const r = await runCli(['start', '--testing', '--port', String(await freePort()), '--data-dir', tmp.dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nats-server not found: install it/);
  });

  it('exits with one clear line when the HTTP port is taken', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const net = await import('node:net');
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    const r = await runCli(['start', '--testing', '--port', String(port), '--data-dir', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/already in use/);
  });

  it('refuses a config file with a wrong key, naming it', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    fs.writeFileSync(path.join(tmp.dir, 'config-testing.json'), JSON.stringify({ server: { prot: 1 } }));
    const r = await runCli(['start', '--testing', '--data-dir', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown key 'server.prot'/);
  });
});
