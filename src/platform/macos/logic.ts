import { UNKNOWN, type ActiveWindow, type Probe } from '../types.js';

/** The macOS calls the probe needs, reduced to plain values. native.ts implements it with ffi-rs. */
export interface MacApi {
  /** CGEventSourceSecondsSinceLastEventType(combined session state, any input). */
  secondsSinceInput(): number;
  /** NSWorkspace.sharedWorkspace.frontmostApplication; null when there is none. */
  frontmostApp(): { name: string | null; bundleId: string | null; pid: number } | null;
  /** AXIsProcessTrusted: may this process read other apps' windows? */
  accessibilityTrusted(): boolean;
  /** The focused window's AXTitle of app `pid`; null when it has no focused window or it can't be read. */
  focusedWindowTitle(pid: number): string | null;
  /** CGSSessionScreenIsLocked from the session dictionary; null when unknown. */
  screenLocked(): boolean | null;
  close?(): void;
}

export const ACCESSIBILITY_MISSING =
  'Accessibility permission missing: window titles are recorded as empty. Grant it in System Settings → ' +
  'Privacy & Security → Accessibility for the program running sundial (e.g. your terminal or node), then restart sundial.';

/** The CoreGraphics counter may be negative or NaN right after boot / wake: clamp to a sane value. */
export function normaliseIdle(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/** App name as the reference watcher reports it: localized name, bundle id as fallback. */
export function appName(app: { name: string | null; bundleId: string | null }): string {
  return app.name || app.bundleId || UNKNOWN;
}

/**
 * Focused window of the frontmost app. Without Accessibility permission the title is "" (as the
 * reference helper does) and `notice()` explains what to do.
 */
export function frontWindow(api: MacApi): { window: ActiveWindow | null; trusted: boolean } {
  const app = api.frontmostApp();
  const trusted = api.accessibilityTrusted();
  if (!app) return { window: null, trusted };
  const title = trusted ? (api.focusedWindowTitle(app.pid) ?? '') : '';
  const window: ActiveWindow = { app: appName(app), title };
  if (app.pid > 0) window.pid = app.pid;
  return { window, trusted };
}

export class MacProbe implements Probe {
  readonly kind = 'macos';
  private trusted: boolean | null = null;

  constructor(private readonly api: MacApi) {}

  async idleSeconds(): Promise<number> {
    return normaliseIdle(this.api.secondsSinceInput());
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    const { window, trusted } = frontWindow(this.api);
    this.trusted = trusted;
    return window;
  }

  async locked(): Promise<boolean> {
    return this.api.screenLocked() ?? false;
  }

  notice(): string | null {
    if (this.trusted === null) this.trusted = this.api.accessibilityTrusted();
    return this.trusted ? null : ACCESSIBILITY_MISSING;
  }

  close(): void {
    this.api.close?.();
  }
}
