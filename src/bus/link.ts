import { connect, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../log.js';
import type { BusCredentials } from './credentials.js';
import type { Reply } from './subjects.js';

/**
 * One connection to the bus that outlives nats-server restarts: the client reconnects by itself
 * forever and re-establishes subscriptions; while disconnected, requests fail fast with a timeout
 * and the caller retries.
 */
export interface BusLink {
  /** Resolves with the connection once it is first established (retrying until `signal` aborts). */
  connection(): Promise<NatsConnection>;
  /** Request/reply with a JSON payload; throws on timeout or when no responder is there. */
  request<T = Reply>(subject: string, payload: unknown, timeoutMs?: number): Promise<T>;
  subscribe(subject: string, opts: { queue?: string }, onMessage: (data: unknown, respond: (reply: unknown) => void) => void): Promise<Subscription>;
  readonly connected: boolean;
  close(): Promise<void>;
}

/**
 * `creds` may be a function: it is asked again at each connection attempt, so a plugin started
 * before the daemon finds the bus once the daemon has written its credentials file.
 */
export function createBusLink(
  creds: BusCredentials | (() => BusCredentials),
  opts: { name: string; log: Logger; signal?: AbortSignal; timeout?: number },
): BusLink {
  let nc: NatsConnection | null = null;
  let connecting: Promise<NatsConnection> | null = null;
  let closed = false;
  let connected = false;

  const establish = async (): Promise<NatsConnection> => {
    let delay = 100;
    for (;;) {
      if (closed || opts.signal?.aborted) throw new Error('bus link closed');
      try {
        const cur = typeof creds === 'function' ? creds() : creds;
        const c = await connect({
          servers: cur.url,
          user: cur.user,
          pass: cur.pass,
          ...(opts.timeout ? { timeout: opts.timeout } : {}),
          name: opts.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 100,
          reconnectJitter: 50,
          pingInterval: 5_000,
        });
        connected = true;
        void (async () => {
          for await (const s of c.status()) {
            if (s.type === 'disconnect') connected = false;
            if (s.type === 'reconnect') connected = true;
            opts.log.debug({ bus: s.type }, 'bus connection');
          }
        })();
        void c.closed().then(() => (connected = false));
        return c;
      } catch (err) {
        opts.log.debug({ err: (err as Error).message }, 'bus not reachable yet');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  };

  const link: BusLink = {
    connection() {
      if (nc) return Promise.resolve(nc);
      connecting ??= establish().then((c) => (nc = c));
      return connecting;
    },
    async request<T>(subject: string, payload: unknown, timeoutMs = 5_000): Promise<T> {
      const c = await link.connection();
      const msg = await c.request(subject, Buffer.from(JSON.stringify(payload)), { timeout: timeoutMs });
      return JSON.parse(Buffer.from(msg.data).toString('utf8')) as T;
    },
    async subscribe(subject, sopts, onMessage) {
      const c = await link.connection();
      return c.subscribe(subject, {
        queue: sopts.queue,
        callback: (err, msg) => {
          if (err) return opts.log.warn({ err: err.message, subject }, 'bus subscription error');
          const respond = (reply: unknown) => {
            if (msg.reply) msg.respond(Buffer.from(JSON.stringify(reply)));
          };
          let data: unknown;
          try {
            data = JSON.parse(Buffer.from(msg.data).toString('utf8'));
          } catch {
            return respond({ ok: false, error: 'payload is not valid JSON', status: 400 });
          }
          onMessage(data, respond);
        },
      });
    },
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      const c = nc ?? (connecting ? await connecting.catch(() => null) : null);
      if (c && !c.isClosed()) await c.drain().catch(() => c.close());
    },
  };
  return link;
}
