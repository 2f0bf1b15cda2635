import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProbe } from '../../src/platform/index.js';
import { BusHolder, LoginLock, sessionBusAddress } from '../../src/platform/linux/wayland/dbus.js';
import { DbusIdleSource, FREEDESKTOP_IDLE } from '../../src/platform/linux/wayland/dbus-idle.js';
import { FOCUSED_WINDOW_MISSING, gnomeWindow, type GnomeProbe } from '../../src/platform/linux/wayland/gnome.js';
import { SwayidleSource } from '../../src/platform/linux/wayland/idle.js';
import { kdeWindow, type KdeProbe } from '../../src/platform/linux/wayland/kde.js';
import { ProbeUnavailableError } from '../../src/platform/types.js';
import { startBus, TestService, variant, type PrivateBus } from './dbusenv.js';
import { sleep, waitFor } from './xenv.js';

const SESSION_PATH = '/org/freedesktop/login1/session/c2';

/** KWin's scripting API as far as our script uses it (Plasma 6 names, or Plasma 5 names). */
class Signal {
  private fns: Array<(...a: unknown[]) => void> = [];
  connect(f: (...a: unknown[]) => void): void {
    this.fns.push(f);
  }
  fire(...a: unknown[]): void {
    for (const f of [...this.fns]) f(...a);
  }
}
interface KWindow {
  caption: string;
  resourceClass: string;
  resourceName: string;
  pid: number;
  captionChanged: Signal;
  closed: Signal;
}
const kwindow = (caption: string, resourceClass: string, pid: number): KWindow => ({
  caption,
  resourceClass,
  resourceName: resourceClass.split('.').at(-1)!,
  pid,
  captionChanged: new Signal(),
  closed: new Signal(),
});

/**
 * A stand-in KWin on the session bus: org.kde.kwin.Scripting loadScript / unloadScript, the loaded
 * script's org.kde.kwin.Script.run, and running it for real (in a VM context) against a scripted
 * workspace whose callDBus sends real D-Bus calls.
 */
class FakeKWin {
  active: KWindow | null = null;
  readonly activated = new Signal();
  loaded = new Map<string, string>();
  unloaded: string[] = [];
  private next = 0;
  constructor(readonly svc: TestService, readonly plasma: 5 | 6) {
    svc.on('/Scripting org.kde.kwin.Scripting.loadScript', (m) => {
      const [file, plugin] = m.body as [string, string];
      const code = fs.readFileSync(file, 'utf8');
      const id = ++this.next;
      this.loaded.set(plugin, code);
      const objectPath = plasma === 6 ? `/Scripting/Script${id}` : `/${id}`;
      svc.on(`${objectPath} org.kde.kwin.Script.run`, () => {
        this.run(code);
        return { signature: '', body: [] };
      });
      return { signature: 'i', body: [id] };
    });
    svc.on('/Scripting org.kde.kwin.Scripting.unloadScript', (m) => {
      const [plugin] = m.body as [string];
      this.unloaded.push(plugin);
      return { signature: 'b', body: [this.loaded.delete(plugin)] };
    });
  }

  private run(code: string): void {
    const self = this;
    const workspace: Record<string, unknown> =
      this.plasma === 6
        ? { get activeWindow() { return self.active; }, windowActivated: this.activated }
        : { get activeClient() { return self.active; }, clientActivated: this.activated };
    const callDBus = (service: string, objectPath: string, iface: string, member: string, ...args: Array<string | number>) => {
      const signature = args.map((a) => (typeof a === 'number' ? 'i' : 's')).join('');
      void this.svc.call(service, objectPath, iface, member, signature, args).catch(() => {});
    };
    vm.runInNewContext(code, { workspace, callDBus, String, Number });
  }

  activate(w: KWindow | null): void {
    this.active = w;
    this.activated.fire(w);
  }
}

