import crypto from 'node:crypto';
import fs from 'node:fs';
import { AckPolicy, connect, credsAuthenticator, DeliverPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import type { Config } from '../config/config.js';
import { deriveMaster, keyFromMaster, newSalt, type SyncKey } from './key.js';

/**
 * The sync server as Sundial uses it: one JetStream stream holding every device's sealed batches,
 * one subject per device, plus one meta message (the group's salt and a key check, both public).
 */
export const STREAM = 'SUNDIAL_SYNC';
export const META_SUBJECT = 'sundial.sync.meta';
const DEVICE_ROOT = 'sundial.sync.d';
export const deviceSubject = (device: string): string => `${DEVICE_ROOT}.${device}`;
export const DEVICES = `${DEVICE_ROOT}.*`;
export const deviceOf = (subject: string): string => subject.slice(DEVICE_ROOT.length + 1);
/** Each device's durable consumer: where it stands in the stream survives restarts on the server. */
export const consumerName = (device: string): string => `sundial-${device}`;

export type SyncConfig = Config['sync'];

/** Connects to the sync server; the client reconnects by itself forever after the first success. */
export async function connectSync(cfg: SyncConfig, name: string, opts: { waitOnFirstConnect?: boolean } = {}): Promise<NatsConnection> {
  if (!cfg.url) throw new Error('sync.url is not set');
  return connect({
    servers: cfg.url.split(',').map((u) => u.trim()),
    name,
    user: cfg.user ?? undefined,
    pass: cfg.password ?? undefined,
    token: cfg.token ?? undefined,
    authenticator: cfg.creds ? credsAuthenticator(fs.readFileSync(cfg.creds)) : undefined,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    timeout: 5_000,
  });
}

/** The stream, created when missing. No limits: a device set up later still reads everything. */
export async function ensureStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(STREAM);
  } catch {
    await jsm.streams.add({ name: STREAM, subjects: [`sundial.sync.>`], storage: StorageType.File, num_replicas: replicas });
  }
}

/** This device's durable pull consumer over every device's subject (its own messages are skipped). */
export async function ensureConsumer(jsm: JetStreamManager, device: string): Promise<void> {
  const name = consumerName(device);
  try {
    await jsm.consumers.info(STREAM, name);
  } catch {
    await jsm.consumers.add(STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: DEVICES, max_ack_pending: 1 });
  }
}

interface Meta {
  v: 1;
  salt: string;
  /** A constant sealed with the group's key: tells a wrong passphrase at once. */
  check: string;
}

const CHECK_TEXT = 'sundial sync key check';

function makeCheck(key: SyncKey): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key.seal, iv);
  const body = Buffer.concat([c.update(CHECK_TEXT), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

export function keyMatches(key: SyncKey, meta: Meta): boolean {
  try {
    const raw = Buffer.from(meta.check, 'base64');
    const d = crypto.createDecipheriv('aes-256-gcm', key.seal, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString() === CHECK_TEXT && Buffer.from(meta.salt, 'base64').equals(key.salt);
  } catch {
    return false;
  }
}

export async function readMeta(jsm: JetStreamManager): Promise<Meta | null> {
  try {
    const m = await jsm.streams.getMessage(STREAM, { last_by_subj: META_SUBJECT });
    return JSON.parse(new TextDecoder().decode(m.data)) as Meta;
  } catch (err) {
    if (/no message found|404/i.test((err as Error).message)) return null;
    throw err;
  }
}

/**
 * The group's key from a passphrase: with the salt on the server, or (first device) a new salt
 * published with its check. Returns null when the passphrase does not match the group's.
 */
export async function groupKey(nc: NatsConnection, cfg: SyncConfig, passphrase: string): Promise<{ key: SyncKey; master: Buffer; created: boolean } | null> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, cfg.replicas);
  for (;;) {
    const meta = await readMeta(jsm);
    if (meta) {
      const salt = Buffer.from(meta.salt, 'base64');
      const master = await deriveMaster(passphrase, salt);
      const key = keyFromMaster(master, salt);
      return keyMatches(key, meta) ? { key, master, created: false } : null;
    }
    const salt = newSalt();
    const master = await deriveMaster(passphrase, salt);
    const key = keyFromMaster(master, salt);
    const body: Meta = { v: 1, salt: salt.toString('base64'), check: makeCheck(key) };
    try {
      // Only if no meta exists yet: two first devices racing agree on the one that won.
      await nc.jetstream().publish(META_SUBJECT, JSON.stringify(body), { expect: { lastSubjectSequence: 0 } });
      return { key, master, created: true };
    } catch (err) {
      if (!/wrong last sequence/i.test((err as Error).message)) throw err;
    }
  }
}
