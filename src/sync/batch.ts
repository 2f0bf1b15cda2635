/**
 * What one sync message carries once opened: a device's changes to shared buckets in commit order.
 * Sequence numbers are the origin's sync_log sequence; a message covers (prev, last].
 */

/** A shared bucket's metadata, sent along with its events so a peer can create its copy. */
export interface BucketMeta {
  name: string;
  type: string;
  client: string;
  hostname: string;
  created: number;
  data: Record<string, unknown>;
}

/** One change: the event's state now (start, end in microseconds, data), or a tombstone (deleted). */
export type Change =
  | { s: number; i: number; b: number; t: number; e: number; d: Record<string, unknown> }
  | { s: number; i: number; x: 1 };

export interface Batch {
  device: string;
  prev: number;
  last: number;
  buckets: BucketMeta[];
  changes: Change[];
}

/** What the writer did with a pulled batch. */
export interface ImportOutcome {
  /** The whole batch was applied before (a replay or a re-delivery): nothing changed. */
  replayed: boolean;
  /** Changes the origin published before this batch never arrived (the server lost them). */
  gap: boolean;
  upserted: number;
  deleted: number;
}

export const SYNCED_FROM = '-synced-from-';

/** The local bucket holding another device's copy of one of its buckets. */
export const syncedBucket = (bucket: string, device: string): string => `${bucket}${SYNCED_FROM}${device}`;

/** Source name in the applied table: the highest sequence imported from a device. */
export const pullSource = (device: string): string => `sync:${device}`;

/** Source name in the applied table: how far this device's sync_log has been published. */
export const PUSH_SOURCE = 'sync-push';
