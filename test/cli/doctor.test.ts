import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { BIN, spawnRunning } from '../helpers/daemon.js';
import { startX, type XServer } from '../platform/xenv.js';
import { perTest } from '../helpers/tmp.js';

const { cleanups, tmp } = perTest();

interface Finding {
  level: 'ok' | 'warn' | 'fail';
  what: string;
  detail: string;
  fix?: string;
}

function doctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; findings: Finding[]; stdout: string }> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    delete base.DISPLAY;
    delete base.WAYLAND_DISPLAY;
    const p = spawn(process.execPath, [BIN, 'doctor', '--json', '--testing', ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.on('exit', (code) => resolve({ code: code ?? -1, findings: JSON.parse(stdout) as Finding[], stdout }));
  });
}
const find = (fs_: Finding[], what: string) => fs_.find((f) => f.what === what)!;

describe('sundial doctor', () => {
  it('reports a healthy setup as ok, and names the probe it would use with a real X server', async () => {
    const dir = tmp();
    const port = await freePort();
    let x: XServer;
    try {
      x = await startX({ wm: false });
    } catch (err) {
      throw new Error(`Xvfb needed for this test: ${(err as Error).message}`);
    }
    cleanups.push(() => x.stop());
    const r = await doctor(['--data-dir', path.join(dir, 'data'), '--port', String(port)], { DISPLAY: x.display });
    expect(find(r.findings, 'nats-server').level).toBe('ok');
    expect(find(r.findings, 'display')).toMatchObject({ level: 'ok' });
    expect(find(r.findings, 'display').detail).toContain(`x11 probe: X11 session (DISPLAY=${x.display}`);
    expect(find(r.findings, 'port')).toMatchObject({ level: 'ok', detail: `127.0.0.1:${port} is free` });
    expect(find(r.findings, 'data dir').level).toBe('ok');
    expect(find(r.findings, 'database').level).toBe('ok');
    expect(r.code).toBe(0);
  });

  it('warns without a display, fails on a taken port, a missing nats-server, a damaged database and an open data dir; exit 1', async () => {
    const dir = tmp();
    fs.chmodSync(dir, 0o755);
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    fs.writeFileSync(path.join(dir, 'config-testing.json'), JSON.stringify({ bus: { nats_server: '/nonexistent/nats-server' } }));
    fs.writeFileSync(path.join(dir, 'sqlite-testing.db'), 'SQLite format 3\0' + 'garbage'.repeat(200));
    const r = await doctor(['--data-dir', dir, '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(find(r.findings, 'display')).toMatchObject({ level: 'warn', detail: 'no probe: no graphical session (neither WAYLAND_DISPLAY nor DISPLAY is set)' });
    expect(find(r.findings, 'port')).toMatchObject({ level: 'fail', fix: 'stop it, or set server.port / --port' });
    expect(find(r.findings, 'nats-server')).toMatchObject({ level: 'fail', detail: 'not found at /nonexistent/nats-server (bus.nats_server)' });
    expect(find(r.findings, 'database').level).toBe('fail');
    expect(find(r.findings, 'database').fix).toMatch(/move .* aside/);
    expect(find(r.findings, 'data dir')).toMatchObject({ level: 'warn', fix: `chmod 700 ${dir}` });
    expect(find(r.findings, 'disk').level).toBe('ok');
    const low = await doctor(['--data-dir', dir, '--min-free-mb', '999999999']);
    expect(find(low.findings, 'disk').level).toBe('fail');
  });

  it('finds the running daemon from the data dir and checks that it answers', async () => {
    const dir = tmp();
    const { p, port } = await spawnRunning(dir, cleanups);
    const r = await doctor(['--data-dir', dir]);
    expect(find(r.findings, 'port')).toMatchObject({ level: 'ok' });
    expect(find(r.findings, 'port').detail).toMatch(new RegExp(`the daemon \\(pid ${p.pid}\\) answers on 127.0.0.1:${port}`));
    expect(find(r.findings, 'database').level).toBe('ok');
    expect(find(r.findings, 'data dir')).toMatchObject({ level: 'ok' });
    // Human output: one line per check, fixes indented under warnings.
    const human = await new Promise<string>((resolve) => {
      const q = spawn(process.execPath, [BIN, 'doctor', '--testing', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      q.stdout.on('data', (d) => (out += d));
      q.on('exit', () => resolve(out));
    });
    expect(human).toMatch(/^ok {4}port/m);
  });
});
