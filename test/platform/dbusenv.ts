/**
 * Test helpers: a private `dbus-daemon` (standing in for a session or system bus) and test-owned
 * services on it, written with dbus-next's low-level message API so they answer exactly what the
 * real desktop services answer (names, paths, interfaces, signatures).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { dbusNext, type DBusMessage, type MessageBus } from '../../src/platform/linux/wayland/dbus.js';

export interface PrivateBus {
  address: string;
  stop(): Promise<void>;
}

export async function startBus(): Promise<PrivateBus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-dbus-'));
  const p: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1', `--address=unix:path=${dir}/bus`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: p.stdout! });
    rl.once('line', (l) => resolve(l.trim()));
    p.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    p.once('error', reject);
  });
  return {
    address,
    async stop() {
      if (p.exitCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Reply = { signature: string; body: unknown[] } | { error: string; text?: string } | void;
export type Handler = (msg: DBusMessage) => Reply | Promise<Reply>;

/** A service connection: owns names, answers "path iface.member" calls, emits signals, calls others. */
export class TestService {
  private handlers = new Map<string, Handler>();
  calls: string[] = [];

  private constructor(readonly bus: MessageBus) {
    bus.on('error', () => {});
    bus.addMethodHandler((m: DBusMessage) => {
      const h = this.handlers.get(`${m.path} ${m.interface}.${m.member}`);
      if (!h) return false;
      this.calls.push(`${m.path} ${m.interface}.${m.member}`);
      const d = dbusNext();
      void Promise.resolve(h(m)).then((r) => {
        if (r && 'error' in r) bus.send(d.Message.newError(m as unknown as string, r.error, r.text ?? r.error));
        else bus.send(d.Message.newMethodReturn(m, r?.signature ?? '', r?.body ?? []));
      });
      return true;
    });
  }

  static async connect(address: string, names: string[] = []): Promise<TestService> {
    const d = dbusNext();
    const bus = d.sessionBus({ busAddress: address });
    await new Promise<void>((resolve) => bus.on('connect', () => resolve()));
    const s = new TestService(bus);
    for (const n of names) await s.own(n);
    return s;
  }

  async own(name: string): Promise<void> {
    const d = dbusNext();
    const r = await this.bus.requestName(name, d.NameFlag.DO_NOT_QUEUE);
    if (r !== d.RequestNameReply.PRIMARY_OWNER) throw new Error(`could not own ${name}`);
  }

  on(pathAndMember: string, h: Handler): this {
    this.handlers.set(pathAndMember, h);
    return this;
  }

  signal(objectPath: string, iface: string, member: string, signature: string, body: unknown[]): void {
    this.bus.send(dbusNext().Message.newSignal(objectPath, iface, member, signature, body));
  }

  async call(destination: string, objectPath: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    const d = dbusNext();
    const reply = await this.bus.call(new d.Message({ destination, path: objectPath, interface: iface, member, signature, body }));
    return reply?.body ?? [];
  }

  close(): void {
    this.bus.disconnect();
  }
}

export const variant = (signature: string, value: unknown) => new (dbusNext().Variant)(signature, value);
