import http from 'node:http';
import type net from 'node:net';
import type { Writer } from '../actors/storage-writer/ops.js';
import type { Logger } from '../log.js';
import { InputError } from '../model/errors.js';
import type { Reader } from '../storage/read.js';
import type { ApiDeps, Ctx, ServerInfo } from './api0/context.js';
import { noRoute, route } from './api0/router.js';
import {
  API_KEY_MESSAGE,
  bearerMatches,
  corsHeaders,
  corsPolicy,
  hostAllowed,
  hostCheckActive,
  needsApiKey,
  sameOrigin,
  type CorsPolicy,
} from './gate.js';
import { sendEmpty, sendError, sendMessage } from './respond.js';
import type { StaticHandler } from './ui/static.js';

export type ControlHandler = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<boolean>;

export interface HttpServerOptions {
  host: string;
  port: number;
  testing: boolean;
  reader: Reader;
  writer: Writer;
  info: ServerInfo;
  /** Extra exact CORS origins (config `cors`). */
  cors?: string[];
  /** Extra CORS origin regexes (config `cors_regex`), anchored. */
  corsRegex?: string[];
  /** When set (non-empty), /api/ requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  query?: ApiDeps['query'];
  /** Handles /api/control/... (local CLI only: no CORS, ever). Returns false when it has no such route. */
  control?: ControlHandler;
  /** The daemon's JSON log file, served newest first at GET /api/0/log. */
  logFile?: string;
  /** Serves every path outside /api/ (the web UI); without it those paths are 404. */
  ui?: StaticHandler;
  log: Logger;
}

export interface HttpServer {
  server: http.Server;
  /** Starts listening; resolves to the bound port (useful with port 0). */
  listen(): Promise<number>;
  /**
   * Stops accepting; requests in progress get up to `graceMs` (default 3 s) to finish (their answers carry
   * `Connection: close`), then every connection is closed. A cut-off write could otherwise be
   * committed without the client knowing, and be sent again.
   */
  close(graceMs?: number): Promise<void>;
}

/** Splits the path into percent-decoded segments, ignoring empty ones (`//a/b/` = `/a/b`). */
export function pathSegments(url: string): { segs: string[]; query: string } {
  let target = url;
  // Absolute-form request targets (`GET http://host/path`): keep the path only.
  const abs = url.charCodeAt(0) === 47 /* / */ ? null : /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (abs) target = target.slice(abs[0].length);
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const segs: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    if (!raw.includes('%')) {
      segs.push(raw); // nothing to decode
      continue;
    }
    try {
      segs.push(decodeURIComponent(raw));
    } catch {
      throw new InputError(`malformed percent-encoding in path segment '${raw}'`, 400);
    }
  }
  return { segs, query };
}

export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const log = opts.log;
  const deps: ApiDeps = {
    reader: opts.reader,
    writer: opts.writer,
    info: opts.info,
    testing: opts.testing,
    query: opts.query,
    logFile: opts.logFile,
    log,
  };
  const checkHost = hostCheckActive(opts.host);
  const apiKey = opts.apiKey ? opts.apiKey : null;
  // Our own origin includes the bound port, known after listen().
  let policy: CorsPolicy = corsPolicy({ port: opts.port, testing: opts.testing, cors: opts.cors, corsRegex: opts.corsRegex });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let segs: string[] | null = null;
    let query = '';
    let pathError: unknown = null;
    try {
      ({ segs, query } = pathSegments(req.url ?? '/'));
    } catch (err) {
      pathError = err;
    }
    const isControl = segs !== null && segs[0] === 'api' && segs[1] === 'control';

    // 1. CORS. Requests without Origin (curl, native clients) pass; the control API allows only the
    // daemon's own origin (its web UI), and never with CORS headers.
    const origin = req.headers.origin;
    if (origin !== undefined && isControl) {
      if (!sameOrigin(req)) return sendMessage(res, 403, 'cross-origin requests are not allowed on the control API');
    } else if (origin !== undefined) {
      if (!policy.allowed(origin)) return sendMessage(res, 403, `origin '${origin}' is not allowed`);
      for (const [k, v] of Object.entries(corsHeaders(req, origin))) res.setHeader(k, v as string);
    }
    // 2. Host header (DNS rebinding), when bound to loopback.
    if (checkHost && !hostAllowed(req.headers.host)) return sendMessage(res, 400, 'Host header is invalid');
    // 3. Preflights answer 200 on every path.
    if (method === 'OPTIONS') return sendEmpty(res, 200);
    if (pathError) throw pathError;
    const path = '/' + segs!.join('/');
    // 4. API key. The control API is exempt: it has its own bearer token (the CLI sends that one).
    if (apiKey !== null && !isControl && needsApiKey(method, path) && !bearerMatches(req.headers.authorization, apiKey)) {
      return sendMessage(res, 401, API_KEY_MESSAGE);
    }
    // 5. Route.
    if (isControl) {
      if (opts.control && (await opts.control(req, res, path))) return;
      throw noRoute(method, path);
    }
    if (segs![0] !== 'api' && opts.ui && (await opts.ui(req, res, segs!))) return;
    if (segs![0] !== 'api' || segs![1] !== '0') throw noRoute(method, path);
    const m = method === 'HEAD' ? 'GET' : method;
    const handler = route(m, segs!.slice(2));
    if (!handler) throw noRoute(method, path);
    const ctx: Ctx = { req, res, method: m, params: new URLSearchParams(query), deps };
    await handler(ctx);
  }

  let active = 0;
  let closing = false;
  let idle: (() => void) | null = null;
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    active++;
    if (closing) res.setHeader('Connection', 'close');
    res.once('close', () => {
      if (--active === 0 && idle) idle();
    });
    handle(req, res).catch((err: unknown) => sendError(res, err, log));
  });
  // A client that goes away mid-request is not our error.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const body = '{"message":"malformed HTTP request"}';
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });

  return {
    server,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          const port = (server.address() as net.AddressInfo).port;
          policy = corsPolicy({ port, testing: opts.testing, cors: opts.cors, corsRegex: opts.corsRegex });
          log.info({ host: opts.host, port }, 'http server listening');
          resolve(port);
        });
      });
    },
    async close(graceMs = 3000) {
      if (!server.listening) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
