import os from 'node:os';
import path from 'node:path';
import { readCredentials, type BusCredentials } from '../bus/credentials.js';
import { createBusLink } from '../bus/link.js';
import { SUBJECTS, type Reply } from '../bus/subjects.js';
import { daemonPaths } from '../config/paths.js';
import { silentLogger, type Logger } from '../log.js';
import { InputError } from '../model/errors.js';
import { eventToJson, parseEvent, type Event, type EventData } from '../model/event.js';
import { formatTimestamp, microsToSeconds, secondsToMicros } from '../model/time.js';
import { openOutbox, type BucketSpec, type OutboxItem } from './outbox.js';

/**
 * Environment variables the daemon sets for the plugins it starts (docs/plugins.md). A plugin
 * started by hand finds the bus through the credentials file in the data directory instead.
 */
export const PLUGIN_ENV = {
  busUrl: 'SUNDIAL_BUS_URL',
  busUser: 'SUNDIAL_BUS_USER',
  busPass: 'SUNDIAL_BUS_PASS',
  dataDir: 'SUNDIAL_DATA_DIR',
  testing: 'SUNDIAL_TESTING',
  apiUrl: 'SUNDIAL_API_URL',
} as const;

export interface PluginOptions {
  /** Names the plugin on the bus and its outbox file: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Sundial's data directory (default: $SUNDIAL_DATA_DIR, else the platform's). */
  dataDir?: string;
  /** Talk to the `--testing` daemon (default: $SUNDIAL_TESTING = 1). */
  testing?: boolean;
  /** Bus credentials; default: $SUNDIAL_BUS_URL/USER/PASS, else `<data dir>/bus/bus.json`. */
  bus?: BusCredentials;
  /** The outbox file (default `<data dir>/plugins/<name>.outbox.db`). */
  outboxFile?: string;
  /** Writes that may wait for the daemon (default 100 000). */
  maxQueued?: number;
  /** How long one request waits for the daemon's reply (default 5 000 ms). */
  requestTimeoutMs?: number;
  log?: Logger;
  /** Called when the daemon refuses a write for good (bad data); it is then removed from the outbox. */
  onRejected?: (r: Rejection) => void;
}

/** An event as a plugin hands it over; `duration` in seconds (default 0). */
export interface EventInput {
  timestamp: string | Date;
  duration?: number;
  data: EventData;
}

export interface Rejection {
  kind: OutboxItem['kind'];
  bucket: string;
  error: string;
}

export interface PluginStatus {
  name: string;
  /** Connected to the bus right now. */
  connected: boolean;
  /** Writes waiting for the daemon (in the outbox file). */
  queued: number;
  oldestQueuedAgeMs: number | null;
  /** Writes the daemon acknowledged (durably queued on its side). */
  delivered: number;
  /** Writes the daemon refused for good (see onRejected). */
  rejected: number;
  lastRejection: Rejection | null;
  /** Why the last attempt did not go through (bus down, queue full, ...), null after a success. */
  lastError: string | null;
  outboxFile: string;
}

