import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { heartbeatQueueChild } from './actors/heartbeat-queue/child.js';
import { QUEUE_SOURCE } from './actors/heartbeat-queue/deliver.js';
import { storageWriterChild } from './actors/storage-writer/child.js';
import { createWriterPort } from './actors/storage-writer/port.js';
import { writePrivate, type BusCredentials } from './bus/credentials.js';
import { createBusLink, type BusLink } from './bus/link.js';
import { findNatsServer, NATS_MISSING, natsServerChild } from './bus/nats-server.js';
import { busSink } from './bus/sink.js';
import { SUBJECTS } from './bus/subjects.js';
import { afkWatcherChild, windowWatcherChild } from './actors/watchers/index.js';
import { openProbe } from './platform/index.js';
import { loadFfi } from './platform/ffi.js';
import { createQueryService } from './query/service.js';
import { warmUpRequest } from './query/warm.js';
import type { Config } from './config/config.js';
import type { DaemonPaths } from './config/paths.js';
import { createControlHandler, type ControlTarget } from './http/control/index.js';
import { ensureToken } from './http/control/token.js';
import { httpChild } from './http/child.js';
import { importActions } from './import/apply.js';
import { checkSchedules, jobsChild } from './jobs/child.js';
import { builtinJobs } from './jobs/index.js';
import type { Logger } from './log.js';
import { privacyActions } from './privacy/actions.js';
import { compilePrivacy } from './privacy/filters.js';
import { createPause } from './privacy/pause.js';
import { openReadonly, openWritable } from './storage/open.js';
import { Reader } from './storage/read.js';
import { createSupervisor } from './supervisor/supervisor.js';
import type { ChildSpec, SupervisorOptions } from './supervisor/types.js';
import { VERSION } from './version.js';

/** What each query worker runs at start: the last 30 days, as the web UI's first views ask. */
function warmUpQuery(reader: Reader): unknown {
  const now = Date.now();
  const period = `${new Date(now - 30 * 86_400_000).toISOString()}/${new Date(now + 86_400_000).toISOString()}`;
  return warmUpRequest(reader.buckets(), period);
}

/** A start-up problem the user must fix (printed as one line, exit code 1). */
export class StartupError extends Error {}

export interface DaemonOptions {
  config: Config;
  paths: DaemonPaths;
  testing: boolean;
  log: Logger;
  /** Extra children (tests, plugins) appended after the built-in ones. */
  extraChildren?: ChildSpec[];
  /** Called with the bound HTTP port each time the http child listens (the CLI records it in the data dir). */
  onListen?: (port: number) => void;
  /** Restart intensity and backoff (defaults: 5 restarts in 60 s; 100 ms doubling to 30 s). */
  restart?: Pick<SupervisorOptions, 'intensity' | 'backoff'>;
}

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Record<string, unknown>;
  readonly supervisor: ReturnType<typeof createSupervisor>;
  readonly bus: BusCredentials;
  readonly port: number | null;
}

function ensureDeviceId(file: string): string {
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    /* first start */
  }
  const id = crypto.randomUUID();
  writePrivate(file, id + '\n');
  return id;
}

/**
 * Builds the supervision tree from the config. Start order: bus, storage writer, heartbeat queue,
 * HTTP, then watchers; stop runs in reverse, so watchers stop first, the queue drains into the
 * writer, the database closes, and nats-server stops last.
 */
