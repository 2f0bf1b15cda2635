/** What the watchers need from the operating system. Every method may reject. */
export interface ActiveWindow {
  app: string;
  title: string;
  pid?: number;
}

export interface Probe {
  /** Short name of the backend ("x11", "sway", "hyprland", "kde", "gnome", "macos", "windows", "fake"). */
  readonly kind: string;
  /** Why this probe was chosen (set by openProbe; shown by `sundial status`). */
  reason?: string;
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
  /**
   * Event-driven probes (sway, Hyprland, KDE, GNOME) call `cb` when the focused window or its title
   * changed, so the window watcher records it at once; its poll stays as the safety net. Returns
   * the unsubscribe function.
   */
  onChange?(cb: () => void): () => void;
  /**
   * A counter that moves whenever the focused window or its title may have changed (and when the
   * connection was lost). While it stands still, the last `activeWindow()` answer still holds, so
   * the window watcher reuses it instead of asking again (X11). Absent when the probe cannot promise that.
   */
  changeCount?(): number;
  close(): void;
}

export type ProbeFactory = () => Promise<Probe>;

/**
 * The probe cannot work here at all (no display, no permission, X server gone). Watchers react by
 * reporting `{ unavailable: reason }` and retrying slowly instead of crashing.
 */
export class ProbeUnavailableError extends Error {
  /** The probe that was chosen and why, when the choice succeeded but the probe cannot work. */
  choice?: { backend: string; reason: string };
  constructor(readonly reason: string) {
    super(`unavailable: ${reason}`);
    this.name = 'ProbeUnavailableError';
  }
}

export const isUnavailable = (err: unknown): err is ProbeUnavailableError => err instanceof ProbeUnavailableError;

export const UNKNOWN = 'unknown';
