import { InputError, notFound } from '../model/errors.js';
import { isPlainObject } from '../model/event.js';
import { parseTimestamp, type Micros } from '../model/time.js';
import type { Reader } from '../storage/read.js';

export type ForgetMode = 'exact' | 'substring' | 'regex';

export interface ForgetRequest {
  /** What to look for; how it matches is `mode`. Case-insensitive in every mode. */
  match: string;
  /** `exact`: the whole value (default); `substring`: anywhere in it; `regex`: a regular expression searched in it. */
  mode: ForgetMode;
  /** Only this data key (e.g. `title`); default: every string value of the event's data. */
  key?: string;
  /** Only this bucket (default: every bucket). */
  bucket?: string;
  /** Only events that end at or after this instant. */
  since?: Micros;
}

export interface ForgetMatch {
  ids: number[];
  perBucket: Record<string, number>;
}

const MODES: ForgetMode[] = ['exact', 'substring', 'regex'];
const optionalString = (raw: Record<string, unknown>, k: string): string | undefined => {
  const v = raw[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new InputError(`forget: ${k} must be a non-empty string`);
  return v;
};

/** Validates a forget request from the control endpoint or CLI. */
export function parseForget(raw: unknown): ForgetRequest & { dryRun: boolean } {
  if (!isPlainObject(raw)) throw new InputError('forget: body must be a JSON object');
  if (typeof raw.match !== 'string' || raw.match === '') throw new InputError('forget: match must be a non-empty string');
  const mode = (raw.mode ?? 'exact') as ForgetMode;
  if (!MODES.includes(mode)) throw new InputError(`forget: mode must be one of ${MODES.join(', ')}`);
  if (mode === 'regex') {
    try {
      new RegExp(raw.match);
    } catch (err) {
      throw new InputError(`forget: match is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return {
    match: raw.match,
    mode,
    key: optionalString(raw, 'key'),
    bucket: optionalString(raw, 'bucket'),
    since: raw.since === undefined || raw.since === null ? undefined : parseTimestamp(raw.since, 'since'),
    dryRun: raw.dry_run === true,
  };
}

function matcher(req: ForgetRequest): (value: string) => boolean {
  if (req.mode === 'regex') {
    const re = new RegExp(req.match, 'i');
    return (v) => re.test(v);
  }
  const want = req.match.toLocaleLowerCase();
  return req.mode === 'exact' ? (v) => v.toLocaleLowerCase() === want : (v) => v.toLocaleLowerCase().includes(want);
}

/** Finds the events a forget request names (a read; the deletion goes through the writer). */
export function findForgettable(reader: Reader, req: ForgetRequest): ForgetMatch {
  const matches = matcher(req);
  const values = req.key === undefined ? (d: Record<string, unknown>) => Object.values(d) : (d: Record<string, unknown>) => [d[req.key!]];
  const buckets = req.bucket === undefined ? reader.buckets() : [reader.bucket(req.bucket)].filter((b) => b !== undefined);
  if (req.bucket !== undefined && buckets.length === 0) throw notFound(`The requested bucket '${req.bucket}' does not exist`);
  const ids: number[] = [];
  const perBucket: Record<string, number> = {};
  for (const b of buckets) {
    let n = 0;
    for (const e of reader.events(b!.row, { start: req.since ?? null, clip: false })) {
      if (values(e.data).some((v) => typeof v === 'string' && matches(v))) {
        ids.push(e.id!);
        n++;
      }
    }
    if (n) perBucket[b!.id] = n;
  }
  return { ids, perBucket };
}
