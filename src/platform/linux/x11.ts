import { createRequire } from 'node:module';
import type { Logger } from '../../log.js';
import { ProbeUnavailableError, UNKNOWN, type ActiveWindow, type Probe } from '../types.js';
import { decodeTextProperty, wmClassName } from './text.js';

/** The part of the `x11` package (CommonJS, untyped) that we use. */
interface XProperty {
  type: number;
  format: number;
  bytesAfter: number;
  data: Buffer;
}
type Cb<T> = (err: (Error & { error?: number }) | null | undefined, value: T) => unknown;
interface XClient {
  InternAtom(onlyIfExists: boolean, name: string, cb: Cb<number>): void;
  GetAtomName(atom: number, cb: Cb<string>): void;
  GetProperty(del: number, wid: number, prop: number, type: number, offset: number, length: number, cb: Cb<XProperty>): void;
  QueryTree(wid: number, cb: Cb<{ root: number; parent: number; children: number[] }>): void;
  require(ext: string, cb: Cb<ScreenSaverExt>): void;
  ChangeWindowAttributes(wid: number, values: { eventMask: number }, cb: (err: unknown) => boolean): void;
  on(ev: string, fn: (...a: any[]) => void): void;
  removeAllListeners(ev?: string): void;
  terminate(): void;
  stream?: { destroy(): void };
}
interface ScreenSaverExt {
  QueryInfo(drawable: number, cb: Cb<{ state: number; idle: number; kind: number }>): void;
}
interface XDisplay {
  client: XClient;
  screen: Array<{ root: number }>;
}
interface X11Module {
  createClient(opts: { display?: string }, cb: (err: Error | null | undefined, display: XDisplay) => void): XClient;
}

const require = createRequire(import.meta.url);
let x11mod: X11Module | null = null;
const loadX11 = (): X11Module => (x11mod ??= require('x11') as X11Module);

// Predefined atoms (X protocol, Appendix B).
const ATOM_STRING = 31;
const ATOM_WM_NAME = 39;
const ATOM_WM_CLASS = 67;
const ANY_PROPERTY_TYPE = 0;
const SAVER_ON = 1;
const PROPERTY_NOTIFY = 28;
const PROPERTY_CHANGE_MASK = 0x00400000;

const NEEDED_ATOMS = ['_NET_ACTIVE_WINDOW', '_NET_WM_NAME', '_NET_WM_PID', 'UTF8_STRING', 'COMPOUND_TEXT'] as const;
type AtomName = (typeof NEEDED_ATOMS)[number];

interface Conn {
  client: XClient;
  root: number;
  saver: ScreenSaverExt | null;
  /** The QueryInfo in flight, shared by callers in the same poll. */
  saverAsk: Promise<{ state: number; idle: number }> | null;
  atoms: Record<AtomName, number>;
  typeNames: Map<number, string>;
  dead: boolean;
  pending: Set<(err: Error) => void>;
  /** PropertyNotify selected on the root window (for _NET_ACTIVE_WINDOW). */
  watchingRoot: boolean;
  /** The window whose title changes we listen to (the last active one read), 0 for none. */
  watched: number;
}

export interface X11ProbeOptions {
  display?: string;
  log?: Logger;
  /** A request without an answer for this long means the server is wedged: drop the connection. */
  requestTimeoutMs?: number;
  /** Don't retry connecting more often than this after a failure. */
  reconnectMs?: number;
}

/** An X protocol error (BadWindow for a window that just closed, ...): the value is unreadable. */
class XRequestError extends Error {}

/**
 * X11 probe over one kept-open connection (pure-JS `x11` package). Idle time and saver state come
 * from MIT-SCREEN-SAVER, the active window from EWMH properties set by the window manager.
 * When the X server goes away, calls reject with ProbeUnavailableError and the next call after
 * `reconnectMs` reconnects.
 */
export class X11Probe implements Probe {
  readonly kind = 'x11';
  private conn: Conn | null = null;
  private connecting: Promise<Conn> | null = null;
  private lastFailure = 0;
  private lastFailureError: ProbeUnavailableError | null = null;
  private closed = false;
  private readonly display: string | undefined;
  private readonly timeoutMs: number;
  private readonly reconnectMs: number;
  private readonly log: Logger | undefined;
  private generation = 0;
  private readonly listeners = new Set<() => void>();

