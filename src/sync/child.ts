import { setTimeout as delay } from 'node:timers/promises';
import type { JetStreamClient, JetStreamManager, JsMsg, NatsConnection } from 'nats';
import type { Writer } from '../actors/storage-writer/ops.js';
import type { Logger } from '../log.js';
import { SundialError } from '../model/errors.js';
import { openReadonly } from '../storage/open.js';
import type { ChildSpec } from '../supervisor/types.js';
import { pullSource } from './batch.js';
import { open, peekHeader, Refused, seal, type RefusalReason } from './envelope.js';
import { readKeyFile, type SyncKey } from './key.js';
import { outbox, type Outbox } from './outbox.js';
import { connectSync, consumerName, deviceOf, deviceSubject, DEVICES, ensureConsumer, ensureStream, keyMatches, readMeta, STREAM, type SyncConfig } from './server.js';

export interface SyncChildOptions {
  config: SyncConfig;
  deviceId: string;
  keyFile: string;
  database: string;
  writer: Writer;
}

/** What `sundial sync status` and the control status show about one other device. */
export interface PeerStatus {
  device: string;
  /** When its newest message reached the server (ISO), null when unknown. */
  lastSeen: string | null;
  /** Changes it published that this device has not imported yet. */
  behind: number;
  /** Sealed bytes imported from it since the daemon started. */
  bytes: number;
  /** Changes imported from it since the daemon started. */
  changes: number;
}

export interface SyncStatus {
  state: 'waiting-for-setup' | 'connecting' | 'wrong-key' | 'syncing' | 'error';
  message: string | null;
  device: string;
  connected: boolean;
  /** Outbound: published up to this log sequence; changes logged but not yet published. */
  pushed: { cursor: number; pending: number; changes: number; bytes: number; lastAt: string | null };
  peers: PeerStatus[];
  /** Messages refused, by reason (each reason is logged once per device). */
  refused: Partial<Record<RefusalReason, number>>;
}

/** How long the push side waits before looking at the log again when all is published. */
const IDLE_MS = 250;
/** The push cursor is written at most this often; a crash re-publishes the rest, which peers skip. */
const PERSIST_MS = 1_000;

/** Waits `ms`, or less when the child stops. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => {});

/**
 * The sync child (not significant: sync failing never stops recording). It waits for the key
 * file, so `sundial sync setup` takes effect in a running daemon, checks the key against the
 * group's, then runs the push and pull loops until stopped.
 */
export function syncChild(opts: SyncChildOptions): ChildSpec {
  return {
    name: 'sync',
    restart: 'permanent',
    shutdownTimeoutMs: 10_000,
    async start(ctx) {
      const { log, signal } = ctx;
      const db = openReadonly(opts.database);
      const box = outbox(db, opts.deviceId);
      const st: SyncStatus = {
        state: 'waiting-for-setup',
        message: 'run `sundial sync setup` on this device',
        device: opts.deviceId,
        connected: false,
        pushed: { cursor: box.cursor(), pending: 0, changes: 0, bytes: 0, lastAt: null },
        peers: [],
        refused: {},
      };
      let nc: NatsConnection | null = null;
      const main = (async () => {
        let key: SyncKey | null = null;
        while (!signal.aborted && !(key = readKeyFile(opts.keyFile))) await sleep(1_000, signal);
        if (!key || signal.aborted) return;
        st.state = 'connecting';
        st.message = `connecting to ${opts.config.url}`;
        const conn = await connectSync(opts.config, `sundial-sync-${opts.deviceId}`, { waitOnFirstConnect: true });
        if (signal.aborted) return void (await conn.close());
        nc = conn;
        void watchConnection(nc, st);
        const jsm = await retry(() => ready(nc!, opts.config), log, signal, st);
        if (!jsm) return;
        const meta = await readMeta(jsm);
        if (meta && !keyMatches(key, meta)) {
          st.state = 'wrong-key';
          st.message = "this device's sync key does not match the group's (a different passphrase): run `sundial sync setup` again";
          log.error(st.message);
          // Nothing is pushed or pulled; a new key file restarts the child.
          const bad = JSON.stringify(key.seal);
          while (!signal.aborted && JSON.stringify(readKeyFile(opts.keyFile)?.seal) === bad) await sleep(1_000, signal);
          if (!signal.aborted) ctx.crash(new Error('sync key changed'));
          return;
        }
        await opts.writer.submit({ kind: 'syncShare', patterns: opts.config.buckets });
        st.state = 'syncing';
        st.message = null;
        log.info({ url: opts.config.url, buckets: opts.config.buckets }, 'sync running');
        await Promise.all([
          pushLoop(nc.jetstream(), box, key, opts, st, log, signal),
          pullLoop(nc.jetstream(), jsm, key, opts, st, log, signal),
          peersLoop(jsm, opts, st, signal, db),
        ]);
      })();
      main.catch((err: unknown) => {
        if (signal.aborted) return;
        st.state = 'error';
        st.message = (err as Error).message;
        ctx.crash(err);
      });
      return {
        async stop() {
          // A first connection still being attempted is not waited for (it closes itself once made).
          await Promise.race([main.catch(() => {}), delay(2_000)]);
          await (nc as NatsConnection | null)?.drain().catch(() => {});
          db.close();
        },
        kill() {
          void (nc as NatsConnection | null)?.close();
          db.close();
        },
        status: () => {
          let pending = st.pushed.pending;
          try {
            pending = box.pending(st.pushed.cursor);
          } catch {
            /* stopped: the connection is closed */
          }
          return { ...st, pushed: { ...st.pushed, pending } };
        },
      };
    },
  };
}

