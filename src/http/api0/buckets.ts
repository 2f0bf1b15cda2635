import { parseBucketSpec, type Bucket } from '../../model/bucket.js';
import { InputError, notFound } from '../../model/errors.js';
import { isPlainObject, parseEvent, type Event } from '../../model/event.js';
import { formatTimestamp, nowMicros, parseTimestamp } from '../../model/time.js';
import type { BucketInfo } from '../../storage/read.js';
import { drain, readJson, requireJson } from '../body.js';
import { sendEmpty, sendJson } from '../respond.js';
import { type Ctx, type ServerInfo } from './context.js';

/** The bucket object of the REST API; last_updated carries the end of the newest event. */
export function bucketJson(b: BucketInfo): Record<string, unknown> {
  const end = b.end === null ? null : formatTimestamp(b.end);
  return {
    id: b.id,
    type: b.type,
    client: b.client,
    hostname: b.hostname,
    created: formatTimestamp(b.created),
    data: b.data,
    metadata: { start: b.start === null ? null : formatTimestamp(b.start), end },
    events: null,
    last_updated: end,
  };
}

export function listBuckets(ctx: Ctx): void {
  const out: Record<string, unknown> = {};
  for (const b of ctx.deps.reader.buckets()) out[b.id] = bucketJson(b);
  sendJson(ctx.res, 200, out);
}

export function getBucket(ctx: Ctx, id: string): void {
  const b = ctx.deps.reader.bucketInfo(id);
  if (!b) throw notFound(`The requested bucket '${id}' does not exist`);
  sendJson(ctx.res, 200, bucketJson(b));
}

/** Browser-extension watchers cannot learn the host name: "!local" means "this server's machine". */
export function substituteLocal(b: Bucket, info: ServerInfo): Bucket {
  if (b.hostname !== '!local') return b;
  return { ...b, hostname: info.hostname, data: { ...b.data, device_id: info.deviceId } };
}

export async function createBucket(ctx: Ctx, id: string): Promise<void> {
  requireJson(ctx.req);
  const body = await readJson(ctx.req);
  const spec = substituteLocal(
    parseBucketSpec(id, body, nowMicros(), (v) => parseTimestamp(v, 'bucket.created')),
    ctx.deps.info,
  );
  const raw = (body as Record<string, unknown>).events;
  let events: Event[] | undefined;
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) throw new InputError('bucket.events must be a list of events', 400);
    events = raw.map((e, i) => parseEvent(e, { where: `bucket.events[${i}]` }));
  }
  const { created } = await ctx.deps.writer.submit({ kind: 'createBucket', bucket: spec, events });
  // 304: the bucket exists and nothing changed (clients treat it as success).
  sendEmpty(ctx.res, created ? 200 : 304);
}

/** PUT (legacy Python server): update type/client/hostname/data. */
export async function updateBucket(ctx: Ctx, id: string): Promise<void> {
  requireJson(ctx.req);
  const body = await readJson(ctx.req);
  if (!isPlainObject(body)) throw new InputError('bucket must be a JSON object', 400);
  const patch: Partial<Pick<Bucket, 'type' | 'client' | 'hostname' | 'data'>> = {};
  for (const k of ['type', 'client', 'hostname'] as const) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new InputError(`bucket.${k} must be a string`, 400);
    patch[k] = v;
  }
  if (body.data !== undefined && body.data !== null) {
    if (!isPlainObject(body.data)) throw new InputError('bucket.data must be a JSON object', 400);
    patch.data = body.data;
  }
  if (patch.hostname === '!local') {
    patch.hostname = ctx.deps.info.hostname;
    const data = patch.data ?? ctx.deps.reader.bucket(id)?.data ?? {};
    patch.data = { ...data, device_id: ctx.deps.info.deviceId };
  }
  await ctx.deps.writer.submit({ kind: 'updateBucket', id, patch });
  sendEmpty(ctx.res, 200);
}

/** `force=1` is accepted and ignored, as in the reference server. */
export async function deleteBucket(ctx: Ctx, id: string): Promise<void> {
  await drain(ctx.req);
  await ctx.deps.writer.submit({ kind: 'deleteBucket', id });
  sendEmpty(ctx.res, 200);
}
