import { ProbeUnavailableError, type ActiveWindow, type Probe } from '../../types.js';
import type { IdleSource } from './idle.js';
import { ChangeListeners } from './window-cache.js';

/**
 * What every Wayland probe shares: the window comes from the compositor (each subclass its own way),
 * idle time and the lock state from the session's IdleSource, made at first use (so the window
 * watcher's probe never starts one) and closed with the probe.
 */
export abstract class CompositorProbe implements Probe {
  abstract readonly kind: string;
  reason?: string;
  protected readonly changes = new ChangeListeners();
  protected closed = false;
  private idleSource: IdleSource | null = null;

  constructor(private readonly makeIdle: () => IdleSource) {}

  abstract activeWindow(): Promise<ActiveWindow | null>;

  async idleSeconds(): Promise<number> {
    return this.idle().idleSeconds();
  }

  async locked(): Promise<boolean> {
    return this.idle().locked();
  }

  onChange(cb: () => void): () => void {
    return this.changes.add(cb);
  }

  close(): void {
    this.closed = true;
    this.idleSource?.close();
    this.idleSource = null;
  }

  private idle(): IdleSource {
    if (this.closed) throw new ProbeUnavailableError('probe closed');
    return (this.idleSource ??= this.makeIdle());
  }
}
