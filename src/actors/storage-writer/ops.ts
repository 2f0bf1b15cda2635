import type { Bucket } from '../../model/bucket.js';
import type { Event } from '../../model/event.js';
import type { Micros } from '../../model/time.js';
import { Unavailable } from '../../model/errors.js';
import type { Batch, ImportOutcome } from '../../sync/batch.js';

/**
 * Set by the heartbeat queue: makes delivery exactly-once. An op whose `seq` was already applied
 * for its `source` is skipped (resolves null); otherwise the seq is recorded in the same transaction.
 */
export interface Delivery {
  source?: string;
  seq?: number;
}

/**
 * Every write to the database is one of these operations, submitted to the storage writer.
 * Ops arriving together share one transaction; each promise resolves only after that
 * transaction committed durably. Input problems reject with InputError (status 400/404).
 */
export type WriteOp =
  /** → { created }: false when a bucket with this id exists (nothing changes then). */
  | ({ kind: 'createBucket'; bucket: Bucket; events?: Event[] } & Delivery)
  /** → null. Unknown bucket → 404. */
  | { kind: 'updateBucket'; id: string; patch: Partial<Pick<Bucket, 'type' | 'client' | 'hostname' | 'data'>> }
  /** → null. Deletes the bucket and its events. Unknown bucket → 404. */
  | { kind: 'deleteBucket'; id: string }
  /**
   * → the stored events in request order, with ids. An event with `id` replaces that event, which
   * must belong to this bucket (else 400, nothing stored). Unknown bucket → 404.
   */
  | ({ kind: 'insertEvents'; bucket: string; events: Event[] } & Delivery)
  /** → { deleted: number }. Unknown bucket → 404. */
  | { kind: 'deleteEvent'; bucket: string; id: number }
  /**
   * → the resulting stored event (merged or inserted), with id.
   */
  | ({ kind: 'heartbeat'; bucket: string; event: Event; pulsetime: Micros } & Delivery)
  /**
   * → { inserted }. Import into an existing bucket: events identical (start, duration, data) to a stored
   * one are skipped, so re-importing a file changes nothing. Ids are ignored.
   */
  | {
      kind: 'importEvents';
      bucket: string;
      events: Event[];
      /** The bucket was created by this same import (`sundial import`): nothing to compare against, skip the check. */
      fresh?: boolean;
    }
  /** → { deleted }. Deletes these events wherever they are (privacy: forget). */
  | { kind: 'deleteEvents'; ids: number[] }
  /** → null. */
  | { kind: 'setSetting'; key: string; value: unknown }
  /** → null. */
  | { kind: 'deleteSetting'; key: string }
  /**
   * → Maintenance. Scheduled upkeep (jobs child): `PRAGMA optimize`, then an incremental vacuum of at
   * most `vacuumPages` free pages (only in a database created with auto_vacuum=INCREMENTAL). Sent
   * through the writer so that it never competes with it for the write lock; small steps keep the
   * heartbeats flowing in between.
   */
  | { kind: 'maintenance'; optimize: boolean; vacuumPages: number }
  /**
   * → { backfilled }. Sync: buckets whose id matches one of these GLOB patterns are shared from now on
   * (their changes are logged for the push side); those not shared before get all their events logged.
   */
  | { kind: 'syncShare'; patterns: string[] }
  /** → null. Sync: the push side published the log up to `upTo`; those log rows go. */
  | { kind: 'syncPushed'; upTo: number }
  /** → ImportOutcome. Sync: another device's batch, applied once, in its order (docs/sync.md). */
  | { kind: 'syncImport'; batch: Batch };

export interface Maintenance {
  /** 0 none, 1 full, 2 incremental. */
  autoVacuum: number;
  freePagesBefore: number;
  freePagesAfter: number;
}

/**
 * Ops carrying a Delivery resolve null when they were applied before; only the heartbeat queue
 * sets a Delivery and it ignores results, so the types below describe the undelivered case.
 */
export type WriteResult<K extends WriteOp['kind']> = K extends 'createBucket'
  ? { created: boolean }
  : K extends 'insertEvents'
    ? Event[]
    : K extends 'heartbeat'
      ? Event | null
      : K extends 'importEvents'
        ? { inserted: number }
        : K extends 'deleteEvent' | 'deleteEvents'
          ? { deleted: number }
          : K extends 'maintenance'
            ? Maintenance
            : K extends 'syncShare'
              ? { backfilled: number }
              : K extends 'syncImport'
                ? ImportOutcome
                : null;

/** The storage writer as seen by everyone else (HTTP, heartbeat queue, CLI tools). */
export interface Writer {
  submit<O extends WriteOp>(op: O): Promise<WriteResult<O['kind']>>;
}

/**
 * Privacy gate applied to every event before it is stored (pause, drop and redact rules):
 * returns the event to store, possibly changed, or null to store nothing.
 */
export type EventGate = (bucket: { id: string; type: string }, event: Event) => Event | null;

/** The writer is down (crashed, restarting, stopped): retry later (HTTP answers 503). */
export class WriterUnavailable extends Unavailable {
  constructor(message = 'storage writer is unavailable') {
    super(message);
    this.name = 'WriterUnavailable';
  }
}

/**
 * The op was committed but syncing it to disk failed: it survives a crash of the daemon, maybe not
 * a power loss. Not retried (a retry could store it twice); the writer restarts.
 */
export class WriterOutcomeUnknown extends Unavailable {
  constructor(message = 'storage commit could not be synced to disk; it may or may not survive a power loss') {
    super(message);
    this.name = 'WriterOutcomeUnknown';
  }
}
