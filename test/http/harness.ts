import http from 'node:http';
import path from 'node:path';
import type { PrivacyConfig } from '../../src/privacy/filters.js';
import { openStorageWriter, type StorageWriter } from '../../src/actors/storage-writer/writer.js';
import { silentLogger } from '../../src/log.js';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { tempDir } from '../helpers/tmp.js';

export const INFO = { hostname: 'testhost', version: 'v0.1.0 (sundial)', deviceId: '3f2a6a1e-6f3b-4a53-9d41-0c3b2f0e9b7a' };

export interface Harness {
  port: number;
  base: string;
  file: string;
  dir: string;
  writer: StorageWriter;
  reader: Reader;
  http: HttpServer;
  req: (method: string, path: string, opts?: ReqOpts) => Promise<Res>;
  stop: () => Promise<void>;
}

export interface ReqOpts {
  headers?: Record<string, string>;
  /** Sent as JSON with Content-Type application/json unless headers say otherwise. */
  json?: unknown;
  body?: string | Buffer;
}

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Parsed body (undefined when empty or not JSON). */
  body: any;
}

export async function startServer(extra: Partial<HttpServerOptions> = {}, privacy?: PrivacyConfig): Promise<Harness> {
  const tmp = tempDir('sundial-http-');
  const file = path.join(tmp.dir, 'db.sqlite');
  const writer = await openStorageWriter(file, { log: silentLogger(), privacy });
  const reader = new Reader(openReadonly(file));
  const srv = createHttpServer({
    host: '127.0.0.1', port: 0, testing: false, reader, writer, info: INFO, log: silentLogger(), ...extra,
  });
  const port = await srv.listen();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const req = (method: string, p: string, opts: ReqOpts = {}) => request(port, method, p, opts, agent);
  return {
    port, base: `http://127.0.0.1:${port}`, file, dir: tmp.dir, writer, reader, http: srv, req,
    async stop() {
      agent.destroy();
      await srv.close();
      await writer.close();
      reader.db.close();
      tmp.cleanup();
    },
  };
}

export function request(port: number, method: string, p: string, opts: ReqOpts = {}, agent?: http.Agent): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Buffer | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

export const bucketBody = (extra: Record<string, unknown> = {}) => ({ client: 'test', type: 'currentwindow', hostname: 'h', ...extra });
