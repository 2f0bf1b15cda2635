import { UNKNOWN, type ActiveWindow, type Probe } from '../types.js';

/**
 * The Win32 calls the Windows probe needs, already reduced to plain values. `native.ts` implements
 * it with ffi-rs; tests implement it with fakes. Handles are plain numbers, 0 = NULL.
 */
export interface WinApi {
  /** GetTickCount64 (ms since boot, 64-bit). */
  tickCount64(): bigint;
  /** LASTINPUTINFO.dwTime from GetLastInputInfo (32-bit GetTickCount value); null when the call fails. */
  lastInputTick(): number | null;
  /** GetForegroundWindow; 0 when there is none (lock screen, UAC prompt, secure desktop). */
  foregroundWindow(): number;
  /** GetWindowTextW; null when it cannot be read. */
  windowText(hwnd: number): string | null;
  /** GetWindowThreadProcessId's pid; 0 when unknown. */
  windowPid(hwnd: number): number;
  /** OpenProcess + QueryFullProcessImageNameW; null when access is denied or the process is gone. */
  processImagePath(pid: number): string | null;
  /** Direct child windows (FindWindowExW enumeration). */
  childWindows(hwnd: number): number[];
  /** false when the input desktop can't be opened (workstation locked). */
  inputDesktopOpen(): boolean;
  close?(): void;
}

const TICK_WRAP = 2n ** 32n;

/**
 * Milliseconds since the last input. The last-input tick is the 32-bit GetTickCount value, which wraps
 * every 49.7 days, while GetTickCount64 does not: compare in the 32-bit ring so a wrap between the
 * last input and now still gives the small, correct difference.
 */
export function idleMillis(now64: bigint, lastInput32: number): number {
  const now32 = now64 % TICK_WRAP;
  const last = BigInt(lastInput32 >>> 0);
  return Number((now32 - last + TICK_WRAP) % TICK_WRAP);
}

/** File name of a Windows path ("C:\\Program Files\\x\\Code.exe" → "Code.exe"). */
export function exeName(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return path.slice(i + 1);
}

/** UWP apps (Calculator, Settings, ...) show their windows inside ApplicationFrameHost.exe frames. */
export const isFrameHost = (exe: string): boolean => exe.toLowerCase() === 'applicationframehost.exe';

/**
 * The frame host's foreground window has the real app's core window as a child owned by another process.
 * Returns that process's pid and image path, or null (app suspended / minimised, or access denied).
 */
export function resolveUwp(api: WinApi, frame: number, framePid: number): { pid: number; path: string } | null {
  for (const child of api.childWindows(frame)) {
    const pid = api.windowPid(child);
    if (!pid || pid === framePid) continue;
    const path = api.processImagePath(pid);
    if (path) return { pid, path };
  }
  return null;
}

/** The foreground window as {app, title, pid}; null when there is no foreground window. */
export function foregroundWindow(api: WinApi): ActiveWindow | null {
  const hwnd = api.foregroundWindow();
  if (!hwnd) return null;
  let pid = api.windowPid(hwnd);
  const path = pid ? api.processImagePath(pid) : null;
  let app = path ? exeName(path) : UNKNOWN;
  if (path && isFrameHost(app)) {
    const real = resolveUwp(api, hwnd, pid);
    if (real) {
      app = exeName(real.path);
      pid = real.pid;
    }
  }
  const title = api.windowText(hwnd);
  const w: ActiveWindow = { app: app || UNKNOWN, title: title ?? UNKNOWN };
  if (pid) w.pid = pid;
  return w;
}

export class WindowsProbe implements Probe {
  readonly kind = 'windows';
  constructor(private readonly api: WinApi) {}

  async idleSeconds(): Promise<number> {
    const last = this.api.lastInputTick();
    if (last === null) throw new Error('GetLastInputInfo failed');
    return idleMillis(this.api.tickCount64(), last) / 1000;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    return foregroundWindow(this.api);
  }

  async locked(): Promise<boolean> {
    return !this.api.inputDesktopOpen();
  }

  close(): void {
    this.api.close?.();
  }
}
