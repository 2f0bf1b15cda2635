import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { Logger } from '../../../log.js';
import { ProbeUnavailableError } from '../../types.js';

/** Where a Wayland probe gets "seconds since the last input" and the lock state from. */
export interface IdleSource {
  idleSeconds(): Promise<number>;
  locked(): Promise<boolean>;
  close(): void;
}

export interface SwayidleOptions {
  /** The session's environment (WAYLAND_DISPLAY, XDG_RUNTIME_DIR) for swayidle to reach the compositor. */
  env: Record<string, string | undefined>;
  /**
   * swayidle reports "no input for N s" only as a timeout: the resolution of the idle time. Default
   * 5 s, the AFK watcher's default poll (the X11 watcher's resolution is one poll too).
   */
  stepSeconds?: number;
  binary?: string;
  log?: Logger;
  /** Another lock signal (login1 LockedHint), or'ed with swayidle's lock / unlock hooks; closed with this source. */
  loginLock?: { locked(): Promise<boolean>; close(): void };
  now?: () => number;
  /** false: don't spawn swayidle; lines are fed through `line()` (tests of the bookkeeping). */
  spawn?: boolean;
}

/**
 * Idle time on wlroots compositors through a supervised `swayidle` child (it speaks the compositor's
 * idle protocol): its timeout / resume hooks print "idle" / "resume" on its stdout, which we read.
 *
 * swayidle only says "no input for step s" and "input again", so the last input is reconstructed:
 * on "idle" at t it was t − step; while no "idle" is pending the user is active. The last input is
 * never moved before a moment already reported as active (idle 0), so AFK periods never start
 * before the end of a recorded active period.
 */
export class SwayidleSource implements IdleSource {
  private child: ChildProcess | null = null;
  private exited: string | null = null;
  private lastStderr = '';
  private idleSince: number | null = null;
  private claimedActive = 0;
  private lockedByHook = false;
  private closed = false;
  private readonly now: () => number;
  readonly stepSeconds: number;

  constructor(private readonly opts: SwayidleOptions) {
    this.now = opts.now ?? Date.now;
    this.stepSeconds = Math.max(1, Math.round(opts.stepSeconds ?? 5));
    if (opts.spawn !== false) this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async idleSeconds(): Promise<number> {
    this.check();
    const now = this.now();
    if (this.idleSince === null) {
      this.claimedActive = now;
      return 0;
    }
    return Math.max(0, (now - this.idleSince) / 1000);
  }

  async locked(): Promise<boolean> {
    this.check();
    if (this.lockedByHook) return true;
    return this.opts.loginLock ? this.opts.loginLock.locked().catch(() => false) : false;
  }

  close(): void {
    this.closed = true;
    this.opts.loginLock?.close();
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }

  /** Feeds one line of swayidle's stdout (exposed for the tests of the bookkeeping). */
  line(text: string): void {
    const now = this.now();
    switch (text.trim()) {
      case 'idle':
        this.idleSince = Math.max(now - this.stepSeconds * 1000, this.claimedActive);
        break;
      case 'resume':
        this.idleSince = null;
        break;
      case 'lock':
        this.lockedByHook = true;
        break;
      case 'unlock':
        this.lockedByHook = false;
        break;
      default:
        this.opts.log?.debug({ line: text }, 'swayidle: unexpected output');
    }
  }

  private check(): void {
    if (this.closed) throw new ProbeUnavailableError('probe closed');
    if (this.exited) throw new ProbeUnavailableError(this.exited);
  }

  private start(): void {
    const binary = this.opts.binary ?? 'swayidle';
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.opts.env)) if (v !== undefined) env[k] = v;
    // -w: run the hooks one at a time, in order (each as `sh -c` straight from swayidle). lock /
    // unlock come from logind where there is one. When nobody reads any more (the daemon was killed
    // without stopping us), the write fails and the hook ends swayidle instead of leaving it behind.
    const hook = (word: string): string => `trap '' PIPE; echo ${word} || kill $PPID`;
    const args = ['-w', 'timeout', String(this.stepSeconds), hook('idle'), 'resume', hook('resume'), 'lock', hook('lock'), 'unlock', hook('unlock')];
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    readline.createInterface({ input: child.stdout! }).on('line', (l) => this.line(l));
    readline.createInterface({ input: child.stderr! }).on('line', (l) => {
      if (l.trim()) this.lastStderr = l.trim();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.exited =
        err.code === 'ENOENT' ? `${binary} is not installed (it reports idle time on sway / wlroots; Debian/Ubuntu: apt install swayidle)` : `${binary}: ${err.message}`;
    });
    child.on('exit', (code, signal) => {
      if (this.closed) return;
      // The runner closes this probe on the ProbeUnavailableError and opens a new one after its retry delay.
      this.exited ??= `${binary} exited (${signal ?? `code ${code}`})${this.lastStderr ? `: ${this.lastStderr}` : ''}`;
      this.opts.log?.warn({ reason: this.exited }, 'swayidle exited');
    });
    this.opts.log?.debug({ pid: child.pid, step: this.stepSeconds }, 'swayidle started');
  }
}
