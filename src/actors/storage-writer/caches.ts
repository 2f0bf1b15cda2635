import { notFound } from '../../model/errors.js';
import type { Event } from '../../model/event.js';
import type { Reader } from '../../storage/read.js';

export interface CachedBucket {
  row: number;
  type: string;
}

/**
 * What the writer keeps between ops so a heartbeat costs no reads: bucket rows and types (the
 * privacy gate judges by type), each bucket's last event (what a heartbeat merges into), and the
 * highest queue sequence applied per source. Every write that could make an entry wrong goes
 * through one of the methods below, which drop or replace it; an unknown entry is read again.
 */
export interface WriterCaches {
  /** The bucket's row and type; unknown bucket → 404. */
  bucket(name: string): CachedBucket;
  bucketCreated(name: string, b: CachedBucket): void;
  bucketTypeChanged(name: string, type: string): void;
  bucketDeleted(name: string): void;
  /** The newest event by start (ties lowest id), or null for an empty bucket. */
  lastEvent(row: number): Event | null;
  setLastEvent(row: number, e: Event): void;
  /** A new event (the highest id so far) was stored: it is the last one if it starts after it. */
  eventInserted(row: number, e: Event): void;
  /** Events of the bucket changed in a way the caller did not track: read the last event again. */
  eventsChanged(row: number): void;
  /** Events of any bucket may have changed. */
  anyEventsChanged(): void;
  appliedSeq(source: string): number;
  setApplied(source: string, seq: number): void;
  /** An op touching this bucket (if any) was rolled back: forget what it may have cached. */
  rolledBack(bucket: string | undefined): void;
  /** The transaction was rolled back: nothing cached can be trusted. */
  clear(): void;
}

export function writerCaches(reader: Reader): WriterCaches {
  const buckets = new Map<string, CachedBucket>();
  // undefined = unknown (read from the database); null = the bucket has no events.
  const lastEvents = new Map<number, Event | null>();
  const applied = new Map<string, number>();
  const forgetBucket = (name: string) => {
    const b = buckets.get(name);
    if (b !== undefined) lastEvents.delete(b.row);
    buckets.delete(name);
  };

  return {
    bucket(name) {
      let b = buckets.get(name);
      if (b === undefined) {
        const found = reader.bucket(name);
        if (!found) throw notFound(`The requested bucket '${name}' does not exist`);
        buckets.set(name, (b = { row: found.row, type: found.type }));
      }
      return b;
    },
    bucketCreated(name, b) {
      buckets.set(name, b);
      // The row number may be one a deleted bucket had.
      lastEvents.delete(b.row);
    },
    bucketTypeChanged(name, type) {
      const b = buckets.get(name);
      if (b !== undefined) buckets.set(name, { ...b, type });
    },
    bucketDeleted: forgetBucket,
    lastEvent(row) {
      let last = lastEvents.get(row);
      if (last === undefined) lastEvents.set(row, (last = reader.lastEvent(row) ?? null));
      return last;
    },
    setLastEvent: (row, e) => void lastEvents.set(row, e),
    eventInserted(row, e) {
      // Unknown stays unknown (read when needed); on equal starts the older (lower id) stays last.
      if (!lastEvents.has(row)) return;
      const last = lastEvents.get(row);
      if (last === null || e.timestamp > last!.timestamp) lastEvents.set(row, e);
    },
    eventsChanged: (row) => void lastEvents.delete(row),
    anyEventsChanged: () => lastEvents.clear(),
    appliedSeq(source) {
      let done = applied.get(source);
      if (done === undefined) applied.set(source, (done = reader.appliedSeq(source)));
      return done;
    },
    setApplied: (source, seq) => void applied.set(source, seq),
    rolledBack(bucket) {
      if (bucket !== undefined) forgetBucket(bucket);
      applied.clear();
    },
    clear() {
      buckets.clear();
      lastEvents.clear();
      applied.clear();
    },
  };
}
