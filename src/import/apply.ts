import type { Writer } from '../actors/storage-writer/ops.js';
import type { Bucket } from '../model/bucket.js';
import { InputError } from '../model/errors.js';
import { isPlainObject, type Event } from '../model/event.js';
import type { Reader } from '../storage/read.js';
import type { Source } from './sources.js';

/**
 * Where imported buckets and events go: the storage writer directly (daemon stopped) or the running
 * daemon's control endpoint. Both end in the same writer ops, so the result is the same.
 */
export interface ImportSink {
  exists(id: string): Promise<boolean>;
  /**
   * Stores `events` into `bucket`, creating it first when missing. `fresh` (the bucket was created by
   * this run) inserts as they are; otherwise events identical to stored ones are skipped, so running
   * the import again adds nothing.
   */
  put(bucket: Bucket, events: Event[], fresh: boolean): Promise<{ created: boolean; inserted: number }>;
}

export function writerSink(read: () => Reader, writer: Writer): ImportSink {
  return {
    exists: async (id) => read().bucket(id) !== undefined,
    async put(bucket, events, fresh) {
      let created = false;
      if (!read().bucket(bucket.id)) created = (await writer.submit({ kind: 'createBucket', bucket })).created;
      if (events.length === 0) return { created, inserted: 0 };
      const r = await writer.submit({ kind: 'importEvents', bucket: bucket.id, events, fresh: fresh || created });
      return { created, inserted: r.inserted };
    },
  };
}

/** The control endpoint's wire form of one import batch (times in microseconds). */
export interface ImportBatch {
  bucket: Bucket;
  events: [number, number, Record<string, unknown>][];
  fresh: boolean;
}

export const toBatch = (bucket: Bucket, events: Event[], fresh: boolean): ImportBatch => ({
  bucket,
  events: events.map((e) => [e.timestamp, e.duration, e.data]),
  fresh,
});

function parseBatch(body: unknown): { bucket: Bucket; events: Event[]; fresh: boolean } {
  if (!isPlainObject(body) || !isPlainObject(body.bucket) || !Array.isArray(body.events)) throw new InputError('import batch must be {bucket, events, fresh}');
  const b = body.bucket;
  for (const k of ['id', 'type', 'client', 'hostname'] as const) if (typeof b[k] !== 'string') throw new InputError(`import batch: bucket.${k} must be a string`);
  if (!Number.isSafeInteger(b.created) || !isPlainObject(b.data)) throw new InputError('import batch: bucket.created must be microseconds and bucket.data an object');
  const events = body.events.map((e: unknown) => {
    if (!Array.isArray(e) || !Number.isSafeInteger(e[0]) || !Number.isSafeInteger(e[1]) || !isPlainObject(e[2])) throw new InputError('import batch: each event must be [start µs, duration µs, data]');
    return { id: null, timestamp: e[0] as number, duration: e[1] as number, data: e[2] as Record<string, unknown> };
  });
  return { bucket: b as unknown as Bucket, events, fresh: body.fresh === true };
}

/** POST /api/control/import and /api/control/bucket-exists: the daemon side of the control sink. */
export function importActions(deps: { read: () => Reader; writer: Writer }): Record<string, (body: unknown) => Promise<unknown>> {
  const sink = writerSink(deps.read, deps.writer);
  return {
    async import(body) {
      const { bucket, events, fresh } = parseBatch(body);
      return sink.put(bucket, events, fresh);
    },
    async 'bucket-exists'(body) {
      if (!isPlainObject(body) || typeof body.id !== 'string') throw new InputError('body must be {id}');
      return { exists: await sink.exists(body.id) };
    },
  };
}

export interface ImportReport {
  buckets: { id: string; count: number; inserted: number; existed: boolean }[];
  inserted: number;
  seen: number;
  skipped: number;
}

/** Events per batch: big enough to amortise commits, small enough to stay light. */
export const IMPORT_BATCH = 4000;

/**
 * Copies every bucket and event of `source` into `sink`. Up to two batches are in flight, so
 * reading the next batch overlaps with the previous one's commit.
 */
export async function runImport(source: Source, sink: ImportSink, onProgress?: (done: number, total: number) => void, batch = IMPORT_BATCH): Promise<ImportReport> {
  const total = source.buckets.reduce((n, b) => n + b.count, 0);
  const report: ImportReport = { buckets: [], inserted: 0, seen: 0, skipped: 0 };
  for (const sb of source.buckets) {
    const existed = await sink.exists(sb.bucket.id);
    const first = await sink.put(sb.bucket, [], false);
    const fresh = first.created;
    const row = { id: sb.bucket.id, count: sb.count, inserted: 0, existed };
    report.buckets.push(row);
    let inFlight: Promise<void>[] = [];
    for await (const events of source.events(sb.bucket.id, batch)) {
      const p = sink.put(sb.bucket, events, fresh).then((r) => {
        row.inserted += r.inserted;
        report.inserted += r.inserted;
        report.seen += events.length;
        onProgress?.(report.seen, total);
      });
      p.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
      inFlight.push(p);
      if (inFlight.length >= 2) {
        await inFlight.shift();
      }
    }
    await Promise.all(inFlight);
    inFlight = [];
  }
  report.skipped = source.skipped;
  return report;
}
