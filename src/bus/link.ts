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
  /** Resolves with the connection once it is first established (retrying until closed or `signal` aborts). */
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
  let connected = false;
  // Aborted by close() or by the owner's signal: stop waiting for the first connection.
  const stopped = new AbortController();
  if (opts.signal?.aborted) stopped.abort();
  else opts.signal?.addEventListener('abort', () => stopped.abort(), { once: true });
  const gaveUp = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error('bus link closed'));
    if (stopped.signal.aborted) fail();
    else stopped.signal.addEventListener('abort', fail, { once: true });
  });
  gaveUp.catch(() => undefined);
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        stopped.signal.removeEventListener('abort', done);
        resolve();
      }
      stopped.signal.addEventListener('abort', done, { once: true });
    });

  // Credentials given as a function are looked for until they can be read (a plugin may start
  // before the daemon has written its credentials file).
  const locate = async (): Promise<BusCredentials> => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      if (stopped.signal.aborted) throw new Error('bus link closed');
      try {
        return typeof creds === 'function' ? creds() : creds;
      } catch (err) {
        opts.log.debug({ err: (err as Error).message }, 'bus credentials not there yet');
        await pause(delay);
      }
    }
  };

  const dial = async (): Promise<NatsConnection> => {
    const cur = await locate();
    // waitOnFirstConnect: the client retries the first connection like a reconnect (forever, with
    // maxReconnectAttempts -1) instead of failing when nats-server is not up yet. It cannot be
    // cancelled: a link closed before then closes the connection as soon as it is made.
    const c = await connect({
      servers: cur.url,
      user: cur.user,
      pass: cur.pass,
      ...(opts.timeout ? { timeout: opts.timeout } : {}),
      name: opts.name,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      reconnectJitter: 50,
      // Only for a connection that silently stopped carrying anything (a remote bus.url behind a
      // dead network path): an embedded nats-server that dies closes the socket at once, and one
      // that hangs is found and replaced by the supervisor's own check every 5 s. Each ping wakes
      // both sides, three links per daemon, so not every 5 s.
      pingInterval: 30_000,
    });
    if (stopped.signal.aborted) {
      void c.close();
      throw new Error('bus link closed');
    }
    nc = c;
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
  };

  const link: BusLink = {
    connection() {
      if (nc) return Promise.resolve(nc);
      connecting ??= dial().catch((err: unknown) => {
        connecting = null; // the next call dials again
        throw err;
      });
      return Promise.race([connecting, gaveUp]);
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
      stopped.abort();
      const c = nc;
      if (c && !c.isClosed()) await c.drain().catch(() => c.close());
    },
  };
  return link;
}
