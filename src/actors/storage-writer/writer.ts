import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';
import { fromWire } from '../../model/errors.js';
import type { PrivacyConfig } from '../../privacy/filters.js';
import { WriterOutcomeUnknown, WriterUnavailable, type WriteOp, type WriteResult, type Writer } from './ops.js';
import { workerEntry } from '../../worker-entry.js';
import type { FromThread, ToThread } from './thread.js';


/** One open database with its writer thread. Created by the storage-writer child. */
export interface StorageWriter extends Writer {
  /** Commit what is pending, then close. */
  close(): Promise<void>;
  /** After a crash: end the thread at once; what was not committed is rejected. */
  abort(reason?: unknown): void;
  /** Ops waiting for or in their commit. */
  readonly pending: number;
  stats(): WriterStats;
}

export interface StorageWriterOptions {
  log: Logger;
  /** The writer cannot go on (commit failed, thread died): the supervisor should restart it. */
  onFatal?: (err: unknown) => void;
  /** Drop and redact rules applied to every event before it is stored. */
  privacy?: PrivacyConfig;
  /** While true, no event is stored (buckets and settings still are). */
  paused?: () => boolean;
}

interface Pending {
  op: WriteOp;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most ops in one transaction; more wait for the next. */
const MAX_BATCH = 2_000;

/** Longest a batch is held back for writers expected to come back (see `hold` below). */
const MAX_HOLD_MS = 2;

/** What the writer did so far (bench:ingest prints ops per commit). */
export interface WriterStats {
  batches: number;
  ops: number;
}

/**
 * Opens the database on a writer thread. Group commit: while one batch commits, every op that
 * arrives waits and goes into the next batch, so batches grow with load and each op is answered
 * only after its batch's COMMIT (synchronous=FULL) returned.
 *
 * Busy writers that each wait for their answer before sending again (keep-alive HTTP clients) would
 * otherwise settle into two groups that take turns: one commits while the other waits, so every
 * commit carries half of them. So after a commit the next batch is held until the writers just
 * answered are back (as many ops queued as were answered plus those already waiting), but never
 * longer than that commit took, nor MAX_HOLD_MS: a lone writer's op finds its target met at once
 * and is not held at all.
 */
export async function openStorageWriter(file: string, opts: StorageWriterOptions): Promise<StorageWriter> {
  const { log } = opts;
  const worker = new Worker(workerEntry('actors/storage-writer/thread.js'), { workerData: { file, privacy: opts.privacy } });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromThread) => {
      worker.off('error', onError);
      if (m.kind === 'ready') resolve();
      else reject(new Error(m.kind === 'initError' ? `cannot open ${file}: ${m.message}` : `writer thread said ${m.kind}`));
    };
    const onError = (err: Error) => {
      worker.off('message', onMessage);
      reject(err);
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
  });

  let queue: Pending[] = [];
  let inFlight: Pending[] | null = null;
  let nextId = 1;
  let scheduled = false;
  let closing: Promise<void> | null = null;
  let dead = false;
  let drained: (() => void) | null = null;
  /** Set by close(): what is queued goes at once, held or not. */
  let flushing = false;
  /** After a commit: send once `target` ops are queued or at `until` (performance.now()), whichever is first. */
  let hold: { target: number; until: number; timer: NodeJS.Timeout } | null = null;
  let sentAt = 0;
  const stats: WriterStats = { batches: 0, ops: 0 };

  const release = () => {
    if (hold) clearTimeout(hold.timer);
    hold = null;
  };
  const holding = () => hold !== null && !flushing && queue.length < hold.target && performance.now() < hold.until;

  const send = () => {
    scheduled = false;
    if (dead || inFlight || queue.length === 0) {
      if (!inFlight && queue.length === 0) {
        release();
        drained?.();
      }
      return;
    }
    if (holding()) return; // submit() or the hold's timer calls again
    release();
    inFlight = queue.splice(0, MAX_BATCH);
    stats.batches++;
    stats.ops += inFlight.length;
    sentAt = performance.now();
    const msg: ToThread = { kind: 'batch', id: nextId++, ops: inFlight.map((p) => p.op), paused: opts.paused?.() ?? false };
    worker.postMessage(msg);
  };

  /** Gathers what arrives in this turn of the event loop into one batch. */
  const schedule = () => {
    if (scheduled || inFlight || queue.length === 0 || holding()) return;
    scheduled = true;
    setImmediate(send);
  };

  /** Rejects everything: what never reached the thread is retryable; what was committing is unknown. */
  const fail = (why: string) => {
    dead = true;
    release();
    for (const p of inFlight ?? []) p.reject('seq' in p.op && p.op.seq !== undefined ? new WriterUnavailable(why) : new WriterOutcomeUnknown());
    for (const p of queue) p.reject(new WriterUnavailable(why));
    inFlight = null;
    queue = [];
    drained?.();
  };

  worker.on('message', (m: FromThread) => {
    if (m.kind === 'done' && inFlight) {
      const batch = inFlight;
      inFlight = null;
      const took = performance.now() - sentAt;
      batch.forEach((p, i) => {
        const o = m.outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(fromWire(o.error));
      });
      log.debug({ ops: batch.length }, 'committed');
      if (batch.length > 1 || queue.length > 0) {
        const wait = Math.min(took, MAX_HOLD_MS);
        // The timer ends the hold (timers are whole milliseconds); ops arriving check the time themselves.
        const timer = setTimeout(() => {
          release();
          send();
        }, wait);
        hold = { target: Math.min(MAX_BATCH, queue.length + batch.length), until: performance.now() + wait, timer };
      }
      if (queue.length === 0) drained?.();
      else schedule();
    } else if (m.kind === 'fatal' && inFlight) {
      // The commit failed and was rolled back: nothing of the batch is stored, so all of it may be retried.
      const batch = inFlight;
      inFlight = null;
      for (const p of batch) p.reject(new WriterUnavailable(`storage commit failed: ${m.message}`));
      log.error({ err: m.message }, 'storage commit failed');
      fail(`storage commit failed: ${m.message}`);
      void worker.terminate();
      opts.onFatal?.(new Error(m.message));
    }
  });
  worker.on('error', (err) => {
    log.error({ err }, 'storage writer thread failed');
    fail(`storage writer thread failed: ${err.message}`);
    opts.onFatal?.(err);
  });
  worker.on('exit', (code) => {
    if (dead || closing) return;
    fail(`storage writer thread exited (${code})`);
    opts.onFatal?.(new Error(`storage writer thread exited with code ${code}`));
  });

  return {
    submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>> {
      if (dead || closing) return Promise.reject(new WriterUnavailable());
      return new Promise((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    close() {
      flushing = true;
      closing ??= (async () => {
        if (!dead && (inFlight || queue.length)) {
          await new Promise<void>((r) => {
            drained = r;
            if (!scheduled) send();
          });
        }
        if (dead) return;
        dead = true;
        const exited = new Promise((r) => worker.once('exit', r));
        worker.postMessage({ kind: 'close' } satisfies ToThread);
        await exited;
      })();
      return closing;
    },
    abort(reason) {
      if (dead) return;
      fail(`storage writer crashed: ${reason instanceof Error ? reason.message : String(reason)}`);
      void worker.terminate();
    },
    get pending() {
      return queue.length + (inFlight?.length ?? 0);
    },
    stats: () => ({ ...stats }),
  };
}
