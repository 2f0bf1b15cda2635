/** What the watchers need from the operating system. Every method may reject. */
export interface ActiveWindow {
  app: string;
  title: string;
  pid?: number;
}

export interface Probe {
  /** Short name of the backend ("x11", "macos", "windows", "fake"). */
  readonly kind: string;
  /** Seconds since the last keyboard / pointer input. */
  idleSeconds(): Promise<number>;
  /**
   * The focused window; null means "definitively no foreground window" (the poll is skipped).
   * Parts that cannot be read are "unknown" (X11 / Windows) or "" (macOS title without permission).
   */
  activeWindow(): Promise<ActiveWindow | null>;
  /** Screen locked or screensaver running (counts as AFK). Absent when the platform can't tell. */
  locked?(): Promise<boolean>;
  /** Something the user should know while the probe works only partly (e.g. a missing permission). */
  notice?(): string | null;
  close(): void;
}

export type ProbeFactory = () => Promise<Probe>;

/**
 * The probe cannot work here at all (no display, no permission, X server gone). Watchers react by
 * reporting `{ unavailable: reason }` and retrying slowly instead of crashing.
 */
export class ProbeUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`unavailable: ${reason}`);
    this.name = 'ProbeUnavailableError';
  }
}

export const isUnavailable = (err: unknown): err is ProbeUnavailableError => err instanceof ProbeUnavailableError;

export const UNKNOWN = 'unknown';