async function watchConnection(nc: NatsConnection, st: SyncStatus): Promise<void> {
  st.connected = true;
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') st.connected = false;
    else if (s.type === 'reconnect') st.connected = true;
  }
}

async function ready(nc: NatsConnection, cfg: SyncConfig): Promise<JetStreamManager> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, cfg.replicas);
  return jsm;
}

/** Retries a server step (no JetStream yet, a cluster electing a leader) until it works or the child stops. */
async function retry<T>(fn: () => Promise<T>, log: Logger, signal: AbortSignal, st?: SyncStatus): Promise<T | null> {
  let wait = 250, logged = false;
  while (!signal.aborted) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) return null;
      if (st) st.message = `sync server: ${(err as Error).message}`;
      if (!logged) log.warn({ err: (err as Error).message }, 'sync server not ready; retrying');
      logged = true;
      await sleep(wait, signal);
      wait = Math.min(wait * 2, 2_000);
    }
  }
  return null;
}

/**
 * Publishes the log in order, one batch at a time: a batch is published again until the server
 * acknowledges it, and the next one waits, so the stream holds each device's batches in sequence
 * (a re-published batch only repeats changes that peers skip).
 */
async function pushLoop(js: JetStreamClient, box: Outbox, key: SyncKey, opts: SyncChildOptions, st: SyncStatus, log: Logger, signal: AbortSignal): Promise<void> {
  const subject = deviceSubject(opts.deviceId);
  let cursor = box.cursor(), persisted = cursor, persistedAt = Date.now();
  const persist = async () => {
    if (persisted === cursor) return;
    const upTo = cursor;
    await opts.writer.submit({ kind: 'syncPushed', upTo });
    persisted = upTo;
    persistedAt = Date.now();
  };
  while (!signal.aborted) {
    const batch = box.next(cursor);
    if (!batch) {
      await persist().catch((err: unknown) => log.warn({ err }, 'sync cursor not saved; retrying'));
      await sleep(IDLE_MS, signal);
      continue;
    }
    const bytes = seal(key, batch);
    const ok = await retry(() => js.publish(subject, bytes, { timeout: 5_000 }), log, signal);
    if (!ok) break;
    cursor = batch.last;
    st.pushed.cursor = cursor;
    st.pushed.changes += batch.changes.length;
    st.pushed.bytes += bytes.length;
    st.pushed.lastAt = new Date().toISOString();
    if (Date.now() - persistedAt >= PERSIST_MS) await persist().catch((err: unknown) => log.warn({ err }, 'sync cursor not saved; retrying'));
  }
  await persist().catch(() => {});
}

function peer(st: SyncStatus, device: string): PeerStatus {
  let p = st.peers.find((x) => x.device === device);
  if (!p) st.peers.push((p = { device, lastSeen: null, behind: 0, bytes: 0, changes: 0 }));
  return p;
}

