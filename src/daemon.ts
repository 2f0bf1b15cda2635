import os from 'node:os';
import { heartbeatQueueChild } from './actors/heartbeat-queue/child.js';
import { QUEUE_SOURCE } from './actors/heartbeat-queue/deliver.js';
import { storageWriterChild } from './actors/storage-writer/child.js';
import { createWriterPort } from './actors/storage-writer/port.js';
import { afkWatcherChild, mediaPlaying, outboxChild, pluginSink, windowWatcherChild } from './actors/watchers/index.js';
import type { BusCredentials } from './bus/credentials.js';
import { createBusLink, type BusLink } from './bus/link.js';
import { findNatsServer, NATS_MISSING, natsServerChild } from './bus/nats-server.js';
import { SUBJECTS } from './bus/subjects.js';
import type { Config } from './config/config.js';
import type { DaemonPaths } from './config/paths.js';
import { claimDataDir, type DataDirClaim } from './datadir/claim.js';
import { removeRuntime, writeRuntime } from './datadir/runtime.js';
import { bearerMatches } from './http/gate.js';
import { httpChild } from './http/child.js';
import { createControlHandler, type ControlHandler, type ControlTarget } from './http/control/index.js';
import { controlSessions } from './http/control/session.js';
import { listenControlSocket, type ControlSocket } from './http/control/socket.js';
import { BUILTIN_UI_DIR, staticHandler } from './http/ui/static.js';
import { importActions } from './import/apply.js';
import { jobsChild } from './jobs/child.js';
import { builtinJobs } from './jobs/index.js';
import type { Logger } from './log.js';
import { StartupError } from './model/errors.js';
import { nowMicros } from './model/time.js';
import { connectPlugin, type PluginClient } from './plugin/client.js';
import { pluginChildren } from './plugin-host/children.js';
import { loadFfi } from './platform/ffi.js';
import { openProbe } from './platform/index.js';
import { releaseOptimizer } from './optimizer.js';
import { privacyActions } from './privacy/actions.js';
import { createPause, type Pause } from './privacy/pause.js';
import { createQueryService } from './query/service.js';
import { scratchBytesFor } from './query/arena.js';
import { cacheEventsFor } from './query/span-cache.js';
import { warmUpSteps } from './query/warm.js';
import { openReadonly, openWritable } from './storage/open.js';
import { Reader } from './storage/read.js';
import { createSupervisor, type Supervisor } from './supervisor/supervisor.js';
import { syncChild } from './sync/child.js';
import type { ChildSpec, SupervisorOptions } from './supervisor/types.js';
import { VERSION } from './version.js';
import { releaseYoungGeneration } from './young-generation.js';

/**
 * The daemon's exit code when a significant child (bus, storage, queue, http) has failed for good:
 * the daemon cannot serve, so it stops in order and exits, and the service manager starts it again.
 */
export const EXIT_CHILD_FAILED = 70;

export interface DaemonOptions {
  config: Config;
  paths: DaemonPaths;
  testing: boolean;
  log: Logger;
  /** The data dir, already claimed (the CLI claims it before it opens the log file there). */
  claim?: DataDirClaim;
  /** Extra children (tests, plugins) appended after the built-in ones. */
  extraChildren?: ChildSpec[];
  /** Restart intensity and backoff (defaults: 5 restarts in 60 s; 100 ms doubling to 30 s). */
  restart?: Pick<SupervisorOptions, 'intensity' | 'backoff'>;
}

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Record<string, unknown>;
  /** Resolves with an exit code when the daemon stopped by itself (a significant child failed). */
  readonly exited: Promise<number>;
  readonly supervisor: Supervisor;
  readonly bus: BusCredentials;
  readonly port: number | null;
}

