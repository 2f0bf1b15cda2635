import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { chooseProbe, openProbe } from '../../src/platform/index.js';
import { ProbeUnavailableError } from '../../src/platform/types.js';
import { exeName, foregroundWindow, idleMillis, isFrameHost, WindowsProbe, type WinApi } from '../../src/platform/windows/logic.js';
import { ACCESSIBILITY_MISSING, MacProbe, appName, normaliseIdle, type MacApi } from '../../src/platform/macos/logic.js';
import { decodeCompoundText, decodeTextProperty, decodeUtf8Lossy, wmClassName } from '../../src/platform/linux/text.js';

describe('probe selection', () => {
  const linux = (env: Record<string, string>) => ({ platform: 'linux' as NodeJS.Platform, env });
  const SWAY = { XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-1', SWAYSOCK: '/run/user/1000/sway-ipc.1000.77.sock', XDG_CURRENT_DESKTOP: 'sway' };
  const table: Array<[string, { platform: NodeJS.Platform; env: Record<string, string> }, string | RegExp, RegExp]> = [
    ['pure Wayland sway', linux(SWAY), 'sway', /^SWAYSOCK is set/],
    ['sway with an XWayland DISPLAY', linux({ ...SWAY, DISPLAY: ':0' }), 'sway', /DISPLAY=:0 is XWayland/],
    ['sway started from a console (XDG_SESSION_TYPE=tty)', linux({ ...SWAY, XDG_SESSION_TYPE: 'tty' }), 'sway', /SWAYSOCK/],
    ['Hyprland', linux({ XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-1', HYPRLAND_INSTANCE_SIGNATURE: 'abc_123', DISPLAY: ':1' }), 'hyprland', /HYPRLAND_INSTANCE_SIGNATURE/],
    ['GNOME Wayland', linux({ XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'GNOME', DISPLAY: ':0' }), 'gnome', /GNOME in a Wayland session.*XWayland/],
    ['Ubuntu GNOME Wayland', linux({ XDG_SESSION_TYPE: 'wayland', XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' }), 'gnome', /ubuntu:GNOME/],
    ['KDE Wayland', linux({ XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'KDE', DISPLAY: ':1' }), 'kde', /KDE in a Wayland session/],
    ['KDE Wayland without XDG_SESSION_TYPE', linux({ WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'KDE' }), 'kde', /WAYLAND_DISPLAY=wayland-0/],
    ['KDE X11', linux({ XDG_SESSION_TYPE: 'x11', DISPLAY: ':0', XDG_CURRENT_DESKTOP: 'KDE' }), 'x11', /X11 session \(DISPLAY=:0, XDG_SESSION_TYPE=x11, XDG_CURRENT_DESKTOP=KDE\)/],
    ['GNOME X11 with a stale WAYLAND_DISPLAY', linux({ XDG_SESSION_TYPE: 'x11', DISPLAY: ':0', WAYLAND_DISPLAY: 'wayland-0', XDG_CURRENT_DESKTOP: 'GNOME' }), 'x11', /X11 session/],
    ['plain X11 (i3, openbox)', linux({ DISPLAY: ':0' }), 'x11', /DISPLAY=:0/],
    ['macOS', { platform: 'darwin', env: {} }, 'macos', /macOS/],
    ['Windows', { platform: 'win32', env: {} }, 'windows', /Windows/],
  ];
  it.each(table)('%s', (_name, where, backend, reason) => {
    const c = chooseProbe(where);
    expect(c.backend).toBe(backend);
    expect(c.reason).toMatch(reason);
  });

  const unavailable: Array<[string, { platform: NodeJS.Platform; env: Record<string, string> }, RegExp]> = [
    ['no session at all', linux({}), /^unavailable: no graphical session \(neither WAYLAND_DISPLAY nor DISPLAY is set\)$/],
    ['an unsupported Wayland compositor with XWayland', linux({ XDG_SESSION_TYPE: 'wayland', WAYLAND_DISPLAY: 'wayland-1', XDG_CURRENT_DESKTOP: 'Wayfire', DISPLAY: ':0' }), /^unavailable: Wayland session .* of XDG_CURRENT_DESKTOP=Wayfire: no probe/],
    ['pure Wayland without a desktop name', linux({ WAYLAND_DISPLAY: 'wayland-0' }), /unnamed compositor/],
    ['an unknown platform', { platform: 'aix', env: {} }, /no probe for platform aix/],
  ];
  it.each(unavailable)('%s → unavailable', (_name, where, message) => {
    expect(() => chooseProbe(where)).toThrow(ProbeUnavailableError);
    expect(() => chooseProbe(where)).toThrow(message);
  });

  it('config watchers.probe forces a probe, and refuses unknown names', () => {
    expect(chooseProbe(linux(SWAY), 'x11')).toEqual({ backend: 'x11', reason: 'forced by config watchers.probe = "x11"' });
    expect(chooseProbe(linux({}), 'gnome').backend).toBe('gnome');
    expect(chooseProbe(linux(SWAY), 'auto').backend).toBe('sway');
    expect(() => chooseProbe(linux(SWAY), 'weston')).toThrow(/watchers.probe is "weston"; expected auto or one of x11, sway/);
  });

  it('importing the platform index and the watchers does not load ffi-rs (worker-safe)', async () => {
    await import('../../src/actors/watchers/index.js');
    const cache = createRequire(import.meta.url).cache;
    expect(Object.keys(cache).filter((k) => k.includes('ffi-rs'))).toEqual([]);
  });
  it('openProbe rejects with ProbeUnavailableError without a display', async () => {
    await expect(openProbe({ where: { platform: 'linux', env: {} } })).rejects.toBeInstanceOf(ProbeUnavailableError);
  });
});

function fakeWin(over: Partial<WinApi> & { windows?: Record<number, { pid: number; text?: string | null; children?: number[] }>; images?: Record<number, string> } = {}): WinApi {
  const windows = over.windows ?? {};
  const images = over.images ?? {};
  return {
    tickCount64: () => 0n,
    lastInputTick: () => 0,
    foregroundWindow: () => 0,
    windowText: (h) => (windows[h]?.text === undefined ? 'untitled' : windows[h]!.text!),
    windowPid: (h) => windows[h]?.pid ?? 0,
    processImagePath: (pid) => images[pid] ?? null,
    childWindows: (h) => windows[h]?.children ?? [],
    inputDesktopOpen: () => true,
    ...over,
  };
}

describe('Windows logic (fakes)', () => {
  it('idle time across the 32-bit wrap of the last-input tick', () => {
    expect(idleMillis(10_000n, 4_000)).toBe(6_000);
    const wrap = 2n ** 32n;
    // 64-bit now just past a wrap, last input just before it.
    expect(idleMillis(wrap * 3n + 500n, 2 ** 32 - 1500)).toBe(2_000);
    // 64-bit tick far beyond 2^32 with no wrap in between.
    expect(idleMillis(wrap * 7n + 90_000n, 30_000)).toBe(60_000);
  });

  it('probe idle seconds and lock state', async () => {
    const p = new WindowsProbe(fakeWin({ tickCount64: () => 2n ** 32n + 1000n, lastInputTick: () => 2 ** 32 - 2000, inputDesktopOpen: () => false }));
    expect(await p.idleSeconds()).toBe(3);
    expect(await p.locked()).toBe(true);
    await expect(new WindowsProbe(fakeWin({ lastInputTick: () => null })).idleSeconds()).rejects.toThrow(/GetLastInputInfo/);
  });

  it('exe names and the frame host', () => {
    expect(exeName('C:\\Program Files\\Microsoft VS Code\\Code.exe')).toBe('Code.exe');
    expect(isFrameHost('ApplicationFrameHost.exe')).toBe(true);
    expect(isFrameHost('applicationframehost.EXE')).toBe(true);
    expect(isFrameHost('Code.exe')).toBe(false);
  });

  it('resolves UWP apps behind ApplicationFrameHost.exe through the child window of another process', () => {
    const api = fakeWin({
      foregroundWindow: () => 100,
      windows: { 100: { pid: 10, text: 'Calculator', children: [101, 102] }, 101: { pid: 10 }, 102: { pid: 20 } },
      images: { 10: 'C:\\Windows\\System32\\ApplicationFrameHost.exe', 20: 'C:\\Program Files\\WindowsApps\\Calc\\CalculatorApp.exe' },
    });
    expect(foregroundWindow(api)).toEqual({ app: 'CalculatorApp.exe', title: 'Calculator', pid: 20 });
  });

  it('keeps the frame host when the app window is not found (suspended app)', () => {
    const api = fakeWin({ foregroundWindow: () => 100, windows: { 100: { pid: 10, text: 'Settings', children: [101] }, 101: { pid: 10 } }, images: { 10: 'C:\\W\\ApplicationFrameHost.exe' } });
    expect(foregroundWindow(api)).toEqual({ app: 'ApplicationFrameHost.exe', title: 'Settings', pid: 10 });
  });

  it('no foreground window → null (skip); unreadable parts → "unknown"', () => {
    expect(foregroundWindow(fakeWin())).toBeNull();
    const api = fakeWin({ foregroundWindow: () => 5, windows: { 5: { pid: 4, text: null } } });
    expect(foregroundWindow(api)).toEqual({ app: 'unknown', title: 'unknown', pid: 4 });
  });
});

function fakeMac(over: Partial<MacApi> = {}): MacApi {
  return {
    secondsSinceInput: () => 12.5,
    frontmostApp: () => ({ name: 'Safari', bundleId: 'com.apple.Safari', pid: 321 }),
    accessibilityTrusted: () => true,
    focusedWindowTitle: () => 'Start Page',
    screenLocked: () => false,
    ...over,
  };
}

describe('macOS logic (fakes)', () => {
  it('idle seconds are clamped', async () => {
    expect(normaliseIdle(-3)).toBe(0);
    expect(normaliseIdle(Number.NaN)).toBe(0);
    expect(await new MacProbe(fakeMac()).idleSeconds()).toBe(12.5);
  });

  it('frontmost app with its focused window title', async () => {
    const p = new MacProbe(fakeMac());
    expect(await p.activeWindow()).toEqual({ app: 'Safari', title: 'Start Page', pid: 321 });
    expect(p.notice()).toBeNull();
    expect(appName({ name: null, bundleId: 'com.x.y' })).toBe('com.x.y');
    expect(appName({ name: '', bundleId: null })).toBe('unknown');
  });

  it('without Accessibility permission: empty title and a clear notice', async () => {
    let asked = 0;
    const p = new MacProbe(fakeMac({ accessibilityTrusted: () => false, focusedWindowTitle: () => (asked++, 'secret') }));
    expect(p.notice()).toBe(ACCESSIBILITY_MISSING);
    expect(p.notice()).toMatch(/Accessibility permission missing/);
    expect(await p.activeWindow()).toEqual({ app: 'Safari', title: '', pid: 321 });
    expect(asked).toBe(0);
  });

  it('no frontmost app → null; a window without title → ""; lock state', async () => {
    expect(await new MacProbe(fakeMac({ frontmostApp: () => null })).activeWindow()).toBeNull();
    expect((await new MacProbe(fakeMac({ focusedWindowTitle: () => null })).activeWindow())?.title).toBe('');
    expect(await new MacProbe(fakeMac({ screenLocked: () => true })).locked()).toBe(true);
    expect(await new MacProbe(fakeMac({ screenLocked: () => null })).locked()).toBe(false);
  });
});

describe('X11 text decoding', () => {
  it('UTF-8 with invalid bytes dropped', () => {
    expect(decodeUtf8Lossy(Buffer.from([0x61, 0xff, 0x62, 0xc3, 0xa9, 0]))).toBe('abé');
  });
  it('COMPOUND_TEXT: Latin-1 default, other ISO 8859 parts, UTF-8 and extended segments', () => {
    expect(decodeCompoundText(Buffer.from('na\xefve caf\xe9', 'latin1'))).toBe('naïve café');
    // ESC - B selects ISO 8859-2 for the right half: 0xB1 = "ą".
    expect(decodeCompoundText(Buffer.from([0x1b, 0x2d, 0x42, 0xb1, 0x1b, 0x2d, 0x41, 0xe9]))).toBe('ąé');
    const utf8seg = Buffer.concat([Buffer.from([0x1b, 0x25, 0x47]), Buffer.from('日本', 'utf8'), Buffer.from([0x1b, 0x25, 0x40]), Buffer.from('!')]);
    expect(decodeCompoundText(utf8seg)).toBe('日本!');
    const name = Buffer.from('utf-8\x02', 'latin1');
    const body = Buffer.from('ü→', 'utf8');
    const len = name.length + body.length;
    const ext = Buffer.concat([Buffer.from([0x1b, 0x25, 0x2f, 0x31, 0x80 | (len >> 7), 0x80 | (len & 0x7f)]), name, body, Buffer.from('x')]);
    expect(decodeCompoundText(ext)).toBe('ü→x');
    // A 94² set (JIS X 0208 in GR) is not decoded: replaced, not garbled.
    expect(decodeCompoundText(Buffer.from([0x1b, 0x24, 0x29, 0x42, 0xc6, 0xfc, 0x41]))).toBe('?A');
  });
  it('text property by type and WM_CLASS class part', () => {
    expect(decodeTextProperty('STRING', Buffer.from('caf\xe9', 'latin1'))).toBe('café');
    expect(decodeTextProperty('UTF8_STRING', Buffer.from('café', 'utf8'))).toBe('café');
    expect(wmClassName(Buffer.from('navigator\0Firefox\0', 'latin1'))).toBe('Firefox');
    expect(wmClassName(Buffer.from('only-instance\0', 'latin1'))).toBeNull();
    expect(wmClassName(Buffer.alloc(0))).toBeNull();
  });
});
