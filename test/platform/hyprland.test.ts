import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProbe } from '../../src/platform/index.js';
import { HyprlandProbe, hyprlandWindow } from '../../src/platform/linux/wayland/hyprland.js';
import { SwayidleSource } from '../../src/platform/linux/wayland/idle.js';
import { ProbeUnavailableError } from '../../src/platform/types.js';
import { sleep, waitFor } from './xenv.js';

/**
 * A stand-in Hyprland (it cannot run here) speaking its real socket protocols: `.socket.sock`
 * answers one request per connection and closes; `.socket2.sock` streams "EVENT>>DATA" lines.
 */
class FakeHyprland {
  active: Record<string, unknown> = {};
  requests: string[] = [];
  private subscribers = new Set<net.Socket>();
  private servers: net.Server[] = [];
  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const req = net.createServer((s) => {
      let cmd = '';
      s.on('data', (d) => (cmd += d.toString()));
      s.on('end', () => {
        this.requests.push(cmd);
        s.end(cmd === 'j/activewindow' ? JSON.stringify(this.active) : 'unknown request');
      });
    });
    const ev = net.createServer((s) => {
      this.subscribers.add(s);
      s.on('close', () => this.subscribers.delete(s));
      s.on('error', () => {});
    });
    await Promise.all([
      new Promise<void>((r) => req.listen(path.join(this.dir, '.socket.sock'), r)),
      new Promise<void>((r) => ev.listen(path.join(this.dir, '.socket2.sock'), r)),
    ]);
    this.servers = [req, ev];
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  emit(...lines: string[]): void {
    for (const s of this.subscribers) s.write(lines.map((l) => l + '\n').join(''));
  }

  async stop(): Promise<void> {
    for (const s of this.subscribers) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise((r) => srv.close(r))));
    fs.rmSync(path.join(this.dir, '.socket.sock'), { force: true });
    fs.rmSync(path.join(this.dir, '.socket2.sock'), { force: true });
  }
}

const win = (address: string, cls: string, title: string, pid: number) => ({ address: `0x${address}`, mapped: true, class: cls, initialClass: cls, title, pid, xwayland: false });

describe('Hyprland probe against a server speaking its socket protocols', () => {
  let runtime: string;
  let hypr: FakeHyprland;
  let probe: HyprlandProbe;
  const SIG = 'v0.41.2_1718000000_abcdef';

  beforeAll(async () => {
    runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-hypr-'));
    hypr = new FakeHyprland(path.join(runtime, 'hypr', SIG));
    hypr.active = win('55d1a0', 'kitty', '~/src — zsh', 4242);
    await hypr.start();
  });
  afterAll(async () => {
    probe?.close();
    await hypr?.stop();
    fs.rmSync(runtime, { recursive: true, force: true });
  });

  const env = () => ({ XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-1', HYPRLAND_INSTANCE_SIGNATURE: SIG, XDG_RUNTIME_DIR: runtime, DISPLAY: ':1' });

  it('activewindow JSON → window; "{}" → no window', () => {
    expect(hyprlandWindow(win('1', 'firefox', 'Mozilla Firefox', 9))).toEqual({ app: 'firefox', title: 'Mozilla Firefox', pid: 9 });
    expect(hyprlandWindow({ address: '0x2', class: '', initialClass: 'org.Thing', title: 't', pid: -1 })).toEqual({ app: 'org.Thing', title: 't' });
    expect(hyprlandWindow({})).toBeNull();
  });

  it('openProbe picks Hyprland and reads j/activewindow', async () => {
    probe = (await openProbe({ where: { platform: 'linux', env: env() } })) as HyprlandProbe;
    expect(probe.kind).toBe('hyprland');
    expect(await probe.activeWindow()).toEqual({ app: 'kitty', title: '~/src — zsh', pid: 4242 });
    expect(hypr.requests).toEqual(['j/activewindow']);
    await waitFor(() => hypr.subscriberCount === 1, 'the event socket subscription');
  });

  it('events update the window at once; polls between events ask nothing', async () => {
    let changes = 0;
    const off = probe.onChange(() => changes++);
    const asked = hypr.requests.length;
    for (let i = 0; i < 5; i++) await probe.activeWindow();
    expect(hypr.requests.length).toBe(asked);

    hypr.active = win('7f00aa', 'firefox', 'Docs, notes, and more — Mozilla Firefox', 777);
    hypr.emit('activewindow>>firefox,Docs, notes, and more — Mozilla Firefox', 'activewindowv2>>7f00aa');
    await waitFor(() => changes >= 1, 'a change');
    // The title keeps its commas; the re-read adds the pid.
    expect((await probe.activeWindow())?.title).toBe('Docs, notes, and more — Mozilla Firefox');
    await waitFor(async () => (await probe.activeWindow())?.pid === 777, 'pid from the re-read');

    const before = changes;
    hypr.active = win('7f00aa', 'firefox', 'Other tab — Mozilla Firefox', 777);
    hypr.emit('windowtitle>>7f00aa', 'windowtitlev2>>7f00aa,Other tab — Mozilla Firefox');
    await waitFor(() => changes > before, 'a title change');
    expect(await probe.activeWindow()).toEqual({ app: 'firefox', title: 'Other tab — Mozilla Firefox', pid: 777 });

    // Unrelated events are ignored.
    const quiet = changes;
    const n = hypr.requests.length;
    hypr.emit('monitoradded>>DP-2', 'openlayer>>waybar');
    await sleep(200);
    expect(changes).toBe(quiet);
    expect(hypr.requests.length).toBe(n);

    hypr.active = {};
    hypr.emit('activewindow>>,', 'activewindowv2>>');
    await waitFor(async () => (await probe.activeWindow()) === null, 'no window');
    off();
  });

  it('the event socket closing (Hyprland restarting) clears the cache; the probe resubscribes', async () => {
    hypr.active = win('1', 'foot', 'after restart', 5);
    await hypr.stop();
    await waitFor(() => !probe.subscribed, 'the event socket to close');
    await expect(probe.activeWindow()).rejects.toThrow(ProbeUnavailableError);
    await hypr.start();
    await waitFor(async () => (await probe.activeWindow().catch(() => null))?.title === 'after restart', 'reading the restarted compositor', 10_000);
    await waitFor(async () => {
      await probe.activeWindow();
      return hypr.subscriberCount === 1;
    }, 'resubscribed', 10_000);
  });

  it('idle and lock come from its idle source (swayidle on Hyprland)', async () => {
    let t = 1_000_000;
    const idle = new SwayidleSource({ env: {}, stepSeconds: 5, spawn: false, now: () => t });
    const p = await HyprlandProbe.open({ env: env(), idle: () => idle });
    idle.line('idle');
    t += 1_000;
    expect(await p.idleSeconds()).toBe(6);
    idle.line('lock');
    expect(await p.locked()).toBe(true);
    p.close();
    await expect(p.idleSeconds()).rejects.toThrow(ProbeUnavailableError);
  });

  it('no sockets for the signature: unavailable', async () => {
    await expect(openProbe({ where: { platform: 'linux', env: { ...env(), HYPRLAND_INSTANCE_SIGNATURE: 'gone' } } })).rejects.toThrow(/no Hyprland socket/);
  });
});
