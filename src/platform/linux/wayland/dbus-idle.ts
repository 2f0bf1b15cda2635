import type { Logger } from '../../../log.js';
import { ProbeUnavailableError } from '../../types.js';
import { callMethod, isAbsent, toNumber, type BusHolder, type LoginLock } from './dbus.js';
import type { IdleSource } from './idle.js';

export interface DbusTarget {
  destination: string;
  path: string;
  interface: string;
  member: string;
}

/** GNOME: Mutter's idle monitor, milliseconds since the last input. */
export const MUTTER_IDLE: DbusTarget = {
  destination: 'org.gnome.Mutter.IdleMonitor',
  path: '/org/gnome/Mutter/IdleMonitor/Core',
  interface: 'org.gnome.Mutter.IdleMonitor',
  member: 'GetIdletime',
};
/** GNOME Shell's lock screen. */
export const GNOME_SCREENSAVER_ACTIVE: DbusTarget = {
  destination: 'org.gnome.ScreenSaver',
  path: '/org/gnome/ScreenSaver',
  interface: 'org.gnome.ScreenSaver',
  member: 'GetActive',
};
/** KDE (and other freedesktop screensavers): KDE answers in milliseconds (KIdleTime), and not at all on recent Plasma Wayland. */
export const FREEDESKTOP_IDLE: DbusTarget = {
  destination: 'org.freedesktop.ScreenSaver',
  path: '/ScreenSaver',
  interface: 'org.freedesktop.ScreenSaver',
  member: 'GetSessionIdleTime',
};
export const FREEDESKTOP_SCREENSAVER_ACTIVE: DbusTarget = { ...FREEDESKTOP_IDLE, member: 'GetActive' };

export interface DbusIdleOptions {
  bus: BusHolder;
  idle: DbusTarget;
  /** What one unit of the answer is, in ms (1 for milliseconds). */
  unitMs: number;
  /** The desktop's own lock state. */
  active?: DbusTarget;
  loginLock?: LoginLock;
  /** Used from the first time the D-Bus idle call turns out to be absent (e.g. swayidle on Plasma Wayland). */
  fallback?: () => IdleSource;
  log?: Logger;
}

/** Idle time from a desktop's D-Bus service, the lock from its screensaver and logind. */
export class DbusIdleSource implements IdleSource {
  private fallback: IdleSource | null = null;

  constructor(private readonly o: DbusIdleOptions) {}

  async idleSeconds(): Promise<number> {
    if (this.fallback) return this.fallback.idleSeconds();
    const bus = await this.o.bus.get();
    try {
      const [v] = await callMethod(bus, this.o.idle);
      return (toNumber(v) * this.o.unitMs) / 1000;
    } catch (err) {
      if (!isAbsent(err)) throw err;
      const what = `${this.o.idle.interface}.${this.o.idle.member}`;
      if (!this.o.fallback) throw new ProbeUnavailableError(`${what} is not available: ${(err as Error).message}`);
      this.o.log?.info({ err: (err as Error).message }, `${what} unavailable; idle time through the fallback`);
      this.fallback = this.o.fallback();
      return this.fallback.idleSeconds();
    }
  }

  async locked(): Promise<boolean> {
    const checks: Array<Promise<boolean>> = [];
    if (this.o.active) {
      const target = this.o.active;
      checks.push(this.o.bus.get().then((bus) => callMethod(bus, target)).then(([v]) => v === true, () => false));
    }
    if (this.o.loginLock) checks.push(this.o.loginLock.locked());
    if (this.fallback) checks.push(this.fallback.locked().catch(() => false));
    return (await Promise.all(checks)).some(Boolean);
  }

  close(): void {
    this.fallback?.close();
    this.o.loginLock?.close();
  }
}
