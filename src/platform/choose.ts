import { ProbeUnavailableError } from './types.js';

export interface ProbeEnvironment {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
}

export const PROBE_NAMES = ['x11', 'sway', 'hyprland', 'kde', 'gnome', 'macos', 'windows'] as const;
export type ProbeBackend = (typeof PROBE_NAMES)[number];
/** `watchers.probe` in the config: `auto` decides by the environment, a name forces that probe. */
export type ProbeSetting = 'auto' | ProbeBackend;

export interface ProbeChoice {
  backend: ProbeBackend;
  /** Why, in words a user can check against their session (shown by `sundial status`). */
  reason: string;
}

const isProbeName = (s: string): s is ProbeBackend => (PROBE_NAMES as readonly string[]).includes(s);

/** XDG_CURRENT_DESKTOP is a colon-separated list ("ubuntu:GNOME", "KDE"). */
const desktops = (env: ProbeEnvironment['env']): string[] => (env.XDG_CURRENT_DESKTOP ?? '').split(':').map((d) => d.trim().toUpperCase()).filter(Boolean);

/**
 * Which probe fits this session, decided by its environment only (never by "the first protocol
 * that answers": a probe for one compositor answering on another would hide the right one).
 * Inside a Wayland session an XWayland DISPLAY never wins: X11 sees only X applications there.
 * Throws ProbeUnavailableError("unavailable: <reason>") when nothing fits.
 */
export function chooseProbe(where: ProbeEnvironment, setting: string = 'auto'): ProbeChoice {
  if (setting !== 'auto') {
    if (!isProbeName(setting)) {
      throw new ProbeUnavailableError(`config watchers.probe is "${setting}"; expected auto or one of ${PROBE_NAMES.join(', ')}`);
    }
    return { backend: setting, reason: `forced by config watchers.probe = "${setting}"` };
  }
  switch (where.platform) {
    case 'darwin':
      return { backend: 'macos', reason: 'macOS' };
    case 'win32':
      return { backend: 'windows', reason: 'Windows' };
    case 'linux':
    case 'freebsd':
    case 'openbsd':
    case 'netbsd' as NodeJS.Platform:
      return chooseUnixProbe(where.env);
    default:
      throw new ProbeUnavailableError(`no probe for platform ${where.platform}`);
  }
}

function chooseUnixProbe(env: ProbeEnvironment['env']): ProbeChoice {
  const declared = env.XDG_SESSION_TYPE;
  // XDG_SESSION_TYPE is "tty" when the compositor was started from a console: then the
  // variables the compositor sets for its clients (WAYLAND_DISPLAY, DISPLAY) decide.
  const wayland = declared === 'wayland' || (declared !== 'x11' && !!env.WAYLAND_DISPLAY);
  const x11Declared = declared === 'x11';
  const session = declared === 'wayland' ? 'XDG_SESSION_TYPE=wayland' : `WAYLAND_DISPLAY=${env.WAYLAND_DISPLAY}`;
  const xwayland = env.DISPLAY ? `; DISPLAY=${env.DISPLAY} is XWayland and sees only X11 apps` : '';

  // Compositor-specific sockets name the compositor exactly; they are set only inside it.
  if (!x11Declared && env.SWAYSOCK) return { backend: 'sway', reason: `SWAYSOCK is set (sway / i3-IPC compositor)${wayland ? xwayland : ''}` };
  if (!x11Declared && env.HYPRLAND_INSTANCE_SIGNATURE) {
    return { backend: 'hyprland', reason: `HYPRLAND_INSTANCE_SIGNATURE is set (Hyprland)${wayland ? xwayland : ''}` };
  }
  const desk = desktops(env);
  if (wayland) {
    if (desk.includes('KDE')) return { backend: 'kde', reason: `XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP} in a Wayland session (${session})${xwayland}` };
    if (desk.includes('GNOME')) return { backend: 'gnome', reason: `XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP} in a Wayland session (${session})${xwayland}` };
    const what = env.XDG_CURRENT_DESKTOP ? `XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP}` : 'an unnamed compositor';
    throw new ProbeUnavailableError(
      `Wayland session (${session}) of ${what}: no probe for it (supported: sway and i3-IPC compositors, Hyprland, KDE Plasma, GNOME); ` +
        `an XWayland DISPLAY would see only X11 apps, so it is not used (set watchers.probe = "x11" to force it)`,
    );
  }
  if (env.DISPLAY) {
    const desktop = env.XDG_CURRENT_DESKTOP ? `, XDG_CURRENT_DESKTOP=${env.XDG_CURRENT_DESKTOP}` : '';
    return { backend: 'x11', reason: `X11 session (DISPLAY=${env.DISPLAY}${x11Declared ? ', XDG_SESSION_TYPE=x11' : ''}${desktop})` };
  }
  throw new ProbeUnavailableError('no graphical session (neither WAYLAND_DISPLAY nor DISPLAY is set)');
}