  constructor(opts: X11ProbeOptions = {}) {
    this.display = opts.display;
    this.timeoutMs = opts.requestTimeoutMs ?? 2_000;
    this.reconnectMs = opts.reconnectMs ?? 2_000;
    this.log = opts.log;
  }

  /** Connects once (so a missing server is reported at start). */
  static async open(opts: X11ProbeOptions = {}): Promise<X11Probe> {
    const p = new X11Probe(opts);
    await p.connection();
    return p;
  }

  get connected(): boolean {
    return !!this.conn && !this.conn.dead;
  }

  async idleSeconds(): Promise<number> {
    const c = await this.connection();
    if (!c.saver) throw new ProbeUnavailableError('X server has no MIT-SCREEN-SAVER extension');
    return (await this.saverInfo(c)).idle / 1000;
  }

  async locked(): Promise<boolean> {
    const c = await this.connection();
    if (!c.saver) return false;
    return (await this.saverInfo(c)).state === SAVER_ON;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    const c = await this.connection();
    this.watch(c, c.root);
    const wid = await this.activeWindowId(c);
    // Listen before reading: the server handles requests in order, so a title set after the reads
    // below is reported by an event, one set before is in what they read.
    this.watch(c, wid);
    if (!wid) return { app: UNKNOWN, title: UNKNOWN };
    return this.describeWindow(wid);
  }

  /**
   * Focus and title changes arrive as PropertyNotify events once `activeWindow()` was called: on the
   * root window for _NET_ACTIVE_WINDOW, on the active window for its title and class.
   */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Moves with every change event and every lost connection: while it stands, the last answer of `activeWindow()` holds. */
  changeCount(): number {
    return this.generation;
  }

  /** Reads one window's app / title / pid; a window that vanished meanwhile gives "unknown" parts. */
  async describeWindow(wid: number): Promise<ActiveWindow> {
    const c = await this.connection();
    const [app, title, pid] = await Promise.all([this.appOf(c, wid), this.titleOf(c, wid), this.pidOf(c, wid)]);
    const w: ActiveWindow = { app: app ?? UNKNOWN, title: title ?? UNKNOWN };
    if (pid !== null) w.pid = pid;
    return w;
  }

  close(): void {
    this.closed = true;
    if (this.conn) this.drop(this.conn, new ProbeUnavailableError('probe closed'));
    this.conn = null;
  }

  // ---- internals

  /** One QueryInfo answers both idleSeconds() and locked() when they are asked together (the AFK poll). */
  private saverInfo(c: Conn): Promise<{ state: number; idle: number }> {
    if (c.saverAsk) return c.saverAsk;
    const ask = this.call<{ state: number; idle: number }>(c, (cb) => c.saver!.QueryInfo(c.root, cb));
    c.saverAsk = ask;
    const clear = (): void => {
      if (c.saverAsk === ask) c.saverAsk = null;
    };
    ask.then(clear, clear);
    return ask;
  }

  private changed(): void {
    this.generation++;
    for (const cb of [...this.listeners]) cb();
  }

  /** Selects PropertyNotify on the root window (once) or on the active window (instead of the previous one). */
  private watch(c: Conn, wid: number): void {
    const ignore = (): boolean => true; // BadWindow: it closed meanwhile, nothing to listen to
    if (wid === c.root ? c.watchingRoot : wid === c.watched) return;
    try {
      if (wid === c.root) c.watchingRoot = true;
      else {
        if (c.watched) c.client.ChangeWindowAttributes(c.watched, { eventMask: 0 }, ignore);
        c.watched = wid;
      }
      if (wid) c.client.ChangeWindowAttributes(wid, { eventMask: PROPERTY_CHANGE_MASK }, ignore);
    } catch (err) {
      this.drop(c, new ProbeUnavailableError(`X request failed: ${(err as Error).message}`));
    }
  }