export interface PluginClient {
  /** Creates the bucket unless it exists (queued like every write, so it precedes the bucket's events). */
  ensureBucket(b: { id: string; type: string; client?: string; hostname?: string; data?: EventData }): Promise<void>;
  /** `pulsetime` in seconds. Resolves once the heartbeat is durable (in the outbox file). */
  heartbeat(bucket: string, event: EventInput, pulsetime: number): Promise<void>;
  /** Resolves once the events are durable (in the outbox file); stored exactly once. */
  insert(bucket: string, events: EventInput[]): Promise<void>;
  status(): PluginStatus;
  /** The daemon's own status snapshot over the bus (throws when it does not answer). */
  daemonStatus(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves true once everything written so far was acknowledged, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Waits up to `flushMs` (default 2 000) for the outbox to empty; what is left goes out at the next start. */
  close(opts?: { flushMs?: number }): Promise<void>;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** Disconnected this long, the credentials are read again in case the bus moved. */
const MOVED_AFTER_MS = 10_000;

/** Where the bus is: explicit credentials, the daemon's environment, or the credentials file. */
export function locateBus(opts: Pick<PluginOptions, 'bus' | 'dataDir' | 'testing'>, env: NodeJS.ProcessEnv = process.env): () => BusCredentials {
  if (opts.bus) return () => opts.bus!;
  const url = env[PLUGIN_ENV.busUrl];
  if (url) return () => ({ url, user: env[PLUGIN_ENV.busUser] || undefined, pass: env[PLUGIN_ENV.busPass] || undefined });
  const { busDir } = daemonPaths({ dataDir: opts.dataDir ?? env[PLUGIN_ENV.dataDir], testing: opts.testing ?? env[PLUGIN_ENV.testing] === '1' });
  // Read at every connection attempt: the daemon may not have written it yet, or moved the port.
  return () => readCredentials(busDir);
}

const toEvent = (e: EventInput, where: string): Event =>
  parseEvent({ ...e, timestamp: e.timestamp instanceof Date ? e.timestamp.toISOString() : e.timestamp }, { where });

function request(item: OutboxItem): [string, unknown] {
  switch (item.kind) {
    case 'createBucket': {
      const { id, ...rest } = item.spec;
      return [SUBJECTS.createBucket, { bucket: id, ...rest }];
    }
    case 'heartbeat': {
      const { id: _, ...event } = eventToJson(item.event);
      return [SUBJECTS.heartbeat, { bucket: item.bucket, pulsetime: microsToSeconds(item.pulsetime), event }];
    }
    case 'insertEvents':
      return [SUBJECTS.insertEvents, { bucket: item.bucket, key: item.key, events: item.events.map((e) => ({ timestamp: formatTimestamp(e.timestamp), duration: microsToSeconds(e.duration), data: e.data })) }];
  }
}

/**
 * Connects a plugin to Sundial. Resolves at once, whether or not the daemon is up: writes go to
 * the plugin's outbox file first and are sent from there, one at a time and in order, whenever
 * the daemon answers. A write leaves the outbox only once the daemon acknowledged it (durably
 * queued on its side) or refused it for good (bad data, reported through `onRejected`). A re-sent
 * heartbeat merges into itself; a re-sent insert carries its idempotency key and is skipped.
 */
export async function connectPlugin(opts: PluginOptions): Promise<PluginClient> {
  if (!NAME.test(opts.name)) throw new InputError(`plugin name '${opts.name}' may hold only letters, digits, '.', '_' and '-'`);
  const log = (opts.log ?? silentLogger()).child({ plugin: opts.name });
  const testing = opts.testing ?? process.env[PLUGIN_ENV.testing] === '1';
  const dataDir = daemonPaths({ dataDir: opts.dataDir ?? process.env[PLUGIN_ENV.dataDir], testing }).dataDir;
  const outboxFile = opts.outboxFile ?? path.join(dataDir, testing ? 'plugins-testing' : 'plugins', `${opts.name}.outbox.db`);
  const outbox = openOutbox(outboxFile, opts.maxQueued ?? 100_000);
  const timeoutMs = opts.requestTimeoutMs ?? 5_000;
  const locate = locateBus({ ...opts, testing });
  // The credentials are looked up at each connection attempt; linkUrl is the address last tried.
  let linkUrl: string | null = null;
  const newLink = () =>
    createBusLink(() => {
      const c = locate();
      linkUrl = c.url;
      return c;
    }, { name: opts.name, log, timeout: timeoutMs });
  let link = newLink();
  let downSince: number | null = null;
  /**
   * The client reconnects to the address it first found; if the daemon came back elsewhere (its
   * port was taken meanwhile and it chose a new one), start over with the new credentials.
   */
  const followMovedBus = async (): Promise<void> => {
    if (link.connected || linkUrl === null) return void (downSince = null);
    downSince ??= Date.now();
    if (Date.now() - downSince < MOVED_AFTER_MS) return;
    let url: string;
    try {
      url = locate().url;
    } catch {
      return;
    }
    if (url === linkUrl) return;
    log.info({ from: linkUrl, to: url }, 'the bus moved; reconnecting');
    const old = link;
    link = newLink();
    linkUrl = null;
    downSince = null;
    await old.close().catch(() => undefined);
  };
  const specs = new Map<string, BucketSpec>();

  let closed = false;
  let delivered = 0, rejected = 0;
  let lastRejection: Rejection | null = null;
  let lastError: string | null = null;
  let wake: (() => void) | null = null;
  let idle: (() => void)[] = [];
  const poke = () => wake?.();
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(() => ((wake = null), r()), ms);
      wake = () => (clearTimeout(t), (wake = null), r());
    });

