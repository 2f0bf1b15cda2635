import net from 'node:net';

/**
 * The i3 IPC protocol spoken by sway (and i3): every message is the magic "i3-ipc", the payload
 * length and the message type as native-endian (little-endian on every platform sway runs on)
 * uint32s, then the JSON payload. Replies carry the request's type; events set the high bit.
 */
export const I3_MAGIC = Buffer.from('i3-ipc', 'ascii');
const HEADER = I3_MAGIC.length + 8;

export const I3_MSG = { RUN_COMMAND: 0, SUBSCRIBE: 2, GET_TREE: 4, GET_VERSION: 7 } as const;
export const I3_EVENT_BIT = 0x80000000;
export const I3_EVENT = { workspace: 0, window: 3, shutdown: 6 } as const;

export interface I3Frame {
  type: number;
  payload: Buffer;
}

export function encodeI3(type: number, payload = ''): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const head = Buffer.alloc(HEADER);
  I3_MAGIC.copy(head, 0);
  head.writeUInt32LE(body.length, I3_MAGIC.length);
  head.writeUInt32LE(type >>> 0, I3_MAGIC.length + 4);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; throws on a bad magic (not an i3 IPC peer). */
export class I3FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): I3Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: I3Frame[] = [];
    while (this.buf.length >= HEADER) {
      if (!this.buf.subarray(0, I3_MAGIC.length).equals(I3_MAGIC)) throw new Error('i3 IPC: bad magic');
      const len = this.buf.readUInt32LE(I3_MAGIC.length);
      if (this.buf.length < HEADER + len) break;
      out.push({ type: this.buf.readUInt32LE(I3_MAGIC.length + 4), payload: this.buf.subarray(HEADER, HEADER + len) });
      this.buf = this.buf.subarray(HEADER + len);
    }
    return out;
  }
}

export interface I3Connection {
  /** One request; replies come back in order. Rejects when the socket closes or times out. */
  request<T = unknown>(type: number, payload?: string): Promise<T>;
  readonly closed: boolean;
  close(): void;
}

export interface I3ConnectOptions {
  /** Called with (event type without the high bit, parsed JSON). */
  onEvent?(type: number, body: unknown): void;
  onClose?(reason: string): void;
  timeoutMs?: number;
}

/** Opens one IPC connection; requests and subscribed events share it. */
export function connectI3(socketPath: string, opts: I3ConnectOptions = {}): Promise<I3Connection> {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const reader = new I3FrameReader();
    const pending: Array<{ type: number; resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }> = [];
    let closed = false;
    let opened = false;

    const shut = (reason: string): void => {
      if (closed) return;
      closed = true;
      sock.destroy();
      for (const p of pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error(reason));
      }
      if (opened) opts.onClose?.(reason);
      else reject(new Error(reason));
    };

    const conn: I3Connection = {
      get closed() {
        return closed;
      },
      request<T>(type: number, payload = ''): Promise<T> {
        if (closed) return Promise.reject(new Error('i3 IPC connection closed'));
        return new Promise<T>((res, rej) => {
          // No answer at all: the compositor is wedged; drop the connection so the probe reconnects.
          const timer = setTimeout(() => shut(`i3 IPC: no reply to message type ${type}`), timeoutMs);
          pending.push({ type, resolve: res as (v: unknown) => void, reject: rej, timer });
          sock.write(encodeI3(type, payload));
        });
      },
      close: () => shut('closed'),
    };

    sock.on('connect', () => {
      opened = true;
      resolve(conn);
    });
    sock.on('data', (chunk: Buffer) => {
      let frames: I3Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        return shut((err as Error).message);
      }
      for (const f of frames) {
        let body: unknown;
        try {
          body = JSON.parse(f.payload.toString('utf8'));
        } catch {
          return shut('i3 IPC: payload is not JSON');
        }
        if (f.type & I3_EVENT_BIT) {
          opts.onEvent?.((f.type & ~I3_EVENT_BIT) >>> 0, body);
          continue;
        }
        const p = pending.shift();
        if (!p) continue;
        clearTimeout(p.timer);
        if (p.type !== f.type) p.reject(new Error(`i3 IPC: reply type ${f.type} to request ${p.type}`));
        else p.resolve(body);
      }
    });
    sock.on('error', (err) => shut(`i3 IPC socket ${socketPath}: ${err.message}`));
    sock.on('close', () => shut('i3 IPC socket closed (compositor gone?)'));
  });
}
