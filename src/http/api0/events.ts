import { InputError, notFound } from '../../model/errors.js';
import { eventToJson, isPlainObject, parseEvent } from '../../model/event.js';
import { parseTimestamp, secondsToMicros, type Micros } from '../../model/time.js';
import { drain, readJson, requireJson } from '../body.js';
import { sendEmpty, sendJson } from '../respond.js';
import { bucketOr404, parseEventId, type Ctx } from './context.js';

/** `start`/`end` query parameters: strict RFC 3339 with offset; a bad one is 400 (reference message). */
function timeParam(params: URLSearchParams, name: 'start' | 'end'): Micros | null {
  const v = params.get(name);
  if (v === null || v === '') return null;
  try {
    return parseTimestamp(v, name, false);
  } catch (err) {
    throw new InputError(
      `Failed to parse ${name}time, datetime needs to be in rfc3339 format: ${(err as Error).message}`,
      400,
    );
  }
}

/** `limit`: an integer; absent, empty or negative (the web UI sends -1) means no limit, anything else is 400. */
function limitParam(params: URLSearchParams): number | null {
  const v = params.get('limit');
  if (v === null || v === '') return null;
  if (!/^-?[0-9]{1,15}$/.test(v)) throw new InputError(`limit '${v}' must be an integer (negative: no limit)`, 400);
  const n = Number(v);
  return n < 0 ? null : n;
}

/** The request's `start`/`end` window; either side may be open (null). */
const windowParams = (params: URLSearchParams) => ({ start: timeParam(params, 'start'), end: timeParam(params, 'end') });

/** Events overlapping the window, clipped to it, newest first. */
export function listEvents(ctx: Ctx, bid: string): void {
  const b = bucketOr404(ctx.deps.reader, bid);
  const events = ctx.deps.reader.events(b.row, { ...windowParams(ctx.params), limit: limitParam(ctx.params) });
  sendJson(ctx.res, 200, events.map(eventToJson));
}

/** Number of events overlapping the window (the same rule as listing), as the Python server counts. */
export function countEvents(ctx: Ctx, bid: string): void {
  const b = bucketOr404(ctx.deps.reader, bid);
  sendJson(ctx.res, 200, ctx.deps.reader.count(b.row, windowParams(ctx.params)));
}

export function getEvent(ctx: Ctx, bid: string, eid: string): void {
  const b = bucketOr404(ctx.deps.reader, bid);
  const id = parseEventId(eid);
  const e = ctx.deps.reader.event(b.row, id);
  // The reference answers 500 here; clients already read 404 as "no such event".
  if (!e) throw notFound(`The requested event ${id} does not exist in bucket '${bid}'`);
  sendJson(ctx.res, 200, eventToJson(e));
}

/**
 * A list of events (what every client sends) or, as the legacy server allowed, one event.
 * Events with `id` replace that event of this bucket (another bucket's id → 400, nothing stored).
 */
export async function insertEvents(ctx: Ctx, bid: string): Promise<void> {
  requireJson(ctx.req);
  const body = await readJson(ctx.req);
  const single = isPlainObject(body);
  if (!single && !Array.isArray(body)) throw new InputError('body must be a list of events', 400);
  const list = single ? [body] : (body as unknown[]);
  const events = list.map((e, i) => parseEvent(e, { keepId: true, where: single ? 'event' : `events[${i}]` }));
  const stored = await ctx.deps.writer.submit({ kind: 'insertEvents', bucket: bid, events });
  const json = stored.map(eventToJson);
  sendJson(ctx.res, 200, single ? json[0] : json);
}

export async function deleteEvent(ctx: Ctx, bid: string, eid: string): Promise<void> {
  await drain(ctx.req);
  const id = parseEventId(eid);
  await ctx.deps.writer.submit({ kind: 'deleteEvent', bucket: bid, id });
  sendEmpty(ctx.res, 200);
}

/** POST .../heartbeat?pulsetime=<seconds>: one event, merged into the newest one when it continues it. */
export async function heartbeat(ctx: Ctx, bid: string): Promise<void> {
  requireJson(ctx.req);
  const p = ctx.params.get('pulsetime');
  if (p === null || p.trim() === '') throw new InputError('Missing required parameter pulsetime', 400);
  const seconds = Number(p);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InputError(`pulsetime '${p}' must be a non-negative number of seconds`, 400);
  }
  const pulsetime = secondsToMicros(seconds, 'pulsetime');
  const body = await readJson(ctx.req);
  if (Array.isArray(body)) throw new InputError('heartbeat body must be a single event object, not a list', 400);
  const event = parseEvent(body, { where: 'heartbeat' });
  const result = await ctx.deps.writer.submit({ kind: 'heartbeat', bucket: bid, event, pulsetime });
  // null: not stored (privacy pause or a drop rule); answer with the heartbeat itself, without id.
  sendJson(ctx.res, 200, eventToJson(result ?? { ...event, id: null }));
}
