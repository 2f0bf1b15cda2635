import type Database from 'better-sqlite3';

/** Counters for tests and benchmarks. */
export interface SourceStats {
  /** Event rows turned into JS values. */
  rowsRead: number;
  /** Times the whole cache was dropped (writes not recorded in bucket_changes, or the log went backwards). */
  drops: number;
  /** Bucket caches reloaded because the change log was pruned past them. */
  pruned: number;
}

/** What a reader caches per bucket row, told what the change log says is no longer valid. */
export interface ChangeListener {
  /** Events of the row starting at `from` or later may have changed (inserted, updated, deleted). */
  changedFrom(row: number, from: number): void;
  /** Nothing cached for the row is known to be valid. */
  drop(row: number): void;
  /** Nothing cached at all is known to be valid. */
  clear(): void;
}

/** What is known about one bucket row, exact as of bucket_changes sequence `seq`. */
interface BucketState {
  seq: number;
  /** An upper bound on event durations (the stored bound, or the longest event's) and that event's start. */
  maxDur: number;
  maxStart: number;
}

/**
 * Follows the storage writer's change log (table bucket_changes: in each write transaction, the
 * smallest event start it changed per bucket row) so a reader's caches stay exact. `sync` runs at
 * the start of each read transaction and reads the log's high-water mark; `bucket` brings one row
 * up to it, telling the listener from which start on its cached events changed. Writes that bypass
 * the writer are noticed through PRAGMA data_version advancing while the log does not (the writer
 * logs every commit) and clear everything. Caveat: such a write and a writer commit landing between
 * the same two syncs look like the writer's commit alone.
 *
 * Also keeps each bucket's longest event duration: selecting "overlaps [start, end]" with only
 * `endtime >= start` would scan every older index entry of the bucket, so readers bound the start
 * below by start minus that duration.
 */
export class ChangeLog {
  private readonly maxDurStmt: Database.Statement;
  private readonly maxDurFromStmt: Database.Statement;
  private readonly versionStmt: Database.Statement;
  /** Null when the database has no change log (older schema): caches then live only while nothing is written. */
  private readonly seqStmt: Database.Statement | null = null;
  private readonly changesStmt: Database.Statement | null = null;
  private readonly states = new Map<number, BucketState>();
  private version: unknown = undefined;
  private seq = 0;
  private oldest = 1;

  constructor(db: Database.Database, private readonly listener: ChangeListener, private readonly stats: SourceStats) {
    // The bucket's stored duration bound (schema.ts) where there is one, as if from an event older
    // than any change; a scan of the whole bucket otherwise, where a bare column next to max()
    // comes from the row holding the maximum. Both aggregates: one row even for a gone bucket.
    try {
      this.maxDurStmt = db.prepare('SELECT max(dur_bound), NULL FROM buckets WHERE id = ?').raw(true);
    } catch {
      this.maxDurStmt = db.prepare('SELECT max(endtime - starttime), starttime FROM events WHERE bucketrow = ?').raw(true);
    }
    this.maxDurFromStmt = db
      .prepare('SELECT max(endtime - starttime), starttime FROM events WHERE bucketrow = ? AND starttime >= ?')
      .raw(true);
    this.versionStmt = db.prepare('PRAGMA data_version').pluck(true);
    try {
      // Two subqueries: each is a single index probe, where min and max together would scan.
      this.seqStmt = db.prepare('SELECT (SELECT max(seq) FROM bucket_changes), (SELECT min(seq) FROM bucket_changes)').raw(true);
      this.changesStmt = db.prepare('SELECT min(min_start) FROM bucket_changes WHERE bucketrow = ? AND seq > ?').pluck(true);
    } catch {
      // no bucket_changes table: schema older than 2
    }
  }

  /**
   * Start of a read transaction: the change log's high-water mark. data_version is read first, so
   * every commit it reflects is in the snapshot read next (a later one only causes a needless drop).
   */
  sync(): void {
    const v = this.versionStmt.get();
    let cur = 0, oldest: number | null = null;
    if (this.seqStmt) [cur, oldest] = (this.seqStmt.get() as [number | null, number | null]).map((x) => x ?? 0) as [number, number];
    if (this.version !== undefined && ((v !== this.version && cur === this.seq) || cur < this.seq)) {
      this.states.clear();
      this.listener.clear();
      this.stats.drops++;
    }
    this.version = v;
    this.seq = cur;
    this.oldest = oldest || cur + 1;
  }

  /** Inside a synced read transaction: the row's longest event duration, the row brought up to the log. */
  maxDuration(row: number): number {
    let st = this.states.get(row);
    if (st !== undefined && st.seq !== this.seq) {
      if (this.oldest > st.seq + 1) {
        // The log no longer reaches back to this state: start over.
        this.listener.drop(row);
        st = undefined;
        this.stats.pruned++;
      } else {
        const from = this.changesStmt!.get(row, st.seq) as number | null;
        if (from !== null) this.changedFrom(row, st, from);
        st.seq = this.seq;
      }
    }
    if (st === undefined) {
      const [m, at] = this.maxDurStmt.get(row) as [number | null, number | null];
      st = { seq: this.seq, maxDur: Math.max(0, m ?? 0), maxStart: at ?? -Infinity };
      this.states.set(row, st);
    }
    return st.maxDur;
  }

  private changedFrom(row: number, st: BucketState, from: number): void {
    const [m, at] = this.maxDurFromStmt.get(row, from) as [number | null, number | null];
    if (st.maxStart < from) {
      // The longest event is untouched, so it still bounds everything before `from`.
      if (m !== null && m > st.maxDur) [st.maxDur, st.maxStart] = [m, at!];
    } else if (m !== null && m >= st.maxDur) {
      [st.maxDur, st.maxStart] = [m, at!];
    } else {
      // The longest event may have shrunk or gone: recompute.
      const [m2, at2] = this.maxDurStmt.get(row) as [number | null, number | null];
      [st.maxDur, st.maxStart] = [Math.max(0, m2 ?? 0), at2 ?? -Infinity];
    }
    this.listener.changedFrom(row, from);
  }
}
