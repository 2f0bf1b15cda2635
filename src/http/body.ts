import type http from 'node:http';
import { InputError } from '../model/errors.js';

/** Limit for ordinary JSON bodies (event lists from the web UI's bucket-merge tool can be large). */
const JSON_BODY_LIMIT = 32 * 1024 * 1024;
/** Limit for imports, which are streamed (spooled to disk, never held in memory). */
export const IMPORT_BODY_LIMIT = 1024 * 1024 * 1024;

/** The media type of the request, lower-cased, without parameters ('' when absent). */
export function mediaType(req: http.IncomingMessage): string {
  const ct = req.headers['content-type'];
  if (typeof ct !== 'string') return '';
  return ct.split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * A JSON route accepts only application/json. Browsers send text/plain and form bodies
 * cross-origin without a preflight, so accepting them would let any web page write here.
 */
export function requireJson(req: http.IncomingMessage): void {
  if (mediaType(req) !== 'application/json') {
    throw new InputError('Content-Type must be application/json', 415);
  }
}

export function checkDeclaredLength(req: http.IncomingMessage, limit: number): void {
  const len = req.headers['content-length'];
  if (len !== undefined && Number(len) > limit) throw tooLarge(limit);
}

const tooLarge = (limit: number) => new InputError(`request body is larger than ${limit} bytes`, 413);

/** Reads and parses a JSON body (content type already checked). Empty or malformed → 400, too large → 413. */
export async function readJson(req: http.IncomingMessage, limit = JSON_BODY_LIMIT): Promise<unknown> {
  checkDeclaredLength(req, limit);
  // Plain listeners rather than `for await`: this is on every write request and async iteration costs.
  const { chunks, size } = await new Promise<{ chunks: Buffer[]; size: number }>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, size });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      if (!req.complete) onError(new InputError('request body was cut off', 400));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
  let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new InputError('request body is empty; expected JSON', 400);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`request body is not valid JSON: ${(err as Error).message}`, 400);
  }
  checkDepth(value);
  return value;
}

/** Deepest nesting accepted in a JSON value. Storage and comparisons recurse; 10k levels would overflow the stack (a 500). */
const MAX_JSON_DEPTH = 128;

/**
 * Throws 400 when `value` nests deeper than `max`. Recursion is safe here: it stops at `max` levels.
 * Runs on every write request, so no per-node allocations (for-in sees exactly the own keys of a
 * JSON.parse result, `__proto__` included).
 */
export function checkDepth(value: unknown, max = MAX_JSON_DEPTH, what = 'request body'): void {
  const walk = (v: object, depth: number): void => {
    if (depth > max) throw new InputError(`${what} is nested deeper than ${max} levels`, 400);
    if (Array.isArray(v)) {
      for (const child of v as unknown[]) if (typeof child === 'object' && child !== null) walk(child, depth + 1);
      return;
    }
    for (const k in v) {
      const child = (v as Record<string, unknown>)[k];
      if (typeof child === 'object' && child !== null) walk(child, depth + 1);
    }
  };
  if (typeof value === 'object' && value !== null) walk(value, 1);
}

/** Reads and discards a body (routes that take none), so keep-alive connections stay in sync. */
export async function drain(req: http.IncomingMessage): Promise<void> {
  if (req.complete) return;
  for await (const _ of req) void _;
}
