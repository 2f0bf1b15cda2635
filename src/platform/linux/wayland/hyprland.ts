import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { Logger } from '../../../log.js';
import { ProbeUnavailableError, UNKNOWN, type ActiveWindow } from '../../types.js';
import { CompositorProbe } from './compositor-probe.js';
import type { IdleSource } from './idle.js';
import { WindowCache } from './window-cache.js';

/**
 * Hyprland's sockets live in $XDG_RUNTIME_DIR/hypr/<signature>/ (before 0.40: /tmp/hypr/<signature>/):
 * `.socket.sock` answers one request per connection ("j/activewindow" → JSON, then closes),
 * `.socket2.sock` streams events as lines "EVENT>>DATA".
 */
export function hyprlandDir(env: Record<string, string | undefined>): string | null {
  const sig = env.HYPRLAND_INSTANCE_SIGNATURE;
  if (!sig) return null;
  const candidates = [env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'hypr', sig) : null, path.join('/tmp/hypr', sig)];
  return candidates.find((d) => d && fs.existsSync(path.join(d, '.socket.sock'))) ?? null;
}

/** `j/activewindow` JSON → {app, title, pid}; "{}" or no address (nothing focused) → null. */
export function hyprlandWindow(o: { address?: unknown; class?: unknown; initialClass?: unknown; title?: unknown; pid?: unknown } | null): ActiveWindow | null {
  if (!o || typeof o !== 'object' || !o.address) return null;
  const app = typeof o.class === 'string' && o.class ? o.class : typeof o.initialClass === 'string' && o.initialClass ? o.initialClass : UNKNOWN;
  const w: ActiveWindow = { app, title: typeof o.title === 'string' ? o.title : UNKNOWN };
  if (typeof o.pid === 'number' && o.pid > 0) w.pid = o.pid;
  return w;
}

/** One request on the request socket: write the command, read until Hyprland closes. */
export function hyprctl(dir: string, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path.join(dir, '.socket.sock'));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`Hyprland did not answer ${command}`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(command));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

const WINDOW_EVENTS = new Set(['activewindow', 'activewindowv2', 'windowtitle', 'windowtitlev2', 'closewindow', 'workspace', 'workspacev2', 'focusedmon']);

export interface HyprlandProbeOptions {
  env: Record<string, string | undefined>;
  idle: () => IdleSource;
  log?: Logger;
  /** Safety net: re-ask at most this often without an event. Default 10 s. */
  refreshMs?: number;
  reconnectMs?: number;
}

/**
 * Hyprland: the active window from `j/activewindow`, kept current by the event socket (focus,
 * title, close and workspace events re-read it once), so polls are answered from the cache.
 */
export class HyprlandProbe extends CompositorProbe {
  readonly kind = 'hyprland';
  private events: net.Socket | null = null;
  private lastConnectFailure = 0;
  private readonly cache: WindowCache;
  private refreshing: Promise<ActiveWindow | null> | null = null;

  constructor(private readonly o: HyprlandProbeOptions) {
    super(o.idle);
    this.cache = new WindowCache(o.refreshMs ?? 10_000);
  }

  static async open(o: HyprlandProbeOptions): Promise<HyprlandProbe> {
    if (!hyprlandDir(o.env)) throw new ProbeUnavailableError(`no Hyprland socket for HYPRLAND_INSTANCE_SIGNATURE=${o.env.HYPRLAND_INSTANCE_SIGNATURE ?? ''}`);
    return new HyprlandProbe(o);
  }

  get subscribed(): boolean {
    return !!this.events && !this.events.destroyed;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    if (this.closed) throw new ProbeUnavailableError('probe closed');
    this.subscribe();
    const cached = this.cache.fresh();
    if (cached) return cached.window;
    return this.refresh();
  }

  override onChange(cb: () => void): () => void {
    this.subscribe();
    return super.onChange(cb);
  }

  override close(): void {
    super.close();
    this.events?.destroy();
    this.events = null;
  }

  // ---- internals

  private refresh(): Promise<ActiveWindow | null> {
    this.refreshing ??= (async () => {
      const dir = hyprlandDir(this.o.env);
      if (!dir) throw new ProbeUnavailableError('Hyprland socket gone (compositor stopped?)');
      let text: string;
      try {
        text = await hyprctl(dir, 'j/activewindow');
      } catch (err) {
        throw new ProbeUnavailableError(`Hyprland request socket: ${(err as Error).message}`);
      }
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        throw new Error(`Hyprland answered activewindow with something that is not JSON: ${text.slice(0, 80)}`);
      }
      const w = hyprlandWindow(o as Parameters<typeof hyprlandWindow>[0]);
      if (this.cache.set(w)) this.changes.emit();
      return w;
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** Keeps one event connection; after a failure tries again at most every reconnectMs. */
  private subscribe(): void {
    if (this.closed || this.subscribed) return;
    if (Date.now() - this.lastConnectFailure < (this.o.reconnectMs ?? 2_000)) return;
    const dir = hyprlandDir(this.o.env);
    if (!dir) return;
    const sock = net.createConnection(path.join(dir, '.socket2.sock'));
    this.events = sock;
    sock.on('error', (err) => {
      this.lastConnectFailure = Date.now();
      this.o.log?.debug({ err: err.message }, 'hyprland: event socket error');
    });
    sock.on('close', () => {
      if (this.events === sock) this.events = null;
      // Events may have been missed: the next poll asks again.
      this.cache.clear();
    });
    readline.createInterface({ input: sock }).on('line', (line) => this.onEvent(line));
  }

  private onEvent(line: string): void {
    const sep = line.indexOf('>>');
    if (sep < 0) return;
    const name = line.slice(0, sep);
    if (!WINDOW_EVENTS.has(name)) return;
    const data = line.slice(sep + 2);
    if (name === 'activewindow') {
      // "class,title": the title may contain commas, the class does not. Set at once so the
      // watcher's wake-up poll sees it; the re-read below adds the pid.
      const comma = data.indexOf(',');
      const cls = comma < 0 ? data : data.slice(0, comma);
      const title = comma < 0 ? '' : data.slice(comma + 1);
      const w = cls || title ? { app: cls || UNKNOWN, title } : null;
      const prev = this.cache.peek();
      if (w && prev && prev.app === w.app && prev.title === w.title && prev.pid) return;
      if (this.cache.set(w)) this.changes.emit();
    }
    this.refresh().catch((err: Error) => this.o.log?.debug({ err: err.message }, 'hyprland: refresh after event failed'));
  }
}