  /** Sends the item: acknowledged, refused for good, or to be tried again. */
  const send = async (item: OutboxItem): Promise<'ok' | 'rejected' | 'retry'> => {
    const [subject, payload] = request(item);
    let reply: Reply;
    try {
      reply = await link.request<Reply>(subject, payload, timeoutMs);
    } catch (err) {
      lastError = (err as Error).message || String(err);
      return 'retry';
    }
    if (reply.ok) return 'ok';
    if (reply.status === 404 && item.kind !== 'createBucket' && specs.has(item.bucket)) {
      // The bucket went away while we run (deleted by someone): create it again and retry.
      const [s, p] = request({ id: 0, kind: 'createBucket', bucket: item.bucket, spec: specs.get(item.bucket)! });
      log.warn({ bucket: item.bucket }, 'bucket missing on the daemon; creating it again');
      await link.request<Reply>(s, p, timeoutMs).catch(() => undefined);
      lastError = reply.error;
      return 'retry';
    }
    if (reply.status === undefined || reply.status >= 500) {
      lastError = reply.error; // queue full, shutting down: it keeps nothing of ours, try later
      return 'retry';
    }
    const r: Rejection = { kind: item.kind, bucket: item.bucket, error: reply.error };
    rejected++;
    lastRejection = r;
    log.warn(r, 'the daemon refused a write; removed from the outbox');
    try {
      opts.onRejected?.(r);
    } catch (err) {
      log.warn({ err }, 'onRejected threw');
    }
    return 'rejected';
  };

  const loop = async (): Promise<void> => {
    let backoff = 100;
    while (!closed) {
      const item = outbox.head();
      if (!item) {
        idle.forEach((f) => f());
        idle = [];
        await pause(60_000);
        continue;
      }
      outbox.sending(item.id);
      const outcome = await send(item);
      if (closed) break;
      if (outcome !== 'retry') {
        outbox.remove(item.id);
        if (outcome === 'ok') delivered++;
        lastError = null;
        backoff = 100;
      } else {
        // A failed send may still have been taken: merging more into it and re-sending is safe.
        outbox.sending(null);
        await followMovedBus();
        log.debug({ err: lastError, queued: outbox.depth }, 'daemon not answering; holding writes');
        await pause(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  };
  const done = loop().catch((err: unknown) => log.error({ err }, 'plugin sender stopped'));

  const write = async (f: () => void): Promise<void> => {
    if (closed) throw new Error(`plugin ${opts.name} is closed`);
    f();
    poke();
  };

  const client: PluginClient = {
    ensureBucket(b) {
      const spec: BucketSpec = { id: b.id, type: b.type, client: b.client ?? opts.name, hostname: b.hostname ?? os.hostname(), ...(b.data ? { data: b.data } : {}) };
      return write(() => {
        if (!spec.id || !spec.type) throw new InputError('a bucket needs an id and a type');
        specs.set(spec.id, spec);
        outbox.createBucket(spec);
      });
    },
    heartbeat(bucket, event, pulsetime) {
      return write(() => outbox.heartbeat(bucket, toEvent(event, 'event'), secondsToMicros(pulsetime, 'pulsetime')));
    },
    insert(bucket, events) {
      return write(() => {
        if (events.length === 0) return;
        outbox.insert(bucket, events.map((e, i) => toEvent(e, `events[${i}]`)));
      });
    },
    status: () => ({
      name: opts.name,
      connected: link.connected,
      queued: outbox.depth,
      oldestQueuedAgeMs: outbox.oldestAgeMs(),
      delivered,
      rejected,
      lastRejection,
      lastError,
      outboxFile,
    }),
    async daemonStatus(ms = timeoutMs) {
      return link.request<Record<string, unknown>>(SUBJECTS.status, {}, ms);
    },
    flush(ms) {
      if (outbox.depth === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(outbox.depth === 0), ms);
        idle.push(() => (clearTimeout(timer), resolve(outbox.depth === 0)));
        poke();
      });
    },
    async close(o = {}) {
      if (closed) return;
      await client.flush(o.flushMs ?? 2_000);
      closed = true;
      poke();
      await link.close();
      await done;
      outbox.close();
      idle.forEach((f) => f());
    },
  };
  return client;
}