  private onEvent(c: Conn, ev: { type: number; wid?: number; atom?: number }): void {
    if (ev.type !== PROPERTY_NOTIFY) return;
    const relevant =
      ev.wid === c.root
        ? ev.atom === c.atoms._NET_ACTIVE_WINDOW
        : ev.wid === c.watched && (ev.atom === c.atoms._NET_WM_NAME || ev.atom === ATOM_WM_NAME || ev.atom === ATOM_WM_CLASS);
    if (relevant) this.changed();
  }

  private async activeWindowId(c: Conn): Promise<number> {
    const prop = await this.prop(c, c.root, c.atoms._NET_ACTIVE_WINDOW, ANY_PROPERTY_TYPE, 1);
    if (!prop || prop.format !== 32 || prop.data.length < 4) return 0;
    return prop.data.readUInt32LE(0);
  }

  private async appOf(c: Conn, wid: number): Promise<string | null> {
    const own = await this.prop(c, wid, ATOM_WM_CLASS, ATOM_STRING, 256);
    const cls = own ? wmClassName(own.data) : null;
    if (cls) return cls;
    // Some toolkits put WM_CLASS only on a frame / parent window.
    const tree = await this.call<{ root: number; parent: number }>(c, (cb) => c.client.QueryTree(wid, cb)).catch(ignoreXError);
    if (!tree || !tree.parent || tree.parent === tree.root) return null;
    const parent = await this.prop(c, tree.parent, ATOM_WM_CLASS, ATOM_STRING, 256);
    return parent ? wmClassName(parent.data) : null;
  }

  private async titleOf(c: Conn, wid: number): Promise<string | null> {
    const net = await this.prop(c, wid, c.atoms._NET_WM_NAME, c.atoms.UTF8_STRING, 1024);
    if (net && net.data.length > 0 && net.type !== 0) return decodeTextProperty('UTF8_STRING', net.data);
    const legacy = await this.prop(c, wid, ATOM_WM_NAME, ANY_PROPERTY_TYPE, 1024);
    if (!legacy || legacy.type === 0) return null;
    return decodeTextProperty(await this.typeName(c, legacy.type), legacy.data);
  }

  private async pidOf(c: Conn, wid: number): Promise<number | null> {
    const prop = await this.prop(c, wid, c.atoms._NET_WM_PID, ANY_PROPERTY_TYPE, 1);
    if (!prop || prop.format !== 32 || prop.data.length < 4) return null;
    return prop.data.readUInt32LE(0) || null;
  }

  private async typeName(c: Conn, atom: number): Promise<string> {
    const known = c.typeNames.get(atom);
    if (known) return known;
    const name = await this.call<string>(c, (cb) => c.client.GetAtomName(atom, cb)).catch(() => '');
    if (name) c.typeNames.set(atom, name);
    return name;
  }

  /** GetProperty; null when the window is gone (BadWindow) or the property is absent. */
  private async prop(c: Conn, wid: number, atom: number, type: number, longs: number): Promise<XProperty | null> {
    if (!atom) return null;
    const p = await this.call<XProperty>(c, (cb) => c.client.GetProperty(0, wid, atom, type, 0, longs, cb)).catch(ignoreXError);
    if (!p || p.type === 0) return null;
    return p;
  }

