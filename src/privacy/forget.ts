import { InputError, notFound } from '../model/errors.js';
import { isPlainObject } from '../model/event.js';
import { parseTimestamp, type Micros } from '../model/time.js';
import type { Reader } from '../storage/read.js';

export interface ForgetRequest {
  /** Regular expression (case-insensitive), searched in every string value of an event's data. */
  match: string;
  /** Only this bucket (default: every bucket). */
  bucket?: string;
  /** Only events that end at or after this instant. */
  since?: Micros;
}

export interface ForgetMatch {
  ids: number[];
  perBucket: Record<string, number>;
}

/** Validates a forget request from the control endpoint or CLI. */
export function parseForget(raw: unknown): ForgetRequest & { dryRun: boolean } {
  if (!isPlainObject(raw)) throw new InputError('forget: body must be a JSON object');
  if (typeof raw.match !== 'string' || raw.match === '') throw new InputError('forget: match must be a non-empty regular expression');
  try {
    new RegExp(raw.match);
  } catch (err) {
    throw new InputError(`forget: match is not a valid regular expression: ${(err as Error).message}`);
  }
  if (raw.bucket !== undefined && typeof raw.bucket !== 'string') throw new InputError('forget: bucket must be a string');
  return {
    match: raw.match,
    bucket: raw.bucket as string | undefined,
    since: raw.since === undefined || raw.since === null ? undefined : parseTimestamp(raw.since, 'since'),
    dryRun: raw.dry_run === true,
  };
}

/** Finds the events a forget request names (a read; the deletion goes through the writer). */
export function findForgettable(reader: Reader, req: ForgetRequest): ForgetMatch {
  const re = new RegExp(req.match, 'i');
  const buckets = req.bucket === undefined ? reader.buckets() : [reader.bucket(req.bucket)].filter((b) => b !== undefined);
  if (req.bucket !== undefined && buckets.length === 0) throw notFound(`The requested bucket '${req.bucket}' does not exist`);
  const ids: number[] = [];
  const perBucket: Record<string, number> = {};
  for (const b of buckets) {
    let n = 0;
    for (const e of reader.events(b!.row, { start: req.since ?? null, clip: false })) {
      if (Object.values(e.data).some((v) => typeof v === 'string' && re.test(v))) {
        ids.push(e.id!);
        n++;
      }
    }
    if (n) perBucket[b!.id] = n;
  }
  return { ids, perBucket };
}
