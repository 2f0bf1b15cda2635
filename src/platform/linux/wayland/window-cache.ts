import type { ActiveWindow } from '../../types.js';

const same = (a: ActiveWindow | null, b: ActiveWindow | null): boolean =>
  a === b || (!!a && !!b && a.app === b.app && a.title === b.title && a.pid === b.pid);

/**
 * The focused window as last reported by an event-driven compositor connection. A poll is answered
 * from here while it is younger than `maxAgeMs`; older, the probe re-reads it (the safety net for a
 * lost event).
 */
export class WindowCache {
  private window: ActiveWindow | null = null;
  private at = 0;
  private valid = false;

  constructor(private readonly maxAgeMs: number) {}

  /** Stores a reading; true when it differs from the previous one. */
  set(w: ActiveWindow | null): boolean {
    const changed = !this.valid || !same(this.window, w);
    this.window = w;
    this.at = Date.now();
    this.valid = true;
    return changed;
  }

  /** Wraps the value so that a cached "no window" (null) differs from "nothing cached". */
  fresh(): { window: ActiveWindow | null } | null {
    if (!this.valid || Date.now() - this.at >= this.maxAgeMs) return null;
    return { window: this.window };
  }

  peek(): ActiveWindow | null {
    return this.valid ? this.window : null;
  }

  clear(): void {
    this.valid = false;
    this.window = null;
  }
}

/** The callbacks of Probe.onChange. */
export class ChangeListeners {
  private readonly cbs = new Set<() => void>();

  add(cb: () => void): () => void {
    this.cbs.add(cb);
    return () => void this.cbs.delete(cb);
  }

  emit(): void {
    for (const cb of [...this.cbs]) {
      try {
        cb();
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
