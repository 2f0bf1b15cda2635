import crypto from 'node:crypto';
import type http from 'node:http';

/**
 * Request gating before routing, in the reference server's order:
 * CORS → Host header → API key → route.
 */

/** Origins always allowed as regexes: the official Chrome extension and every Firefox extension. */
const BUILTIN_ORIGIN_REGEXES = ['chrome-extension://nglaklhklhcoonedhgnpgddginnjdadi', 'moz-extension://.*'];

export interface CorsPolicy {
  allowed(origin: string): boolean;
}

/**
 * Exact origins: our own port on 127.0.0.1/localhost, the configured list, and in testing mode the web UI
 * dev server. Regexes (built-in, configured, testing: any chrome extension) are anchored: the reference
 * searches substrings, which would let `http://evil.example/moz-extension://x` through.
 */
export function corsPolicy(opts: { port: number; testing: boolean; cors?: string[]; corsRegex?: string[] }): CorsPolicy {
  const exact = new Set<string>([`http://127.0.0.1:${opts.port}`, `http://localhost:${opts.port}`, ...(opts.cors ?? [])]);
  const sources = [...BUILTIN_ORIGIN_REGEXES, ...(opts.corsRegex ?? [])];
  if (opts.testing) {
    exact.add('http://127.0.0.1:27180');
    exact.add('http://localhost:27180');
    sources.push('chrome-extension://.*');
  }
  const regexes = sources.map((s) => new RegExp(`^(?:${s})$`));
  return { allowed: (origin) => exact.has(origin) || regexes.some((r) => r.test(origin)) };
}

/** Headers for an allowed origin; on a preflight also the allowed methods and (any) request headers. */
export function corsHeaders(req: http.IncomingMessage, origin: string): http.OutgoingHttpHeaders {
  const h: http.OutgoingHttpHeaders = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  if (req.method === 'OPTIONS') {
    h['Access-Control-Allow-Methods'] = 'GET, POST, DELETE';
    const asked = req.headers['access-control-request-headers'];
    if (typeof asked === 'string' && asked !== '') h['Access-Control-Allow-Headers'] = asked;
    h['Access-Control-Max-Age'] = '600';
  }
  return h;
}

/** The Host check (DNS rebinding) is on only when bound to exactly 127.0.0.1 or localhost. */
export function hostCheckActive(bindHost: string): boolean {
  return bindHost === '127.0.0.1' || bindHost === 'localhost';
}

/** The host part is everything before the first ':'; the port is not checked. */
export function hostAllowed(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const host = hostHeader.split(':', 1)[0]!.toLowerCase();
  return host === '127.0.0.1' || host === 'localhost';
}

/** Does this request need the API key? Every /api/ path except /api/0/info; never OPTIONS. */
export function needsApiKey(method: string, normPath: string): boolean {
  if (method === 'OPTIONS') return false;
  if (normPath === '/api/0/info') return false;
  return normPath === '/api' || normPath.startsWith('/api/');
}

/** Exactly `Bearer <key>`, compared in constant time (hashes make the lengths equal). */
/** `Authorization: Bearer <secret>`, compared in constant time (the API key and the control token). */
export function bearerMatches(authorization: string | undefined, key: string): boolean {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return false;
  const given = crypto.createHash('sha256').update(authorization.slice(7)).digest();
  const want = crypto.createHash('sha256').update(key).digest();
  return crypto.timingSafeEqual(given, want);
}

export const API_KEY_MESSAGE = "Missing or invalid API key. Set 'Authorization: Bearer <key>' header.";

/**
 * Is this a request from a page the daemon itself served? Its Origin is exactly `http://` + its Host,
 * and that Host is loopback — a page on any other port or name (DNS rebinding included) is not.
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin === undefined || host === undefined || !hostAllowed(host)) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}