  /** One request with a reply, bounded by a timeout; rejections are XRequestError or unavailable. */
  private call<T>(c: Conn, send: (cb: Cb<T>) => void): Promise<T> {
    if (c.dead) return Promise.reject(new ProbeUnavailableError('X server connection lost'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        c.pending.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => {
        // No answer at all: treat the connection as broken, the next call reconnects.
        this.drop(c, new ProbeUnavailableError('X server does not answer'));
      }, this.timeoutMs);
      c.pending.add(fail);
      try {
        send((err, value) => {
          if (settled) return true;
          if (err) {
            fail(new XRequestError(err.message));
            return true; // handled: keeps the library from re-emitting it as 'error'
          }
          settled = true;
          clearTimeout(timer);
          c.pending.delete(fail);
          resolve(value);
          return true;
        });
      } catch (err) {
        fail(new ProbeUnavailableError(`X request failed: ${(err as Error).message}`));
      }
    });
  }

  private drop(c: Conn, err: Error): void {
    if (c.dead) return;
    c.dead = true;
    for (const fail of [...c.pending]) fail(err);
    c.pending.clear();
    try {
      c.client.terminate();
    } catch {
      // socket already gone
    }
    if (this.conn === c) this.conn = null;
    this.changed(); // whoever waits for changes finds out the connection is gone
  }

  private connection(): Promise<Conn> {
    if (this.closed) return Promise.reject(new ProbeUnavailableError('probe closed'));
    if (this.conn && !this.conn.dead) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    if (this.lastFailureError && Date.now() - this.lastFailure < this.reconnectMs) {
      return Promise.reject(this.lastFailureError);
    }
    this.connecting = this.connect().then(
      (c) => {
        this.connecting = null;
        this.lastFailureError = null;
        if (this.closed) {
          this.drop(c, new ProbeUnavailableError('probe closed'));
          throw new ProbeUnavailableError('probe closed');
        }
        this.conn = c;
        this.log?.info({ display: this.display ?? process.env.DISPLAY }, 'x11: connected');
        return c;
      },
      (err: unknown) => {
        this.connecting = null;
        this.lastFailure = Date.now();
        this.lastFailureError =
          err instanceof ProbeUnavailableError ? err : new ProbeUnavailableError(`cannot connect to X server: ${(err as Error).message}`);
        throw this.lastFailureError;
      },
    );
    return this.connecting;
  }

  private connect(): Promise<Conn> {
    const display = this.display ?? process.env.DISPLAY;
    if (!display) return Promise.reject(new ProbeUnavailableError('DISPLAY is not set'));
    const x11 = loadX11();
    return new Promise<Conn>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => finish(new Error(`no answer from display ${display}`)), this.timeoutMs * 2);
      const finish = (err: Error | null, c?: Conn): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          try {
            client.terminate();
          } catch {
            // nothing to close
          }
          reject(err);
        } else resolve(c!);
      };
      let conn: Conn | null = null;
      const client = x11.createClient({ display }, (err, dpy) => {
        if (err) return finish(err);
        conn = {
          client: dpy.client,
          root: dpy.screen[0]!.root,
          saver: null,
          saverAsk: null,
          atoms: {} as Record<AtomName, number>,
          typeNames: new Map([[ATOM_STRING, 'STRING']]),
          dead: false,
          pending: new Set(),
          watchingRoot: false,
          watched: 0,
        };
        this.setup(conn).then(() => finish(null, conn!), (e: Error) => finish(e));
      });
      // Protocol errors nobody claimed (e.g. for a window that closed) and socket errors land here;
      // without a listener they would throw from the library's parser.
      client.on('error', (err: Error & { code?: string; seq?: number }) => {
        if (conn && err.seq === undefined) this.drop(conn, new ProbeUnavailableError(`X connection error: ${err.message}`));
        else if (!conn) finish(err);
        else this.log?.debug({ err: err.message }, 'x11: unclaimed protocol error');
      });
      client.on('event', (ev: { type: number; wid?: number; atom?: number }) => {
        if (conn && !conn.dead) this.onEvent(conn, ev);
      });
      client.on('end', () => {
        if (conn) this.drop(conn, new ProbeUnavailableError('X server closed the connection'));
        else finish(new Error('X server closed the connection'));
      });
    });
  }

  private async setup(c: Conn): Promise<void> {
    const ids = await Promise.all(NEEDED_ATOMS.map((name) => this.call<number>(c, (cb) => c.client.InternAtom(false, name, cb))));
    NEEDED_ATOMS.forEach((name, i) => {
      c.atoms[name] = ids[i]!;
      if (name === 'UTF8_STRING' || name === 'COMPOUND_TEXT') c.typeNames.set(ids[i]!, name);
    });
    c.saver = await new Promise<ScreenSaverExt | null>((resolve) => {
      try {
        c.client.require('screen-saver', (err, ext) => resolve(err ? null : ext));
      } catch {
        resolve(null);
      }
    });
    if (!c.saver) this.log?.warn('x11: MIT-SCREEN-SAVER extension missing, idle time unavailable');
  }
}

function ignoreXError(err: unknown): null {
  if (err instanceof XRequestError) return null;
  throw err;
}
