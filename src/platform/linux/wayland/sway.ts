import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../../log.js';
import { ProbeUnavailableError, UNKNOWN, type ActiveWindow } from '../../types.js';
import { CompositorProbe } from './compositor-probe.js';
import { connectI3, I3_EVENT, I3_MSG, type I3Connection } from './i3ipc.js';
import type { IdleSource } from './idle.js';
import { WindowCache } from './window-cache.js';

/** The parts of a sway tree node we read (GET_TREE / window events). */
export interface SwayNode {
  id?: number;
  type?: string;
  name?: string | null;
  focused?: boolean;
  app_id?: string | null;
  pid?: number;
  window_properties?: { class?: string; instance?: string; title?: string };
  nodes?: SwayNode[];
  floating_nodes?: SwayNode[];
}

/** The focused node of a tree, depth first over tiled and floating children. */
export function focusedNode(n: SwayNode): SwayNode | null {
  if (n.focused) return n;
  for (const c of [...(n.nodes ?? []), ...(n.floating_nodes ?? [])]) {
    const f = focusedNode(c);
    if (f) return f;
  }
  return null;
}

/**
 * A window node as {app, title, pid}: native Wayland windows have `app_id`, XWayland windows
 * `window_properties.class`. A focused workspace / output (empty workspace) is "no window": null.
 */
export function swayWindow(n: SwayNode | null): ActiveWindow | null {
  if (!n || (n.type !== 'con' && n.type !== 'floating_con')) return null;
  const app = n.app_id || n.window_properties?.class || UNKNOWN;
  const title = typeof n.name === 'string' ? n.name : UNKNOWN;
  const w: ActiveWindow = { app, title };
  if (typeof n.pid === 'number' && n.pid > 0) w.pid = n.pid;
  return w;
}

/**
 * The sway IPC socket: SWAYSOCK, or, when that socket is gone (sway restarted and got a new pid in
 * its socket name), the newest `sway-ipc.<uid>.<pid>.sock` of this user in the same directory.
 */
export function findSwaySocket(configured: string | undefined, runtimeDir?: string, uid = process.getuid?.() ?? 0): string | null {
  if (configured && fs.existsSync(configured)) return configured;
  const dir = configured ? path.dirname(configured) : runtimeDir;
  if (!dir) return null;
  let best: { file: string; mtime: number } | null = null;
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  // The owner of the configured socket's directory is the compositor's user (tests run sway as another user).
  const owners = new Set([uid]);
  try {
    owners.add(fs.statSync(dir).uid);
  } catch {
    // dir vanished
  }
  for (const name of names) {
    const m = /^sway-ipc\.(\d+)\.\d+\.sock$/.exec(name);
    if (!m || !owners.has(Number(m[1]))) continue;
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      if (st.isSocket() && (!best || st.mtimeMs > best.mtime)) best = { file, mtime: st.mtimeMs };
    } catch {
      // raced with removal
    }
  }
  return best?.file ?? null;
}

export interface SwayProbeOptions {
  /** SWAYSOCK. */
  socketPath: string | undefined;
  /** XDG_RUNTIME_DIR, where sway's socket is looked for when SWAYSOCK is unset (probe forced by config). */
  runtimeDir?: string;
  /** Idle and lock state (a supervised swayidle); opened on first use, so the window watcher never starts one. */
  idle: () => IdleSource;
  log?: Logger;
  /** Safety net: re-read the whole tree at most this often even when no event arrived. Default 10 s. */
  refreshMs?: number;
  /** Don't retry connecting more often than this. Default 2 s. */
  reconnectMs?: number;
  requestTimeoutMs?: number;
}

/**
 * sway (and other i3-IPC compositors): the focused window from GET_TREE, kept current by the
 * `window` and `workspace` events of one subscribed connection, so a poll costs no IPC round trip.
 * When sway restarts, the connection closes; the next call reconnects (finding the new socket).
 */
export class SwayProbe extends CompositorProbe {
  readonly kind = 'sway';
  private conn: I3Connection | null = null;
  private connecting: Promise<I3Connection> | null = null;
  private lastFailure = 0;
  private lastFailureError: ProbeUnavailableError | null = null;
  private readonly cache: WindowCache;
  socketPath: string | null;

  constructor(private readonly opts: SwayProbeOptions) {
    super(opts.idle);
    this.socketPath = opts.socketPath ?? null;
    this.cache = new WindowCache(opts.refreshMs ?? 10_000);
  }