/** The bus: the embedded nats-server as a child, or an external NATS named in the config. */
async function busOf(config: Config, paths: DaemonPaths): Promise<{ creds: BusCredentials; mode: 'embedded' | 'external'; spec: ChildSpec | null }> {
  if (config.bus.url) return { creds: { url: config.bus.url, user: config.bus.user ?? undefined, pass: config.bus.pass ?? undefined }, mode: 'external', spec: null };
  const binary = findNatsServer(config.bus.nats_server ?? undefined);
  if (!binary) throw new StartupError(NATS_MISSING);
  const nats = await natsServerChild({ busDir: paths.busDir, binary });
  return { creds: { url: nats.url, user: nats.user, pass: nats.pass }, mode: 'embedded', spec: { ...nats.spec, significant: true } };
}

/** What the children are built from: the config plus the daemon's shared parts. */
export interface ChildDeps {
  paths: DaemonPaths;
  testing: boolean;
  log: Logger;
  bus: BusCredentials;
  busSpec: ChildSpec | null;
  writer: ReturnType<typeof createWriterPort>;
  pause: Pause;
  read: () => Reader;
  deviceId: string;
  control: ControlHandler;
  onListen: (port: number) => void;
  /** The built-in watchers' plugin client (their outbox), when watchers are enabled. */
  watchers: PluginClient | null;
  /** The REST API's address, known once the HTTP child listens (plugins start after it). */
  http: () => { host: string; port: number | null };
}

/** What each query worker runs at start, step by step: the last 30 days, as the web UI's first views ask. */
function warmUpQuery(reader: Reader): unknown {
  const now = Date.now();
  const period = `${new Date(now - 30 * 86_400_000).toISOString()}/${new Date(now + 86_400_000).toISOString()}`;
  return warmUpSteps(reader.buckets(), period);
}

/**
 * The supervision tree as data, in start order: bus, storage writer, heartbeat queue, HTTP, jobs,
 * the watchers' outbox, watchers, plugins. Stop runs in reverse, so watchers and plugins stop first,
 * the outbox and the queue drain into the writer, the database closes, and nats-server stops last.
 * `significant` children take the daemon down when they fail for good; the others only report.
 */
export function childSpecs(config: Config, d: ChildDeps): ChildSpec[] {
  const { paths, log } = d;
  const specs: ChildSpec[] = [];
  if (d.busSpec) specs.push(d.busSpec);
  specs.push(
    {
      ...storageWriterChild({ file: paths.database, port: d.writer, privacy: config.privacy, paused: () => d.pause.isPaused(), onBusy: releaseOptimizer }),
      significant: true,
    },
    {
      ...heartbeatQueueChild({
        file: paths.queue,
        bus: d.bus,
        writer: d.writer,
        bucketExists: (id) => d.read().bucket(id) !== undefined,
        appliedSeq: () => d.read().appliedSeq(QUEUE_SOURCE),
        forwardUrl: config.server.forward_url ?? undefined,
        maxItems: config.queue.max_items,
      }),
      significant: true,
    },
    {
      ...httpChild({
        database: paths.database,
        host: config.server.host,
        port: config.server.port,
        testing: d.testing,
        writer: d.writer,
        info: { hostname: os.hostname(), version: `v${VERSION} (sundial)`, deviceId: d.deviceId },
        cors: config.server.cors,
        corsRegex: config.server.cors_regex,
        apiKey: config.server.api_key ?? undefined,
        // Queries run on worker threads with their own read-only connections.
        makeQuery: () =>
          createQueryService({
            dbFile: paths.database,
            threads: config.query.threads,
            timeoutMs: config.query.timeout_ms,
            cacheEvents: cacheEventsFor(config.query.cache_mb),
            scratchBytes: scratchBytesFor(config.query.cache_mb),
            log,
            // Workers start at the first request that reads, not with the daemon (src/http/child.ts).
            lazy: true,
            warmUp: () => warmUpQuery(d.read()),
          }),
        logFile: paths.logFile,
        ui: staticHandler(config.ui.static_dir ?? BUILTIN_UI_DIR),
        control: d.control,
        onListen: d.onListen,
        onRequest: releaseOptimizer,
      }),
      significant: true,
    },
  );
  // Scheduled upkeep (backups, optimize, log pruning); a failing job is reported, never fatal.
  if (config.jobs.enabled) specs.push(jobsChild(builtinJobs(config.jobs, paths, d.writer)));
  if (d.watchers) {
    // Watchers write through the plugin library like any plugin: probe → watcher → outbox → bus →
    // queue → writer. The outbox child sits before them, so at shutdown it drains after they stop.
    const w = config.watchers;
    const sink = pluginSink(d.watchers, w.commit_interval * 1000);
    const probeFactory = () => openProbe({ log, setting: w.probe, idleStepSeconds: w.afk.poll_time });
    specs.push(
      outboxChild(d.watchers, sink),
      afkWatcherChild({
        probeFactory,
        sink,
        pollMs: w.afk.poll_time * 1000,
        timeoutMs: w.afk.timeout * 1000,
        mediaPlaying: w.afk.media_counts_as_active ? () => mediaPlaying(d.read(), nowMicros()) : undefined,
      }),
      windowWatcherChild({ probeFactory, sink, pollMs: w.window.poll_time * 1000, exclude_title: w.window.exclude_title, exclude_titles: w.window.exclude_titles }),
    );
  }
  // Sync with other devices: after the watchers, so at shutdown it stops before the writer closes.
  if (config.sync.enabled) specs.push(syncChild({ config: config.sync, deviceId: d.deviceId, keyFile: paths.syncKey, database: paths.database, writer: d.writer }));
  specs.push(...pluginChildren(config, { bus: d.bus, dataDir: paths.dataDir, testing: d.testing, log, http: d.http }));
  return specs;
}