/**
 * Imports other devices' batches through this device's durable consumer, one message at a time
 * (max_ack_pending 1): a message is acknowledged only after its import committed, and none can
 * overtake another, so each device's batches arrive in their order even after a failure here.
 */
async function pullLoop(js: JetStreamClient, jsm: JetStreamManager, key: SyncKey, opts: SyncChildOptions, st: SyncStatus, log: Logger, signal: AbortSignal): Promise<void> {
  const ok = await retry(() => ensureConsumer(jsm, opts.deviceId), log, signal);
  if (!ok && signal.aborted) return;
  const consumer = await retry(() => js.consumers.get(STREAM, consumerName(opts.deviceId)), log, signal);
  if (!consumer) return;
  const told = new Set<string>();
  const refuse = (device: string, r: Refused, redelivered: boolean) => {
    st.refused[r.reason] = (st.refused[r.reason] ?? 0) + 1;
    // Our own crash between commit and ack re-delivers a message: expected, not worth a line.
    if (r.reason === 'replayed' && redelivered) return;
    const k = `${device}|${r.reason}`;
    if (told.has(k)) return;
    told.add(k);
    log.warn({ device, reason: r.reason }, `sync message refused: ${r.message} (further ones are counted in status)`);
  };
  const handle = async (m: JsMsg): Promise<void> => {
    const device = deviceOf(m.subject);
    if (device === opts.deviceId) return;
    let batch, out;
    try {
      batch = open(key, m.data, device);
      out = await opts.writer.submit({ kind: 'syncImport', batch });
    } catch (err) {
      // A batch the writer refuses as input would be refused again: drop it rather than stall the stream.
      if (err instanceof SundialError && (err.kind === 'input' || err.kind === 'not-found')) err = new Refused('malformed', `a message from ${device} cannot be stored: ${err.message}`);
      if (!(err instanceof Refused)) throw err;
      return refuse(device, err, m.redelivered);
    }
    const p = peer(st, device);
    p.lastSeen = new Date(m.info.timestampNanos / 1e6).toISOString();
    if (out.replayed) return refuse(device, new Refused('replayed', `a message from ${device} repeats changes already imported`), m.redelivered);
    if (out.gap) log.warn({ device, from: batch.prev }, 'sync: changes from this device are missing on the server (it lost acknowledged messages); going on');
    p.bytes += m.data.length;
    p.changes += out.upserted + out.deleted;
    p.behind = Math.max(0, p.behind - batch.changes.length);
  };
  while (!signal.aborted) {
    try {
      const msgs = await consumer.fetch({ max_messages: 256, expires: 1_000 });
      const stop = () => void msgs.stop();
      signal.addEventListener('abort', stop, { once: true });
      for await (const m of msgs) {
        try {
          await handle(m);
          m.ack();
        } catch (err) {
          // Not imported (the writer is restarting): ask for it again; nothing overtakes it.
          m.nak(1_000);
          throw err;
        }
      }
      signal.removeEventListener('abort', stop);
    } catch (err) {
      if (signal.aborted) break;
      log.debug({ err: (err as Error).message }, 'sync pull interrupted; retrying');
      await sleep(500, signal);
    }
  }
}

/** Every few seconds: which devices publish, when they last did, and how far behind this device is. */
async function peersLoop(jsm: JetStreamManager, opts: SyncChildOptions, st: SyncStatus, signal: AbortSignal, db: import('better-sqlite3').Database): Promise<void> {
  const applied = db.prepare('SELECT seq FROM applied WHERE source = ?').pluck(true);
  while (!signal.aborted) {
    try {
      const info = await jsm.streams.info(STREAM, { subjects_filter: DEVICES });
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const device = deviceOf(subject);
        if (device === opts.deviceId) continue;
        const last = await jsm.streams.getMessage(STREAM, { last_by_subj: subject });
        const p = peer(st, device);
        p.lastSeen = last.time.toISOString();
        try {
          const done = (applied.get(pullSource(device)) as number | undefined) ?? 0;
          p.behind = Math.max(0, peekHeader(last.data).l - done);
        } catch {
          /* its newest message is not a batch: counted when the pull side meets it */
        }
      }
    } catch {
      /* offline: keep the last known figures */
    }
    await sleep(3_000, signal);
  }
}
