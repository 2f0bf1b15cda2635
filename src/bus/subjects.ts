/**
 * Bus subjects, versioned: a breaking payload change gets a new version prefix, and both can be
 * served side by side. Payloads are JSON. Documented for plugin authors in docs/bus.md.
 */
export const SUBJECTS = {
  /** request {bucket, pulsetime, event} → reply {ok, seq} once the heartbeat is durably queued */
  heartbeat: 'sundial.v1.heartbeat',
  /** request {bucket, type, client, hostname, data?} → reply {ok, seq} */
  createBucket: 'sundial.v1.bucket.create',
  /** request {bucket, events: [...]} → reply {ok, seq} */
  insertEvents: 'sundial.v1.events.insert',
  /** request (empty) → reply: the daemon's status snapshot */
  status: 'sundial.v1.status',
} as const;

/** Queue group: if several daemons share an external bus, each write is taken by exactly one. */
export const QUEUE_GROUP = 'sundial-heartbeat-queue';

/**
 * `status` on an error follows HTTP: 400 bad payload (never retry it), 404 unknown bucket
 * (create it, then retry), 503 queue full or shutting down (retry later; nothing was dropped).
 */
export type Reply = { ok: true; seq: number } | { ok: false; error: string; status?: number };