  /** Checks the socket exists (a missing compositor is reported at start); connects lazily. */
  static async open(opts: SwayProbeOptions): Promise<SwayProbe> {
    const p = new SwayProbe(opts);
    if (!findSwaySocket(opts.socketPath, opts.runtimeDir)) throw new ProbeUnavailableError(`sway IPC socket ${opts.socketPath ?? '(SWAYSOCK unset)'} does not exist`);
    return p;
  }

  get connected(): boolean {
    return !!this.conn && !this.conn.closed;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    const conn = await this.connection();
    const cached = this.cache.fresh();
    if (cached) return cached.window;
    return this.refresh(conn);
  }

  override onChange(cb: () => void): () => void {
    // Subscribing means someone wants events: connect now rather than at the first poll.
    this.connection().catch(() => undefined);
    return super.onChange(cb);
  }

  override close(): void {
    super.close();
    this.conn?.close();
    this.conn = null;
  }

  // ---- internals

  private async refresh(conn: I3Connection): Promise<ActiveWindow | null> {
    const tree = await conn.request<SwayNode>(I3_MSG.GET_TREE).catch((err: Error) => {
      throw new ProbeUnavailableError(`sway IPC: ${err.message}`);
    });
    const w = swayWindow(focusedNode(tree));
    this.cache.set(w);
    return w;
  }

  private onEvent(conn: I3Connection, type: number, body: unknown): void {
    const e = body as { change?: string; container?: SwayNode; current?: SwayNode };
    if (type === I3_EVENT.window && e.container) {
      if ((e.change === 'focus' || e.change === 'title') && e.container.focused) {
        if (this.cache.set(swayWindow(e.container))) this.changes.emit();
        return;
      }
      // The focused window closed or moved away: focus may now be on an empty workspace.
      if (e.change === 'close' || e.change === 'move') this.refreshAndNotify(conn);
      return;
    }
    if (type === I3_EVENT.workspace && e.change === 'focus') this.refreshAndNotify(conn);
  }

  private refreshAndNotify(conn: I3Connection): void {
    const before = this.cache.peek();
    this.refresh(conn).then(
      (w) => {
        if (JSON.stringify(w) !== JSON.stringify(before)) this.changes.emit();
      },
      (err: Error) => this.opts.log?.debug({ err: err.message }, 'sway: tree refresh failed'),
    );
  }

  private connection(): Promise<I3Connection> {
    if (this.closed) return Promise.reject(new ProbeUnavailableError('probe closed'));
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    if (this.lastFailureError && Date.now() - this.lastFailure < (this.opts.reconnectMs ?? 2_000)) return Promise.reject(this.lastFailureError);
    this.connecting = this.connect().then(
      (c) => {
        this.connecting = null;
        this.lastFailureError = null;
        if (this.closed) {
          c.close();
          throw new ProbeUnavailableError('probe closed');
        }
        this.conn = c;
        return c;
      },
      (err: Error) => {
        this.connecting = null;
        this.lastFailure = Date.now();
        this.lastFailureError = err instanceof ProbeUnavailableError ? err : new ProbeUnavailableError(`cannot connect to sway: ${err.message}`);
        throw this.lastFailureError;
      },
    );
    return this.connecting;
  }

  private async connect(): Promise<I3Connection> {
    const file = findSwaySocket(this.socketPath ?? undefined, this.opts.runtimeDir);
    if (!file) throw new ProbeUnavailableError(`sway IPC socket ${this.socketPath ?? '(SWAYSOCK unset)'} does not exist (sway not running?)`);
    let conn: I3Connection | null = null;
    conn = await connectI3(file, {
      timeoutMs: this.opts.requestTimeoutMs,
      onEvent: (type, body) => conn && this.onEvent(conn, type, body),
      onClose: (reason) => {
        if (this.conn === conn) this.conn = null;
        this.cache.clear();
        if (!this.closed) {
          this.opts.log?.info({ reason }, 'sway: IPC connection closed');
          // Watchers poll at once and find out whether sway is back.
          this.changes.emit();
        }
      },
    });
    const sub = await conn.request<{ success?: boolean }>(I3_MSG.SUBSCRIBE, JSON.stringify(['window', 'workspace'])).catch((err: Error) => {
      conn?.close();
      throw err;
    });
    if (!sub.success) {
      conn.close();
      throw new ProbeUnavailableError('sway refused the window / workspace event subscription');
    }
    if (file !== this.socketPath) this.opts.log?.info({ socket: file }, 'sway: using the compositor\'s current IPC socket');
    this.socketPath = file;
    await this.refresh(conn);
    this.opts.log?.info({ socket: file }, 'sway: connected');
    return conn;
  }
}