export async function buildDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { config, paths, log, testing } = opts;
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  // ffi-rs crashes when first loaded inside a worker thread: load it here, before the writer and
  // query threads start, where the probes need it.
  if (config.watchers.enabled && (process.platform === 'darwin' || process.platform === 'win32')) {
    try {
      loadFfi();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'native probes unavailable');
    }
  }
  const deviceId = ensureDeviceId(paths.deviceId);
  const token = ensureToken(paths.token);
  // Create and migrate the database up front so that readers can open it at once.
  openWritable(paths.database).close();

  const children: ChildSpec[] = [];
  let bus: BusCredentials;
  let busMode: 'embedded' | 'external';
  if (config.bus.url) {
    busMode = 'external';
    bus = { url: config.bus.url, user: config.bus.user ?? undefined, pass: config.bus.pass ?? undefined };
  } else {
    busMode = 'embedded';
    const binary = findNatsServer(config.bus.nats_server ?? undefined);
    if (!binary) throw new StartupError(NATS_MISSING);
    const nats = await natsServerChild({ busDir: paths.busDir, binary });
    bus = { url: nats.url, user: nats.user, pass: nats.pass };
    children.push(nats.spec);
  }

  let reader: Reader | null = null;
  const read = (): Reader => (reader ??= new Reader(openReadonly(paths.database)));
  const writer = createWriterPort();
  // Privacy applies to everything stored, watcher and REST writes alike: the writer is the one gate.
  const pause = createPause(paths.pause);
  const privacy = { rules: config.privacy.rules, keep_incognito: config.privacy.keep_incognito };
  try {
    compilePrivacy(privacy); // a bad rule stops the start here, with its message
  } catch (err) {
    throw new StartupError(`config: ${(err as Error).message}`);
  }
  children.push(storageWriterChild({ file: paths.database, port: writer, privacy, paused: () => pause.isPaused() }));
  children.push(
    heartbeatQueueChild({
      file: paths.queue,
      bus,
      writer,
      bucketExists: (id) => read().bucket(id) !== undefined,
      appliedSeq: () => read().appliedSeq(QUEUE_SOURCE),
      forwardUrl: config.server.forward_url ?? undefined,
      maxItems: config.queue.max_items,
    }),
  );

  let httpPort: number | null = null;
  // Set below, once the supervisor the control endpoint drives exists.
  let controlHandler: ReturnType<typeof createControlHandler>;
  children.push(
    httpChild({
      database: paths.database,
      host: config.server.host,
      port: config.server.port,
      testing,
      writer,
      info: { hostname: os.hostname(), version: `v${VERSION} (sundial)`, deviceId },
      cors: config.server.cors,
      corsRegex: config.server.cors_regex,
      apiKey: config.server.api_key ?? undefined,
      // Queries run on worker threads with their own read-only connections.
      makeQuery: () =>
        createQueryService({ dbFile: paths.database, threads: config.query.threads, timeoutMs: config.query.timeout_ms, log, warmUp: () => warmUpQuery(read()) }),
      logFile: paths.logFile,
      control: (req, res, path) => controlHandler(req, res, path),
      onListen: (port) => {
        httpPort = port;
        opts.onListen?.(port);
      },
    }),
  );
  if (config.jobs.enabled) {
    const jobs = builtinJobs(config.jobs, paths, writer);
    try {
      checkSchedules(jobs);
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
    children.push(jobsChild(jobs));
  }
  // Watchers publish over the bus like any plugin: probe → watcher → bus → queue → writer.
  let watcherLink: BusLink | null = null;
  if (config.watchers.enabled) {
    watcherLink = createBusLink(bus, { name: 'sundial-watchers', log });
    const sink = busSink(watcherLink);
    const probeFactory = () => openProbe({ log });
    const w = config.watchers;
    children.push(
      afkWatcherChild({ probeFactory, sink, pollMs: w.afk.poll_time * 1000, timeoutMs: w.afk.timeout * 1000 }),
      windowWatcherChild({ probeFactory, sink, pollMs: w.window.poll_time * 1000, exclude_title: w.window.exclude_title, exclude_titles: w.window.exclude_titles }),
    );
  }
  children.push(...(opts.extraChildren ?? []));

  const supervisor = createSupervisor({ children, log, ...opts.restart });
  const names = new Set(children.map((c) => c.name));
  let link: BusLink | null = null;
  const startedAt = Date.now();

  const status = (): Record<string, unknown> => {
    const kids = supervisor.status();
    const queue = kids.find((k) => k.name === 'queue');
    return {
      version: VERSION,
      pid: process.pid,
      testing,
      uptimeMs: Date.now() - startedAt,
      dataDir: paths.dataDir,
      database: paths.database,
      bus: { mode: busMode, url: bus.url, connected: link?.connected ?? false },
      paused: pause.state(),
      queue: queue?.info ?? null,
      children: kids,
    };
  };

  const control: ControlTarget = {
    status,
    children: {
      has: (n) => names.has(n),
      restart: async (n) => void (await supervisor.restartChild(n)),
      stop: async (n) => void (await supervisor.stopChild(n)),
      start: async (n) => void (await supervisor.startChild(n)),
    },
    actions: { ...privacyActions({ pause, read, writer, log }), ...importActions({ read, writer }) },
  };

  controlHandler = createControlHandler(control, token);

  return {
    supervisor,
    bus,
    get port() {
      return httpPort;
    },
    status,
    async start() {
      await supervisor.start();
      // Status over the bus, for plugins and tools that only speak NATS.
      link = createBusLink(bus, { name: 'sundial-daemon', log });
      void link.subscribe(SUBJECTS.status, {}, (_data, respond) => respond(status())).catch((err: unknown) => log.warn({ err }, 'status subject unavailable'));
      log.info({ port: httpPort, dataDir: paths.dataDir, bus: busMode }, 'sundial started');
    },
    async stop() {
      await link?.close();
      await supervisor.stop();
      await watcherLink?.close();
      reader?.db.close();
      // The last connection to close folds the WAL back into the database file (readers cannot).
      openWritable(paths.database).close();
      log.info('sundial stopped');
    },
  };
}
