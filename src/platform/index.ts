import type { Logger } from '../log.js';
import { chooseProbe, type ProbeChoice, type ProbeEnvironment } from './choose.js';
import { ProbeUnavailableError, type Probe, type ProbeFactory } from './types.js';

export * from './types.js';
export * from './choose.js';

export interface OpenProbeOptions {
  log?: Logger;
  where?: ProbeEnvironment;
  /** Overrides DISPLAY for the X11 probe. */
  display?: string;
  /** `watchers.probe` from the config: "auto" (default) or a probe name that forces it. */
  setting?: string;
  /** Resolution of Wayland idle times that come as "no input for N s" (swayidle): the AFK poll. Default 5 s. */
  idleStepSeconds?: number;
}

/**
 * Opens the probe for this environment (see chooseProbe). The native modules (and ffi-rs) are
 * imported only here, on demand, so importing this file is safe anywhere (including worker threads).
 * The probe carries the reason it was chosen; an unavailable error carries the choice.
 */
export async function openProbe(opts: OpenProbeOptions = {}): Promise<Probe> {
  const where = opts.where ?? { platform: process.platform, env: process.env };
  const choice = chooseProbe(where, opts.setting);
  try {
    const probe = await openChosen(choice, where, opts);
    probe.reason = choice.reason;
    return probe;
  } catch (err) {
    if (err instanceof ProbeUnavailableError) err.choice ??= choice;
    throw err;
  }
}

async function openChosen(choice: ProbeChoice, where: ProbeEnvironment, opts: OpenProbeOptions): Promise<Probe> {
  switch (choice.backend) {
    case 'x11': {
      const { X11Probe } = await import('./linux/x11.js');
      return X11Probe.open({ display: opts.display ?? where.env.DISPLAY, log: opts.log });
    }
    case 'sway':
    case 'hyprland': {
      const [{ SwayProbe }, { HyprlandProbe }, { SwayidleSource }, { LoginLock }] = await Promise.all([
        import('./linux/wayland/sway.js'),
        import('./linux/wayland/hyprland.js'),
        import('./linux/wayland/idle.js'),
        import('./linux/wayland/dbus.js'),
      ]);
      // Idle through a supervised swayidle (wlroots compositors speak its idle protocol); locked on
      // its lock hook or logind's LockedHint.
      const idle = () => new SwayidleSource({ env: where.env, stepSeconds: opts.idleStepSeconds, log: opts.log, loginLock: new LoginLock(where.env, opts.log) });
      if (choice.backend === 'hyprland') return HyprlandProbe.open({ env: where.env, log: opts.log, idle });
      return SwayProbe.open({ socketPath: where.env.SWAYSOCK, runtimeDir: where.env.XDG_RUNTIME_DIR, log: opts.log, idle });
    }
    case 'kde':
    case 'gnome': {
      const [dbus, idle, { SwayidleSource }] = await Promise.all([import('./linux/wayland/dbus.js'), import('./linux/wayland/dbus-idle.js'), import('./linux/wayland/idle.js')]);
      const bus = new dbus.BusHolder(dbus.sessionBusAddress(where.env), 'session bus', opts.log);
      const loginLock = new dbus.LoginLock(where.env, opts.log);
      if (choice.backend === 'gnome') {
        const { GnomeProbe } = await import('./linux/wayland/gnome.js');
        return GnomeProbe.open({
          bus,
          log: opts.log,
          idle: () => new idle.DbusIdleSource({ bus, idle: idle.MUTTER_IDLE, unitMs: 1, active: idle.GNOME_SCREENSAVER_ACTIVE, loginLock, log: opts.log }),
        });
      }
      const { KdeProbe } = await import('./linux/wayland/kde.js');
      return KdeProbe.open({
        bus,
        log: opts.log,
        // KWin answers GetSessionIdleTime in ms, or (recent Plasma on Wayland) not at all: then
        // swayidle, which speaks KWin's idle protocol.
        idle: () =>
          new idle.DbusIdleSource({
            bus,
            idle: idle.FREEDESKTOP_IDLE,
            unitMs: 1,
            active: idle.FREEDESKTOP_SCREENSAVER_ACTIVE,
            loginLock,
            log: opts.log,
            fallback: () => new SwayidleSource({ env: where.env, stepSeconds: opts.idleStepSeconds, log: opts.log }),
          }),
      });
    }
    case 'macos': {
      const [{ openMacApi }, { MacProbe }] = await Promise.all([import('./macos/native.js'), import('./macos/logic.js')]);
      const probe = new MacProbe(wrapNative(openMacApi, 'macOS'));
      const notice = probe.notice();
      if (notice) opts.log?.warn(notice);
      return probe;
    }
    case 'windows': {
      const [{ openWinApi }, { WindowsProbe }] = await Promise.all([import('./windows/native.js'), import('./windows/logic.js')]);
      return new WindowsProbe(wrapNative(openWinApi, 'Windows'));
    }
  }
}

/** A factory for watchers: each call opens a fresh probe for the current environment. */
export const defaultProbeFactory = (opts: { log?: Logger; setting?: string } = {}): ProbeFactory => () => openProbe(opts);

function wrapNative<T>(open: () => T, what: string): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof ProbeUnavailableError) throw err;
    throw new ProbeUnavailableError(`${what} system libraries cannot be loaded: ${(err as Error).message}`);
  }
}
