import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../../log.js';
import { ProbeUnavailableError, UNKNOWN, type ActiveWindow } from '../../types.js';
import { CompositorProbe } from './compositor-probe.js';
import { addMatch, BusHolder, callMethod, dbusNext, type DBusMessage, type MessageBus } from './dbus.js';
import type { IdleSource } from './idle.js';
import { WindowCache } from './window-cache.js';

const KWIN = 'org.kde.KWin';
const SCRIPTING = { destination: KWIN, path: '/Scripting', interface: 'org.kde.kwin.Scripting' };
/** Where the KWin script reports to: an object on the daemon's own connection. */
export const REPORT_PATH = '/io/github/sundial/KWinReport';
export const REPORT_INTERFACE = 'io.github.sundial.KWinReport';

/**
 * The KWin script: on every activation and on caption changes of the active window it calls back
 * `Window(caption, resourceClass, resourceName, pid)` (or `NoWindow()`) on the daemon's bus name.
 * Works with Plasma 6 (workspace.windowActivated / activeWindow) and Plasma 5 (clientActivated /
 * activeClient).
 */
export function kwinScript(service: string): string {
  const s = JSON.stringify(service);
  const p = JSON.stringify(REPORT_PATH);
  const i = JSON.stringify(REPORT_INTERFACE);
  return `// Sundial: reports the active window to the Sundial daemon over D-Bus.
function active() { return workspace.activeWindow !== undefined ? workspace.activeWindow : workspace.activeClient; }
function report(w) {
  if (!w) { callDBus(${s}, ${p}, ${i}, "NoWindow"); return; }
  callDBus(${s}, ${p}, ${i}, "Window", String(w.caption || ""), String(w.resourceClass || ""), String(w.resourceName || ""), Number(w.pid || 0));
}
var watched = [];
function watch(w) {
  if (!w || watched.indexOf(w) >= 0) return;
  watched.push(w);
  w.captionChanged.connect(function () { if (active() === w) report(w); });
  if (w.closed) w.closed.connect(function () { watched.splice(watched.indexOf(w), 1); });
}
var activated = workspace.windowActivated !== undefined ? workspace.windowActivated : workspace.clientActivated;
activated.connect(function (w) { watch(w); report(w); });
watch(active());
report(active());
`;
}

/** {caption, resourceClass, resourceName, pid} → {app, title, pid}. */
export function kdeWindow(caption: string, resourceClass: string, resourceName: string, pid: number): ActiveWindow {
  const w: ActiveWindow = { app: resourceClass || resourceName || UNKNOWN, title: caption };
  if (pid > 0) w.pid = pid;
  return w;
}

let instances = 0;

export interface KdeProbeOptions {
  bus: BusHolder;
  idle: () => IdleSource;
  log?: Logger;
  /** How long to wait for the script's first report. Default 3 s. */
  firstReportMs?: number;
}

/**
 * KDE Plasma (KWin) on Wayland: a KWin script loaded over D-Bus (org.kde.kwin.Scripting) reports
 * activations and caption changes back to a bus name this probe owns, so a poll reads the cache.
 * The script is loaded at the first window read (the AFK watcher's probe never loads one) and
 * unloaded on close.
 */
export class KdeProbe extends CompositorProbe {
  readonly kind = 'kde';
  readonly serviceName = `io.github.sundial.KWinReport.p${process.pid}_${++instances}`;
  readonly pluginName: string;
  // Reports are pushed: nothing expires while the script runs.
  private readonly cache = new WindowCache(Number.POSITIVE_INFINITY);
  private loading: Promise<void> | null = null;
  private scriptDir: string | null = null;
  private firstReport: (() => void) | null = null;
  /** The unique bus name of the KWin our script runs in. */
  private loadedInto: string | null = null;
  reports = 0;

  constructor(private readonly o: KdeProbeOptions) {
    super(o.idle);
    this.pluginName = `sundial-active-window-${process.pid}-${instances}`;
    o.bus.onConnect = async (bus) => {
      // A new connection (KWin or the bus restarted): the script must be loaded again.
      this.loading = null;
      this.loadedInto = null;
      this.cache.clear();
      bus.addMethodHandler((m: DBusMessage) => this.handle(bus, m));
      // KWin restarted (or quit): our script went with it; load it into the new one at the next poll.
      bus.on('message', (m: DBusMessage) => {
        if (m.member !== 'NameOwnerChanged' || m.interface !== 'org.freedesktop.DBus' || m.body?.[0] !== KWIN) return;
        const [, oldOwner, newOwner] = m.body as [string, string, string];
        if (this.loadedInto && oldOwner === this.loadedInto) {
          this.o.log?.info('kde: KWin left the bus; the script goes again into the next one');
          this.loading = null;
          this.loadedInto = null;
          this.cache.clear();
          this.changes.emit();
        } else if (newOwner && !this.loading) this.changes.emit(); // a KWin appeared: poll (and load) now
      });
      await addMatch(bus, `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${KWIN}'`);
      const d = dbusNext();
      const r = await bus.requestName(this.serviceName, d.NameFlag.DO_NOT_QUEUE);
      if (r !== d.RequestNameReply.PRIMARY_OWNER && r !== d.RequestNameReply.ALREADY_OWNER) throw new Error(`cannot own ${this.serviceName}`);
    };
  }

