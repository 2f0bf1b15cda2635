import type { Logger } from '../../../log.js';
import { ProbeUnavailableError, UNKNOWN, type ActiveWindow } from '../../types.js';
import { CompositorProbe } from './compositor-probe.js';
import { addMatch, BusHolder, callMethod, isAbsent, type DBusMessage } from './dbus.js';
import type { IdleSource } from './idle.js';

/**
 * The "Focused Window D-Bus" GNOME Shell extension (focused-window-dbus@flexagoon.com): exported by
 * gnome-shell itself, method Get → the focused window as JSON ("{}" when none); recent versions also
 * emit FocusChanged(s) with the same JSON when the focused app changes.
 */
export const FOCUSED_WINDOW = {
  destination: 'org.gnome.Shell',
  path: '/org/gnome/shell/extensions/FocusedWindow',
  interface: 'org.gnome.shell.extensions.FocusedWindow',
  member: 'Get',
};
export const FOCUSED_WINDOW_MISSING =
  'GNOME on Wayland shows the focused window only to a Shell extension: install "Focused Window D-Bus" ' +
  '(https://extensions.gnome.org/extension/5592/focused-window-d-bus/), enable it with ' +
  '`gnome-extensions enable focused-window-dbus@flexagoon.com`, then log out and in';

/** The extension's JSON → {app, title, pid}; "{}" (no focused window) → null. */
export function gnomeWindow(json: string): ActiveWindow | null {
  let o: { title?: unknown; wm_class?: unknown; wm_class_instance?: unknown; pid?: unknown };
  try {
    o = JSON.parse(json) as typeof o;
  } catch {
    throw new Error('focused-window extension: answer is not JSON');
  }
  if (!o || typeof o !== 'object' || Object.keys(o).length === 0) return null;
  const app = typeof o.wm_class === 'string' && o.wm_class ? o.wm_class : typeof o.wm_class_instance === 'string' && o.wm_class_instance ? o.wm_class_instance : UNKNOWN;
  const title = typeof o.title === 'string' ? o.title : UNKNOWN;
  const w: ActiveWindow = { app, title };
  if (typeof o.pid === 'number' && o.pid > 0) w.pid = o.pid;
  return w;
}

export interface GnomeProbeOptions {
  bus: BusHolder;
  idle: () => IdleSource;
  log?: Logger;
}

/**
 * GNOME (Mutter) on Wayland: the window from the focused-window extension (asked at each poll, since
 * the extension signals focus changes but not title changes), idle time from Mutter's IdleMonitor.
 * Without the extension the window watcher reports unavailable with the steps to enable it; the
 * AFK watcher works regardless.
 */
export class GnomeProbe extends CompositorProbe {
  readonly kind = 'gnome';

  constructor(private readonly o: GnomeProbeOptions) {
    super(o.idle);
    o.bus.onConnect = async (bus) => {
      bus.on('message', (m: DBusMessage) => {
        if (m.interface === FOCUSED_WINDOW.interface && m.member === 'FocusChanged') this.changes.emit();
      });
      await addMatch(bus, `type='signal',interface='${FOCUSED_WINDOW.interface}',member='FocusChanged'`);
    };
  }

  /** Connects to the session bus once, so a missing bus is reported at start. */
  static async open(o: GnomeProbeOptions): Promise<GnomeProbe> {
    const p = new GnomeProbe(o);
    await o.bus.get();
    return p;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    if (this.closed) throw new ProbeUnavailableError('probe closed');
    const bus = await this.o.bus.get();
    try {
      const [json] = await callMethod(bus, FOCUSED_WINDOW);
      return gnomeWindow(String(json));
    } catch (err) {
      if (isAbsent(err)) throw new ProbeUnavailableError(FOCUSED_WINDOW_MISSING);
      throw err;
    }
  }

  override close(): void {
    super.close();
    this.o.bus.close();
  }
}
