import type http from 'node:http';
import { httpStatus, SundialError } from '../model/errors.js';
import type { Logger } from '../log.js';

/** Sends `value` as JSON. */
export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers?: http.OutgoingHttpHeaders): void {
  sendJsonText(res, status, JSON.stringify(value) ?? 'null', headers);
}

/** Sends `body`, already JSON. */
export function sendJsonText(res: http.ServerResponse, status: number, body: string, headers?: http.OutgoingHttpHeaders): void {
  const length = Buffer.byteLength(body);
  res.writeHead(
    status,
    headers === undefined
      ? { 'Content-Type': 'application/json', 'Content-Length': length }
      : { ...headers, 'Content-Type': 'application/json', 'Content-Length': length },
  );
  res.end(body);
}

/** Empty body (the reference answers create/delete with an empty 200). */
export function sendEmpty(res: http.ServerResponse, status = 200): void {
  res.writeHead(status, status === 304 || status === 204 ? {} : { 'Content-Length': 0 });
  res.end();
}

export function sendMessage(res: http.ServerResponse, status: number, message: string, headers?: http.OutgoingHttpHeaders): void {
  sendJson(res, status, { message }, headers);
}

/**
 * Answers an error thrown by a handler: a SundialError with its status (one mapping, in
 * model/errors.ts) and message; a SyntaxError from JSON.parse is the client's; anything else is a
 * bug of ours: 500, logged.
 */
export function sendError(res: http.ServerResponse, err: unknown, log: Logger): void {
  const status = err instanceof SyntaxError ? 400 : httpStatus(err);
  const message =
    err instanceof SundialError ? err.message : err instanceof SyntaxError ? `request body is not valid JSON: ${err.message}` : 'internal server error';
  if (status >= 500 && !(err instanceof SundialError)) log.error({ err }, 'request failed');
  if (res.headersSent) {
    // Mid-stream (export): the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  // A request body we did not read must not be parsed as the next request on this connection.
  const headers: http.OutgoingHttpHeaders = res.req && !res.req.complete ? { Connection: 'close' } : {};
  sendMessage(res, status, message, headers);
}
