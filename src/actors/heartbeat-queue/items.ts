import { parseBucketSpec, type Bucket } from '../../model/bucket.js';
import { InputError } from '../../model/errors.js';
import { isPlainObject, parseEvent, type Event } from '../../model/event.js';
import { nowMicros, parseTimestamp, secondsToMicros, type Micros } from '../../model/time.js';

/** What the heartbeat queue holds: writes that came over the bus, in arrival order. */
export type QueueItem =
  | { kind: 'heartbeat'; bucket: string; pulsetime: Micros; event: Event }
  | { kind: 'createBucket'; bucket: string; spec: Bucket }
  /** `key`: the producer's idempotency key; an insert whose key was taken before is not queued again. */
  | { kind: 'insertEvents'; bucket: string; events: Event[]; key?: string };

const MAX_EVENTS_PER_MESSAGE = 10_000;
const MAX_KEY_LENGTH = 200;

const bucketOf = (raw: Record<string, unknown>): string => {
  if (typeof raw.bucket !== 'string' || raw.bucket === '') throw new InputError('bucket must be a non-empty string');
  return raw.bucket;
};

/** Validates a bus payload at the edge; every problem is an InputError naming it. */
export function parseItem(kind: QueueItem['kind'], raw: unknown): QueueItem {
  if (!isPlainObject(raw)) throw new InputError('payload must be a JSON object');
  const bucket = bucketOf(raw);
  switch (kind) {
    case 'heartbeat': {
      if (raw.pulsetime === undefined) throw new InputError('pulsetime is required (seconds)');
      const pulsetime = secondsToMicros(raw.pulsetime, 'pulsetime');
      if (pulsetime < 0) throw new InputError('pulsetime must not be negative');
      return { kind, bucket, pulsetime, event: parseEvent(raw.event) };
    }
    case 'createBucket':
      return { kind, bucket, spec: parseBucketSpec(bucket, raw, nowMicros(), (v) => parseTimestamp(v, 'created')) };
    case 'insertEvents': {
      if (!Array.isArray(raw.events)) throw new InputError('events must be a list of events');
      if (raw.events.length > MAX_EVENTS_PER_MESSAGE) throw new InputError(`at most ${MAX_EVENTS_PER_MESSAGE} events per message`);
      const events = raw.events.map((e, i) => parseEvent(e, { where: `events[${i}]` }));
      if (raw.key === undefined) return { kind, bucket, events };
      if (typeof raw.key !== 'string' || raw.key === '' || raw.key.length > MAX_KEY_LENGTH) {
        throw new InputError(`key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
      }
      return { kind, bucket, events, key: raw.key };
    }
  }
}