  static async open(o: KdeProbeOptions): Promise<KdeProbe> {
    const p = new KdeProbe(o);
    await o.bus.get();
    return p;
  }

  async activeWindow(): Promise<ActiveWindow | null> {
    await this.ensureScript();
    return this.cache.peek();
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    const finish = (): void => {
      this.o.bus.close();
      if (this.scriptDir) fs.rmSync(this.scriptDir, { recursive: true, force: true });
    };
    if (this.loadedInto) {
      // Leave nothing running inside KWin.
      this.o.bus
        .get()
        .then((bus) => callMethod(bus, { ...SCRIPTING, member: 'unloadScript', signature: 's', body: [this.pluginName] }))
        .catch(() => undefined)
        .finally(finish);
    } else finish();
  }

  // ---- internals

  private handle(bus: MessageBus, m: DBusMessage): boolean {
    if (m.path !== REPORT_PATH || m.interface !== REPORT_INTERFACE) return false;
    const d = dbusNext();
    let w: ActiveWindow | null;
    if (m.member === 'Window' && m.signature === 'sssi') {
      const [caption, cls, name, pid] = m.body as [string, string, string, number];
      w = kdeWindow(caption, cls, name, pid);
    } else if (m.member === 'NoWindow') {
      w = null;
    } else {
      // (its type declaration says string; the library takes the call being answered)
      bus.send(d.Message.newError(m as unknown as string, 'org.freedesktop.DBus.Error.UnknownMethod', `no method ${m.member}(${m.signature})`));
      return true;
    }
    this.reports++;
    const changed = this.cache.set(w);
    bus.send(d.Message.newMethodReturn(m, '', []));
    this.firstReport?.();
    if (changed) this.changes.emit();
    return true;
  }

  private async ensureScript(): Promise<void> {
    if (this.closed) throw new ProbeUnavailableError('probe closed');
    const bus = await this.o.bus.get();
    this.loading ??= this.load(bus).catch((err: Error) => {
      this.loading = null;
      throw err instanceof ProbeUnavailableError ? err : new ProbeUnavailableError(`KWin script: ${err.message}`);
    });
    await this.loading;
  }

  private async load(bus: MessageBus): Promise<void> {
    this.scriptDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-kwin-'));
    const file = path.join(this.scriptDir, 'active-window.js');
    fs.writeFileSync(file, kwinScript(this.serviceName), { mode: 0o600 });
    const call = (member: string, signature = '', body: unknown[] = []) => callMethod(bus, { ...SCRIPTING, member, signature, body });
    // A script of ours left over from a crash would report to a name nobody owns any more.
    await call('unloadScript', 's', [this.pluginName]).catch(() => undefined);
    const [owner] = await callMethod(bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'GetNameOwner',
      signature: 's',
      body: [KWIN],
    }).catch(() => {
      throw new ProbeUnavailableError('KWin is not on the session bus (org.kde.KWin has no owner)');
    });
    this.loadedInto = owner as string;
    const reported = new Promise<void>((resolve) => (this.firstReport = resolve));
    let id: number;
    try {
      [id] = (await call('loadScript', 'ss', [file, this.pluginName])) as [number];
    } catch (err) {
      throw new ProbeUnavailableError(`KWin scripting is not reachable over D-Bus (org.kde.KWin /Scripting): ${(err as Error).message}`);
    }
    if (typeof id !== 'number' || id < 0) throw new ProbeUnavailableError('KWin refused to load the active-window script');
    // Plasma 6 (and late 5.x) export the script as /Scripting/Script<id>, older Plasma 5 as /<id>.
    const run = (p: string) => callMethod(bus, { destination: KWIN, path: p, interface: 'org.kde.kwin.Script', member: 'run' });
    await run(`/Scripting/Script${id}`).catch(() => run(`/${id}`));
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new ProbeUnavailableError('the KWin script was loaded but never reported the active window')), this.o.firstReportMs ?? 3_000).unref(),
    );
    await Promise.race([reported, timeout]);
    this.firstReport = null;
    this.o.log?.info({ plugin: this.pluginName }, 'kde: KWin script running');
  }
}
