import { InputError } from './errors.js';
import { isPlainObject } from './event.js';
import type { Micros } from './time.js';

export interface Bucket {
  id: string;
  type: string;
  client: string;
  hostname: string;
  created: Micros;
  data: Record<string, unknown>;
}

export const MAX_BUCKET_ID = 255;

export function checkBucketId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new InputError('bucket id must be a non-empty string', 400);
  if (id.length > MAX_BUCKET_ID) throw new InputError(`bucket id is longer than ${MAX_BUCKET_ID} characters`, 400);
  if (id.includes('/') || /[\u0000-\u001f]/.test(id)) {
    throw new InputError('bucket id must not contain "/" or control characters', 400);
  }
  return id;
}

/** Validates the body of a bucket creation ({type, client, hostname, created?, data?}). */
export function parseBucketSpec(id: string, raw: unknown, now: Micros, parseTime: (v: unknown) => Micros): Bucket {
  if (!isPlainObject(raw)) throw new InputError('bucket must be a JSON object', 400);
  for (const k of ['type', 'client', 'hostname'] as const) {
    if (typeof raw[k] !== 'string') throw new InputError(`bucket.${k} must be a string`, 400);
  }
  if (raw.data !== undefined && raw.data !== null && !isPlainObject(raw.data)) {
    throw new InputError('bucket.data must be a JSON object', 400);
  }
  return {
    id: checkBucketId(id),
    type: raw.type as string,
    client: raw.client as string,
    hostname: raw.hostname as string,
    created: raw.created === undefined || raw.created === null ? now : parseTime(raw.created),
    data: (raw.data as Record<string, unknown> | undefined) ?? {},
  };
}
