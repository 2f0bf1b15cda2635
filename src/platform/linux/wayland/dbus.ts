import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from '../../../log.js';
import { ProbeUnavailableError } from '../../types.js';

// dbus-next is CommonJS; loaded on demand so only the KDE / GNOME probes pay for it.
type DBus = typeof import('dbus-next');
export type MessageBus = import('dbus-next').MessageBus;
export type DBusMessage = import('dbus-next').Message;
const require = createRequire(import.meta.url);
let mod: DBus | null = null;
export const dbusNext = (): DBus => (mod ??= require('dbus-next') as DBus);

/** The session bus of this user: DBUS_SESSION_BUS_ADDRESS, else the systemd default under XDG_RUNTIME_DIR. */
export function sessionBusAddress(env: Record<string, string | undefined>): string | null {
  const systemd = env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/bus` : null;
  const given = env.DBUS_SESSION_BUS_ADDRESS;
  // dbus-next speaks abstract sockets only through an optional native module (usually not built):
  // prefer the same user's systemd bus socket when there is one.
  if (given && given.includes('abstract=') && systemd && fs.existsSync(systemd)) return `unix:path=${systemd}`;
  if (given) return given;
  if (systemd) return `unix:path=${systemd}`;
  return null;
}

export const systemBusAddress = (env: Record<string, string | undefined>): string =>
  env.DBUS_SYSTEM_BUS_ADDRESS || 'unix:path=/var/run/dbus/system_bus_socket';

export interface BusConnection {
  bus: MessageBus;
  /** False once the connection failed or closed. */
  readonly alive: boolean;
  close(): void;
}

/** Connects to a bus and waits for the Hello reply; connection errors become ProbeUnavailableError. */
export function connectBus(address: string, what: string, log?: Logger, timeoutMs = 3_000): Promise<BusConnection> {
  const d = dbusNext();
  return new Promise((resolve, reject) => {
    let alive = true;
    let settled = false;
    const bus = d.sessionBus({ busAddress: address });
    const conn: BusConnection = {
      bus,
      get alive() {
        return alive;
      },
      close() {
        alive = false;
        try {
          bus.disconnect();
        } catch {
          // already closed
        }
      },
    };
    const fail = (err: Error): void => {
      alive = false;
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        try {
          bus.disconnect();
        } catch {
          // never opened
        }
        reject(new ProbeUnavailableError(`cannot connect to the ${what} (${address}): ${err.message}`));
      } else log?.warn({ err: err.message, bus: what }, 'D-Bus connection lost');
    };
    const timer = setTimeout(() => fail(new Error('no answer')), timeoutMs);
    // Without an 'error' listener a lost bus would throw from the library's socket handler.
    bus.on('error', (err: Error) => fail(err));
    (bus as unknown as { on(ev: string, fn: () => void): void }).on('disconnect', () => {
      alive = false;
    });
    bus.on('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(conn);
    });
  });
}

/** One method call; resolves with the reply body, rejects with the D-Bus error (its `type` names it). */
export async function callMethod(
  bus: MessageBus,
  call: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] },
  timeoutMs = 2_000,
): Promise<unknown[]> {
  const d = dbusNext();
  const msg = new d.Message({ ...call, body: call.body ?? [] });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`D-Bus call ${call.interface}.${call.member} timed out`)), timeoutMs);
  });
  try {
    const reply = await Promise.race([bus.call(msg), timeout]);
    return reply?.body ?? [];
  } finally {
    clearTimeout(timer);
  }
}

/** The D-Bus error name of a failed call ("org.freedesktop.DBus.Error.ServiceUnknown"), if any. */
export const dbusErrorName = (err: unknown): string => (err as { type?: string })?.type ?? '';

/** Errors meaning "nobody serves this here" rather than "it failed this time". */
export const isAbsent = (err: unknown): boolean =>
  /\.(ServiceUnknown|UnknownObject|UnknownMethod|UnknownInterface|NotSupported|NameHasNoOwner)$/.test(dbusErrorName(err));

export const toNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v));

/** Subscribes this connection to signals matching the rule (org.freedesktop.DBus.AddMatch). */
export async function addMatch(bus: MessageBus, rule: string): Promise<void> {
  await callMethod(bus, {
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    interface: 'org.freedesktop.DBus',
    member: 'AddMatch',
    signature: 's',
    body: [rule],
  });
}

/**
 * The screen lock as logind sees it: the `LockedHint` of this session on the system bus
 * (org.freedesktop.login1). The session is XDG_SESSION_ID's, else the user's graphical session
 * (a daemon started as a systemd user service is outside the session's scope).
 */
export class LoginLock {
  private conn: BusConnection | null = null;
  private sessionPath: string | null = null;
  private failedAt = 0;

  constructor(private readonly env: Record<string, string | undefined>, private readonly log?: Logger) {}

  /** LockedHint; false when logind cannot be asked (no system bus, no session), retried after a minute. */
  async locked(): Promise<boolean> {
    if (Date.now() - this.failedAt < 60_000) return false;
    try {
      const bus = await this.bus();
      const path = (this.sessionPath ??= await this.findSession(bus));
      const [v] = await callMethod(bus, {
        destination: 'org.freedesktop.login1',
        path,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Get',
        signature: 'ss',
        body: ['org.freedesktop.login1.Session', 'LockedHint'],
      });
      return (v as { value?: unknown })?.value === true;
    } catch (err) {
      this.failedAt = Date.now();
      this.sessionPath = null;
      this.log?.debug({ err: (err as Error).message }, 'login1: LockedHint unavailable');
      return false;
    }
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
  }

  private async bus(): Promise<MessageBus> {
    if (this.conn?.alive) return this.conn.bus;
    this.conn = await connectBus(systemBusAddress(this.env), 'system bus', this.log);
    return this.conn.bus;
  }

  private async findSession(bus: MessageBus): Promise<string> {
    const manager = { destination: 'org.freedesktop.login1', path: '/org/freedesktop/login1', interface: 'org.freedesktop.login1.Manager' };
    if (this.env.XDG_SESSION_ID) {
      const [p] = await callMethod(bus, { ...manager, member: 'GetSession', signature: 's', body: [this.env.XDG_SESSION_ID] });
      return p as string;
    }
    const [display] = await callMethod(bus, {
      destination: 'org.freedesktop.login1',
      path: '/org/freedesktop/login1/user/self',
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: ['org.freedesktop.login1.User', 'Display'],
    });
    const [, path] = (display as { value: [string, string] }).value;
    if (!path || path === '/') throw new Error('no graphical session for this user');
    return path;
  }
}

/** A lazily opened bus connection, reopened when it was lost. */
export class BusHolder {
  private conn: BusConnection | null = null;
  private opening: Promise<BusConnection> | null = null;
  /** Runs on each new connection (AddMatch rules, exported handlers). */
  onConnect: ((bus: MessageBus) => Promise<void>) | null = null;

  constructor(private readonly address: string | null, private readonly what: string, private readonly log?: Logger) {}

  async get(): Promise<MessageBus> {
    if (this.conn?.alive) return this.conn.bus;
    if (!this.address) throw new ProbeUnavailableError(`no ${this.what} (DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are unset)`);
    this.opening ??= connectBus(this.address, this.what, this.log).then(
      async (c) => {
        try {
          await this.onConnect?.(c.bus);
        } catch (err) {
          c.close();
          throw err;
        } finally {
          this.opening = null;
        }
        this.conn = c;
        return c;
      },
      (err: unknown) => {
        this.opening = null;
        throw err;
      },
    );
    return (await this.opening).bus;
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
  }
}
