import { Writable } from 'node:stream';
import pino from 'pino';
import type { Daemon } from '../../src/daemon.js';
import type { Logger } from '../../src/log.js';
import type { SyncStatus } from '../../src/sync/child.js';
import { startInProcess } from '../helpers/daemon.js';

export const PASS = 'correct horse battery staple';

/** A daemon with sync on against `url`, its log lines kept for assertions. */
export async function syncDaemon(dataDir: string, url: string, lines: string[] = [], replicas = 1): Promise<Daemon> {
  const log: Logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
  return startInProcess(
    dataDir,
    (c) => {
      c.sync.enabled = true;
      c.sync.url = url;
      c.sync.replicas = replicas;
      c.jobs.enabled = false;
    },
    { log },
  );
}

export const syncStatus = (d: Daemon): SyncStatus => d.status().sync as SyncStatus;
export const deviceOf = (d: Daemon): string => syncStatus(d).device;

export async function api(d: Daemon, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${d.port}/api/0${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok && r.status !== 304) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export interface EventOut {
  id: number;
  timestamp: string;
  duration: number;
  data: Record<string, unknown>;
}

export const createBucket = (d: Daemon, id: string, type = 'currentwindow') => api(d, 'POST', `/buckets/${id}`, { client: 'test', type, hostname: `host-${id}` });
export const events = async (d: Daemon, bucket: string): Promise<EventOut[]> => (await api(d, 'GET', `/buckets/${bucket}/events?limit=-1`)) as EventOut[];
export const bucketIds = async (d: Daemon): Promise<string[]> => Object.keys((await api(d, 'GET', '/buckets/')) as object).sort();

/** Events in a comparable form: the same content on every device, ids aside. */
export const content = (es: EventOut[]) => es.map((e) => `${e.timestamp}|${e.duration}|${JSON.stringify(e.data)}`).sort();

export const windowEvents = (n: number, startMs: number, label: string) =>
  Array.from({ length: n }, (_, i) => ({ timestamp: new Date(startMs + i * 10_000).toISOString(), duration: 5, data: { app: `${label}App`, title: `${label}Title-${i}` } }));
