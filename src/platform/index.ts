import type { Logger } from '../log.js';
import { ProbeUnavailableError, type Probe } from './types.js';

export interface ProbeEnvironment {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
}

export type ProbeBackend = 'x11' | 'macos' | 'windows';

/**
 * Which backend fits this environment: linux/BSD with DISPLAY → X11, darwin → macOS, win32 → Windows.
 * Throws ProbeUnavailableError("unavailable: <reason>") otherwise.
 */
export function chooseBackend(where: ProbeEnvironment = { platform: process.platform, env: process.env }): ProbeBackend {
  switch (where.platform) {
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    case 'linux':
    case 'freebsd':
    case 'openbsd':
    case 'netbsd' as NodeJS.Platform:
      if (where.env.DISPLAY) return 'x11';
      if (where.env.WAYLAND_DISPLAY) {
        throw new ProbeUnavailableError('Wayland session without XWayland (DISPLAY is not set); use a Wayland watcher such as awatcher');
      }
      throw new ProbeUnavailableError('no graphical session (DISPLAY is not set)');
    default:
      throw new ProbeUnavailableError(`no probe for platform ${where.platform}`);
  }
}

/**
 * Opens the probe for this environment. The native modules (and ffi-rs) are imported only here,
 * on demand, so importing this file is safe anywhere (including worker threads).
 */
export async function openProbe(opts: { log?: Logger; where?: ProbeEnvironment; display?: string } = {}): Promise<Probe> {
  const where = opts.where ?? { platform: process.platform, env: process.env };
  const backend = chooseBackend(where);
  switch (backend) {
    case 'x11': {
      const { X11Probe } = await import('./linux/x11.js');
      return X11Probe.open({ display: opts.display ?? where.env.DISPLAY, log: opts.log });
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

function wrapNative<T>(open: () => T, what: string): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof ProbeUnavailableError) throw err;
    throw new ProbeUnavailableError(`${what} system libraries cannot be loaded: ${(err as Error).message}`);
  }
}