describe('KDE and GNOME probes against test-owned D-Bus services', () => {
  let session: PrivateBus;
  let system: PrivateBus;
  let login1: TestService;
  let locked = false;

  beforeAll(async () => {
    [session, system] = await Promise.all([startBus(), startBus()]);
    login1 = await TestService.connect(system.address, ['org.freedesktop.login1']);
    login1
      .on('/org/freedesktop/login1 org.freedesktop.login1.Manager.GetSession', (m) =>
        m.body[0] === 'c2' ? { signature: 'o', body: [SESSION_PATH] } : { error: 'org.freedesktop.login1.NoSuchSession', text: `no session ${m.body[0]}` },
      )
      .on(`${SESSION_PATH} org.freedesktop.DBus.Properties.Get`, (m) =>
        m.body[1] === 'LockedHint' ? { signature: 'v', body: [variant('b', locked)] } : { error: 'org.freedesktop.DBus.Error.UnknownProperty' },
      )
      .on('/org/freedesktop/login1/user/self org.freedesktop.DBus.Properties.Get', () => ({ signature: 'v', body: [variant('(so)', ['c2', SESSION_PATH])] }));
  });
  afterAll(async () => {
    login1?.close();
    await Promise.all([session?.stop(), system?.stop()]);
  });

  const env = (desktop: string, extra: Record<string, string> = {}) => ({
    XDG_SESSION_TYPE: 'wayland',
    WAYLAND_DISPLAY: 'wayland-0',
    XDG_CURRENT_DESKTOP: desktop,
    DISPLAY: ':1',
    DBUS_SESSION_BUS_ADDRESS: session.address,
    DBUS_SYSTEM_BUS_ADDRESS: system.address,
    XDG_SESSION_ID: 'c2',
    ...extra,
  });

  it('session bus address: DBUS_SESSION_BUS_ADDRESS, the systemd socket, or that instead of an abstract one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-rt-'));
    expect(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' })).toBe('unix:path=/run/user/1000/bus');
    expect(sessionBusAddress({ XDG_RUNTIME_DIR: dir })).toBe(`unix:path=${dir}/bus`);
    expect(sessionBusAddress({})).toBeNull();
    const abstract = 'unix:abstract=/tmp/dbus-Xyz,guid=0123';
    expect(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: abstract, XDG_RUNTIME_DIR: dir })).toBe(abstract);
    fs.writeFileSync(path.join(dir, 'bus'), '');
    expect(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: abstract, XDG_RUNTIME_DIR: dir })).toBe(`unix:path=${dir}/bus`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('login1 LockedHint: by XDG_SESSION_ID, or the user\'s graphical session', async () => {
    const bySession = new LoginLock(env('KDE'));
    const byUser = new LoginLock(env('KDE', { XDG_SESSION_ID: '' }));
    expect(await bySession.locked()).toBe(false);
    locked = true;
    expect(await bySession.locked()).toBe(true);
    expect(await byUser.locked()).toBe(true);
    locked = false;
    expect(await byUser.locked()).toBe(false);
    bySession.close();
    byUser.close();
    // No logind at all (no system bus): not locked, no error.
    const none = new LoginLock({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    expect(await none.locked()).toBe(false);
  });

  describe.each([6, 5] as const)('KDE Plasma %i (KWin script)', (plasma) => {
    let kwin: FakeKWin;
    let svc: TestService;
    let probe: KdeProbe;
    const konsole = kwindow('~ : zsh — Konsole', 'org.kde.konsole', 77);
    const dolphin = kwindow('Home — Dolphin', 'org.kde.dolphin', 88);

    beforeAll(async () => {
      svc = await TestService.connect(session.address, ['org.kde.KWin']);
      kwin = new FakeKWin(svc, plasma);
      kwin.active = konsole;
    });
    afterAll(() => svc?.close());

    it('loads the script over org.kde.kwin.Scripting; the script reports the active window back to our bus name', async () => {
      probe = (await openProbe({ where: { platform: 'linux', env: env('KDE') } })) as KdeProbe;
      expect(probe.kind).toBe('kde');
      expect(probe.reason).toMatch(/XDG_CURRENT_DESKTOP=KDE in a Wayland session/);
      expect(await probe.activeWindow()).toEqual({ app: 'org.kde.konsole', title: '~ : zsh — Konsole', pid: 77 });
      expect([...kwin.loaded.keys()]).toEqual([probe.pluginName]);
      expect(kwin.loaded.get(probe.pluginName)).toContain(probe.serviceName);
    });

    it('activations and caption changes of the active window arrive as events; others are ignored', async () => {
      let changes = 0;
      const off = probe.onChange(() => changes++);
      kwin.activate(dolphin);
      await waitFor(() => changes === 1, 'activation reported');
      expect(await probe.activeWindow()).toEqual({ app: 'org.kde.dolphin', title: 'Home — Dolphin', pid: 88 });
      dolphin.caption = 'Documents — Dolphin';
      dolphin.captionChanged.fire();
      await waitFor(() => changes === 2, 'caption change reported');
      expect((await probe.activeWindow())?.title).toBe('Documents — Dolphin');
      // Konsole is not active: its caption changes are not the active window's.
      const reports = probe.reports;
      konsole.caption = 'vim — Konsole';
      konsole.captionChanged.fire();
      await sleep(200);
      expect(probe.reports).toBe(reports);
      kwin.activate(null);
      await waitFor(() => changes === 3, 'no window reported');
      expect(await probe.activeWindow()).toBeNull();
      off();
    });

    it('idle from org.freedesktop.ScreenSaver (milliseconds), lock from GetActive or login1', async () => {
      let active = false;
      svc.on('/ScreenSaver org.freedesktop.ScreenSaver.GetSessionIdleTime', () => ({ signature: 'u', body: [12_345] }));
      svc.on('/ScreenSaver org.freedesktop.ScreenSaver.GetActive', () => ({ signature: 'b', body: [active] }));
      await svc.own('org.freedesktop.ScreenSaver').catch(() => {}); // second pass: already ours
      expect(await probe.idleSeconds()).toBeCloseTo(12.345, 3);
      expect(await probe.locked()).toBe(false);
      active = true;
      expect(await probe.locked()).toBe(true);
      active = false;
      locked = true;
      expect(await probe.locked()).toBe(true);
      locked = false;
    });

    it('KWin restarting (a new owner of org.kde.KWin): the script is loaded into the new one', async () => {
      let changes = 0;
      const off = probe.onChange(() => changes++);
      svc.close();
      svc = await TestService.connect(session.address, ['org.kde.KWin']);
      kwin = new FakeKWin(svc, plasma);
      kwin.active = konsole;
      await waitFor(() => changes >= 1, 'the restart noticed');
      await waitFor(async () => (await probe.activeWindow().catch(() => null))?.app === 'org.kde.konsole', 'the script reporting from the new KWin');
      expect([...kwin.loaded.keys()]).toEqual([probe.pluginName]);
      off();
    });

    it('close unloads the script from KWin', async () => {
      probe.close();
      await waitFor(() => kwin.unloaded.includes(probe.pluginName) && !kwin.loaded.has(probe.pluginName), 'unloadScript');
    });
  });

  it('KDE: GetSessionIdleTime not supported (Plasma on Wayland) → the fallback idle source', async () => {
    const svc = await TestService.connect(session.address);
    svc.on('/ScreenSaver org.freedesktop.ScreenSaver.GetSessionIdleTime', () => ({
      error: 'org.freedesktop.DBus.Error.NotSupported',
      text: 'GetSessionIdleTime is not supported on this platform',
    }));
    const bus = new BusHolder(session.address, 'session bus');
    // Ask the test service directly (the well-known name belongs to the previous test's connection).
    const target = { ...FREEDESKTOP_IDLE, destination: (svc.bus as unknown as { name: string }).name };
    let t = 50_000;
    const fallback = new SwayidleSource({ env: {}, stepSeconds: 5, spawn: false, now: () => t });
    const idle = new DbusIdleSource({ bus, idle: target, unitMs: 1, fallback: () => fallback });
    fallback.line('idle');
    t += 2_000;
    expect(await idle.idleSeconds()).toBe(7);
    const none = new DbusIdleSource({ bus, idle: target, unitMs: 1 });
    await expect(none.idleSeconds()).rejects.toThrow(/GetSessionIdleTime is not available/);
    idle.close();
    bus.close();
    svc.close();
  });

  describe('GNOME', () => {
    let mutter: TestService;
    let shell: TestService | null = null;
    let idleMs = 0n;
    let probe: GnomeProbe;

    beforeAll(async () => {
      mutter = await TestService.connect(session.address, ['org.gnome.Mutter.IdleMonitor', 'org.gnome.ScreenSaver']);
      mutter.on('/org/gnome/Mutter/IdleMonitor/Core org.gnome.Mutter.IdleMonitor.GetIdletime', () => ({ signature: 't', body: [idleMs] }));
      mutter.on('/org/gnome/ScreenSaver org.gnome.ScreenSaver.GetActive', () => ({ signature: 'b', body: [locked] }));
    });
    afterAll(() => {
      probe?.close();
      mutter?.close();
      shell?.close();
    });

    it('extension JSON and KWin reports → window', () => {
      expect(gnomeWindow('{"title":"Calculator","wm_class":"org.gnome.Calculator","wm_class_instance":"org.gnome.Calculator","pid":56643,"id":2274918779}')).toEqual({
        app: 'org.gnome.Calculator',
        title: 'Calculator',
        pid: 56643,
      });
      expect(gnomeWindow('{}')).toBeNull();
      // KDE's report: resourceClass, else resourceName; a pid of 0 is no pid.
      expect(kdeWindow('notes', '', 'kate', 0)).toEqual({ app: 'kate', title: 'notes' });
      expect(kdeWindow('', 'org.kde.kate', 'kate', 12)).toEqual({ app: 'org.kde.kate', title: '', pid: 12 });
      expect(gnomeWindow('{"title":"x","wm_class":null,"wm_class_instance":"inst"}')).toEqual({ app: 'inst', title: 'x' });
    });

    it('without the Focused Window extension: the window watcher is told how to enable it; idle still works', async () => {
      probe = (await openProbe({ where: { platform: 'linux', env: env('ubuntu:GNOME') } })) as GnomeProbe;
      expect(probe.kind).toBe('gnome');
      const err = await probe.activeWindow().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ProbeUnavailableError);
      expect((err as ProbeUnavailableError).reason).toBe(FOCUSED_WINDOW_MISSING);
      expect(FOCUSED_WINDOW_MISSING).toContain('gnome-extensions enable focused-window-dbus@flexagoon.com');
      idleMs = 90_500n;
      expect(await probe.idleSeconds()).toBe(90.5);
      expect(await probe.locked()).toBe(false);
      locked = true;
      expect(await probe.locked()).toBe(true);
      locked = false;
    });

    it('with the extension: Get gives the window, FocusChanged wakes the watcher', async () => {
      let focused: Record<string, unknown> = { title: 'Inbox — Mail', wm_class: 'org.gnome.Evolution', wm_class_instance: 'evolution', pid: 31 };
      shell = await TestService.connect(session.address, ['org.gnome.Shell']);
      shell.on('/org/gnome/shell/extensions/FocusedWindow org.gnome.shell.extensions.FocusedWindow.Get', () => ({ signature: 's', body: [JSON.stringify(focused)] }));
      expect(await probe.activeWindow()).toEqual({ app: 'org.gnome.Evolution', title: 'Inbox — Mail', pid: 31 });
      let changes = 0;
      const off = probe.onChange(() => changes++);
      focused = { title: 'main.ts — Code', wm_class: 'Code', pid: 32 };
      shell.signal('/org/gnome/shell/extensions/FocusedWindow', 'org.gnome.shell.extensions.FocusedWindow', 'FocusChanged', 's', [JSON.stringify(focused)]);
      await waitFor(() => changes === 1, 'FocusChanged');
      expect(await probe.activeWindow()).toEqual({ app: 'Code', title: 'main.ts — Code', pid: 32 });
      focused = {};
      expect(await probe.activeWindow()).toBeNull();
      off();
    });
  });
});
