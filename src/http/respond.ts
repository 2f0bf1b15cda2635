import type http from 'node:http';
import { InputError } from '../model/errors.js';
import { WriterOutcomeUnknown, WriterUnavailable } from '../actors/storage-writer/ops.js';
import type { Logger } from '../log.js';

/** Sends `value` as JSON. */
export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify(value) ?? 'null';
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Empty body (the reference answers create/delete with an empty 200). */
export function sendEmpty(res: http.ServerResponse, status = 200): void {
  res.writeHead(status, status === 304 || status === 204 ? {} : { 'Content-Length': 0 });
  res.end();
}

export function sendMessage(res: http.ServerResponse, status: number, message: string, headers: http.OutgoingHttpHeaders = {}): void {
  sendJson(res, status, { message }, headers);
}

/**
 * Maps an error thrown by a handler to a response: InputError → its 4xx, WriterUnavailable → 503,
 * a SyntaxError from JSON.parse → 400, anything else → 500 (logged; that is a bug of ours).
 */
export function sendError(res: http.ServerResponse, err: unknown, log: Logger): void {
  let status = 500;
  let message = 'internal server error';
  if (err instanceof InputError) {
    status = err.status;
    message = err.message;
  } else if (err instanceof WriterUnavailable || err instanceof WriterOutcomeUnknown) {
    status = 503;
    message = err.message;
  } else if (err instanceof SyntaxError) {
    status = 400;
    message = `request body is not valid JSON: ${err.message}`;
  } else if (isStatusError(err)) {
    status = err.status;
    message = err.message;
  }
  if (status >= 500) log.error({ err }, 'request failed');
  if (res.headersSent) {
    // Mid-stream (export): the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  // A request body we did not read must not be parsed as the next request on this connection.
  const headers: http.OutgoingHttpHeaders = res.req && !res.req.complete ? { Connection: 'close' } : {};
  sendMessage(res, status, message, headers);
}

function isStatusError(err: unknown): err is { status: number; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { status?: unknown; message?: unknown };
  return typeof e.status === 'number' && Number.isInteger(e.status) && e.status >= 400 && e.status <= 599 && typeof e.message === 'string';
}