/** ffi-rs crashes when first loaded inside a worker thread: load it before the writer and query threads start. */
function loadNativeProbes(config: Config, log: Logger): void {
  if (!config.watchers.enabled || (process.platform !== 'darwin' && process.platform !== 'win32')) return;
  try {
    loadFfi();
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'native probes unavailable');
  }
}

/** The control endpoint's target: status, child actions, the privacy and import actions. */
function controlTarget(status: () => Record<string, unknown>, supervisor: () => Supervisor, names: Set<string>, actions: ControlTarget['actions']): ControlTarget {
  return {
    status,
    children: {
      has: (n) => names.has(n),
      restart: async (n) => void (await supervisor().restartChild(n)),
      stop: async (n) => void (await supervisor().stopChild(n)),
      start: async (n) => void (await supervisor().startChild(n)),
    },
    actions,
  };
}

/** Builds the daemon from its config: claims the data dir, then lays out the supervision tree. */
export async function buildDaemon(opts: DaemonOptions): Promise<Daemon> {
  const claim = opts.claim ?? claimDataDir(opts.paths);
  try {
    return await assemble(opts, claim);
  } catch (err) {
    claim.release();
    throw err;
  }
}

async function assemble(opts: DaemonOptions, claim: DataDirClaim): Promise<Daemon> {
  const { config, paths, log, testing } = opts;
  loadNativeProbes(config, log);
  // Create and migrate the database up front so that readers can open it at once.
  openWritable(paths.database).close();
  const bus = await busOf(config, paths);

  let reader: Reader | null = null;
  const read = (): Reader => (reader ??= new Reader(openReadonly(paths.database)));
  const writer = createWriterPort();
  // Privacy applies to everything stored, watcher and REST writes alike: the writer is the one gate.
  const pause = createPause(paths.pause);
  let httpPort: number | null = null;
  let statusLink: BusLink | null = null;
  const startedAt = Date.now();

  const status = (): Record<string, unknown> => {
    const kids = supervisor.status();
    return {
      version: VERSION,
      pid: process.pid,
      testing,
      uptimeMs: Date.now() - startedAt,
      dataDir: paths.dataDir,
      database: paths.database,
      bus: { mode: bus.mode, url: bus.creds.url, connected: statusLink?.connected ?? false },
      paused: pause.state(),
      queue: kids.find((k) => k.name === 'queue')?.info ?? null,
      sync: kids.find((k) => k.name === 'sync')?.info ?? null,
      children: kids,
    };
  };
  const actions = { ...privacyActions({ pause, read, writer, log }), ...importActions({ read, writer }) };
  const names = new Set<string>();
  const target = controlTarget(status, () => supervisor, names, actions);
  const runtime = (port: number | null) =>
    writeRuntime(paths.runtime, { pid: process.pid, port, socket: paths.controlSocket, version: VERSION, startedAt: new Date(startedAt).toISOString() });

  // In-process, one client for both watchers: a process per watcher would cost more memory than
  // the watchers themselves, and the supervisor already isolates their failures.
  const watchers = config.watchers.enabled ? await connectPlugin({ name: 'sundial-watchers', dataDir: paths.dataDir, testing, bus: bus.creds, log }) : null;
  const children = [
    ...childSpecs(config, {
      paths,
      testing,
      log,
      bus: bus.creds,
      busSpec: bus.spec,
      writer,
      pause,
      read,
      deviceId: claim.deviceId,
      control: createControlHandler(target, (req) => bearerMatches(req.headers.authorization, claim.token), log, controlSessions()),
      onListen: (port) => {
        httpPort = port;
        runtime(port);
      },
      watchers,
      http: () => ({ host: config.server.host, port: httpPort }),
    }),
    ...(opts.extraChildren ?? []),
  ];
  for (const c of children) names.add(c.name);
  const significant = new Set(children.filter((c) => c.significant).map((c) => c.name));
  const supervisor = createSupervisor({ children, log, ...opts.restart });

  let socket: ControlSocket | null = null;
  let stopping: Promise<void> | null = null;
  let signalExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (signalExit = resolve));

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await statusLink?.close();
      await supervisor.stop();
      await watchers?.close({ flushMs: 0 });
      await socket?.close();
      reader?.db.close();
      // The last connection to close folds the WAL back into the database file (readers cannot).
      openWritable(paths.database).close();
      removeRuntime(paths.runtime);
      claim.release();
      log.info('sundial stopped');
    })());

  // OTP's escalation: a significant child past its restart intensity takes the daemon down.
  supervisor.onChange((t) => {
    if (t.to !== 'failed' || !significant.has(t.name) || stopping) return;
    log.error({ child: t.name, error: t.lastError }, `${t.name} failed for good: stopping the daemon (exit ${EXIT_CHILD_FAILED}) so that it is started again`);
    void stop().finally(() => signalExit(EXIT_CHILD_FAILED));
  });

  return {
    supervisor,
    bus: bus.creds,
    exited,
    get port() {
      return httpPort;
    },
    status,
    async start() {
      // The CLI's way in comes first and belongs to the daemon, not to the http child.
      socket = await listenControlSocket(paths.controlSocket, createControlHandler(target, () => true, log));
      runtime(null);
      await supervisor.start();
      const dead = supervisor.status().find((k) => significant.has(k.name) && k.state === 'failed');
      if (dead) {
        await stop();
        throw new StartupError(`${dead.name} could not start: ${dead.lastError ?? 'unknown error'}`);
      }
      // Sync turned off in the config: stop its change log from growing (docs/sync.md).
      if (!config.sync.enabled && read().db.prepare('SELECT 1 FROM sync_share LIMIT 1').get()) {
        void writer.submit({ kind: 'syncShare', patterns: [] }).catch((err: unknown) => log.warn({ err }, 'sync log not cleared'));
      }
      // Status over the bus, for plugins and tools that only speak NATS.
      statusLink = createBusLink(bus.creds, { name: 'sundial-daemon', log });
      void statusLink.subscribe(SUBJECTS.status, {}, (_data, respond) => respond(status())).catch((err: unknown) => log.warn({ err }, 'status subject unavailable'));
      releaseYoungGeneration(); // held small through start-up (src/young-generation.ts)
      log.info({ port: httpPort, dataDir: paths.dataDir, bus: bus.mode }, 'sundial started');
    },
    stop,
  };
}
