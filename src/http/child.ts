import type { Writer } from '../actors/storage-writer/ops.js';
import type { QueryService } from '../query/service.js';
import { openReadonly } from '../storage/open.js';
import { Reader } from '../storage/read.js';
import type { ChildSpec } from '../supervisor/types.js';
import { createHttpServer, type HttpServerOptions } from './server.js';

export interface HttpChildOptions extends Omit<HttpServerOptions, 'reader' | 'writer' | 'query' | 'log'> {
  database: string;
  writer: Writer;
  /** Made per incarnation (its worker threads live and die with the server). */
  makeQuery?: () => QueryService;
  /** Told the bound port each time the server listens. */
  onListen?: (port: number) => void;
  /** Called at the first request of each incarnation. */
  onRequest?: () => void;
}

/** The HTTP server as a supervised child, with its own read connection and query workers. */
export function httpChild(opts: HttpChildOptions): ChildSpec {
  const { database, makeQuery, onListen, onRequest, ...serverOpts } = opts;
  return {
    name: 'http',
    restart: 'permanent',
    shutdownTimeoutMs: 5_000,
    async start(ctx) {
      const reader = new Reader(openReadonly(database));
      const query = makeQuery?.();
      const server = createHttpServer({ ...serverOpts, reader, query, log: ctx.log });
      server.server.on('error', (err) => ctx.crash(err));
      if (onRequest) server.server.once('request', onRequest);
      // A reader is here (the web UI loads, a client lists buckets): start the query workers and
      // their warm-up now, so the query that follows finds its events cached. Writers alone never do.
      if (query) server.server.on('request', (req: { method?: string }) => req.method === 'GET' && query.prepare());
      const close = async () => {
        await server.close();
        await query?.close();
        reader.db.close();
      };
      let port: number;
      try {
        port = await server.listen();
      } catch (err) {
        await close().catch(() => {});
        throw err;
      }
      onListen?.(port);
      return { stop: close, kill: close, status: () => ({ url: `http://${opts.host}:${port}` }) };
    },
  };
}
