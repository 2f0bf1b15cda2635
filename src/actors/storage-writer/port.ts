import { WriterUnavailable, type WriteOp, type WriteResult, type Writer } from './ops.js';

/**
 * The stable Writer that HTTP and the heartbeat queue hold. It forwards to whichever writer
 * incarnation is running; while there is none (crash, restart) it waits up to `waitMs`, then
 * rejects with WriterUnavailable. A WriterUnavailable from an incarnation means "not committed",
 * so the op is retried on the next one.
 */
export interface WriterPort extends Writer {
  attach(w: Writer): void;
  detach(w: Writer): void;
  readonly available: boolean;
}

export function createWriterPort(waitMs = 10_000): WriterPort {
  let current: Writer | null = null;
  let waiters: (() => void)[] = [];

  const nextAttach = (deadline: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) return reject(new WriterUnavailable());
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== wake);
        reject(new WriterUnavailable());
      }, left);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      waiters.push(wake);
    });

  return {
    attach(w) {
      current = w;
      const ws = waiters;
      waiters = [];
      ws.forEach((wake) => wake());
    },
    detach(w) {
      if (current === w) current = null;
    },
    get available() {
      return current !== null;
    },
    async submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>> {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const w = current;
        if (!w) {
          await nextAttach(deadline);
          continue;
        }
        try {
          return await w.submit(op);
        } catch (err) {
          if (!(err instanceof WriterUnavailable)) throw err;
          if (current === w) current = null; // that incarnation is gone; wait for the next
          if (Date.now() >= deadline) throw err;
        }
      }
    },
  };
}
