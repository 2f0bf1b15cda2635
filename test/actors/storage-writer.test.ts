import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStorageWriter, type StorageWriter } from '../../src/actors/storage-writer/writer.js';
import { createWriterPort } from '../../src/actors/storage-writer/port.js';
import { WriterOutcomeUnknown, WriterUnavailable } from '../../src/actors/storage-writer/ops.js';
import { silentLogger } from '../../src/log.js';
import type { Event } from '../../src/model/event.js';
import { parseTimestamp } from '../../src/model/time.js';
import { openReadonly } from '../../src/storage/open.js';
import { Reader } from '../../src/storage/read.js';
import { tempDir } from '../helpers/tmp.js';
import { httpStatus } from '../../src/model/errors.js';

const S = 1_000_000;
const t = (hms: string) => parseTimestamp(`2024-05-01T${hms}Z`);
const ev = (ts: number, dur: number, data: Record<string, unknown>): Event => ({ id: null, timestamp: ts, duration: dur, data });
const bucket = (id: string) => ({ id, type: 'currentwindow', client: 'test', hostname: 'h', created: t('00:00:00'), data: {} });

let tmp: ReturnType<typeof tempDir>;
let w: StorageWriter;
let file: string;
const read = () => new Reader(openReadonly(file));

beforeEach(async () => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'db.sqlite');
  w = await openStorageWriter(file, { log: silentLogger() });
  await w.submit({ kind: 'createBucket', bucket: bucket('b') });
});
afterEach(async () => {
  await w.close();
  tmp.cleanup();
});

describe('heartbeat merge through the writer', () => {
  it('reproduces the worked example sequence', async () => {
    const A = { app: 'A' }, B = { app: 'B' };
    const hb = (ts: number, data: object) => w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(ts, 0, data as never), pulsetime: 2 * S });
    const r1 = await hb(t('10:00:00'), A);
    const r2 = await hb(t('10:00:01'), A);
    expect(r2!.id).toBe(r1!.id);
    const r3 = await hb(t('10:00:03'), A); // boundary inclusive
    expect(r3).toMatchObject({ id: r1!.id, duration: 3 * S });
    const r4 = await hb(t('10:00:06'), A);
    expect(r4!.id).not.toBe(r1!.id);
    const r5 = await hb(t('10:00:07'), B);
    const r6 = await hb(t('10:00:07.5'), A); // only the last event is considered
    expect(new Set([r4!.id, r5!.id, r6!.id]).size).toBe(3);
    const r7 = await hb(t('10:00:05'), A); // starts before last: insert
    expect(r7!.duration).toBe(0);
    // The cache still points at the newest event by start: 10:00:08 A merges into #6.
    const r8 = await hb(t('10:00:08'), A);
    expect(r8!.id).toBe(r6!.id);
    const rdr = read();
    const all = rdr.events(rdr.bucket('b')!.row);
    expect(all.map((e) => [e.timestamp, e.duration])).toEqual([
      [t('10:00:07.5'), 0.5 * S],
      [t('10:00:07'), 0],
      [t('10:00:06'), 0],
      [t('10:00:05'), 0],
      [t('10:00:00'), 3 * S],
    ]);
    rdr.db.close();
  });

  it('stays right after the cached event is deleted (no 500, no resurrection)', async () => {
    const a = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('10:00:00'), 0, { x: 1 }), pulsetime: 5 * S });
    await w.submit({ kind: 'deleteEvent', bucket: 'b', id: a!.id! });
    const b = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('10:00:01'), 0, { x: 1 }), pulsetime: 5 * S });
    expect(b!.id).not.toBe(a!.id);
    const rdr = read();
    expect(rdr.count(rdr.bucket('b')!.row)).toBe(1);
    rdr.db.close();
  });

  it('stays right after the bucket is deleted and recreated', async () => {
    await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('10:00:00'), 0, { x: 1 }), pulsetime: 5 * S });
    await w.submit({ kind: 'deleteBucket', id: 'b' });
    await w.submit({ kind: 'createBucket', bucket: bucket('b') });
    const r = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('10:00:01'), 0, { x: 1 }), pulsetime: 5 * S });
    expect(r!.timestamp).toBe(t('10:00:01'));
  });

  it('heartbeats with a duration extend but never shorten (AFK case)', async () => {
    const afk = { status: 'afk' };
    await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('12:00:00.001'), 180 * S, afk), pulsetime: 185 * S });
    const a = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('12:00:00.001'), 185 * S, afk), pulsetime: 185 * S });
    expect(a!.duration).toBe(185 * S);
    const b = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('12:00:00.001'), 100 * S, afk), pulsetime: 185 * S });
    expect(b!.duration).toBe(185 * S);
    const c = await w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t('12:04:00'), 0, afk), pulsetime: 185 * S });
    expect(c!.duration).toBe(239.999 * S);
  });

  it('applies a queue sequence number once (redelivery is skipped)', async () => {
    const op = { kind: 'heartbeat' as const, bucket: 'b', event: ev(t('10:00:00'), 0, { a: 1 }), pulsetime: S, source: 'q', seq: 7 };
    expect(await w.submit(op)).not.toBeNull();
    await w.submit({ ...op, event: ev(t('10:00:10'), 0, { a: 2 }), seq: 8 });
    expect(await w.submit(op)).toBeNull();
    const rdr = read();
    expect(rdr.count(rdr.bucket('b')!.row)).toBe(2);
    expect(rdr.appliedSeq('q')).toBe(8);
    rdr.db.close();
  });
});

describe('last-event cache', () => {
  it('follows inserts: a heartbeat merges into the newest event by start, as a fresh read finds it', async () => {
    const rdr = read();
    const row = rdr.bucket('b')!.row;
    const A = { app: 'A' };
    const hb = (hms: string) => w.submit({ kind: 'heartbeat', bucket: 'b', event: ev(t(hms), 0, A), pulsetime: 5 * S });
    const insert = async (hms: string) => (await w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t(hms), 0, A)] }))[0]!;
    const first = await hb('10:00:00');
    const later = await insert('10:00:02'); // starts after the cached last event: now the last
    expect((await hb('10:00:03'))!.id).toBe(later.id);
    expect(rdr.lastEvent(row)!.id).toBe(later.id);
    await insert('09:00:00'); // starts earlier: the last stays
    expect((await hb('10:00:04'))!.id).toBe(later.id);
    const tie = await insert('10:00:02'); // same start: the lower id stays last
    expect(tie.id).toBeGreaterThan(later.id!);
    expect((await hb('10:00:05'))!.id).toBe(later.id);
    expect(rdr.lastEvent(row)!.id).toBe(later.id);
    // A replacement moves the last event back in time: the cache is read again.
    await w.submit({ kind: 'insertEvents', bucket: 'b', events: [{ ...ev(t('08:00:00'), 0, A), id: later.id }] });
    await w.submit({ kind: 'insertEvents', bucket: 'b', events: [{ ...ev(t('08:00:00'), 0, A), id: tie.id }] });
    // The last is `first` again (10:00:00): a stale cache would merge into the moved event instead.
    expect((await hb('10:00:04'))!.id).toBe(first!.id);
    expect(rdr.lastEvent(row)!.id).toBe(first!.id);
    rdr.db.close();
  });
});

describe('group commit', () => {
  it('commits ops that arrive together in one batch, and counts batches', async () => {
    const before = w.stats();
    await Promise.all([1, 2, 3].map((n) => w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, { n })] })));
    const [lone] = await w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:05'), S, { n: 4 })] });
    expect(lone!.id).toBeGreaterThan(0);
    const after = w.stats();
    expect(after.ops - before.ops).toBe(4);
    expect(after.batches - before.batches).toBe(2);
  });
});

describe('busy work (releases the held optimizer, src/optimizer.ts)', () => {
  const heartbeat = (n: number) => ({ kind: 'heartbeat' as const, bucket: 'b', event: ev(t('10:00:00') + n * S, 0, { app: 'x' }), pulsetime: 5 * S });
  it('is not one op at a time, as the built-in watchers write', async () => {
    const onBusy = vi.fn();
    const w2 = await openStorageWriter(path.join(tmp.dir, 'light.sqlite'), { log: silentLogger(), onBusy });
    await w2.submit({ kind: 'createBucket', bucket: bucket('b') });
    for (let n = 0; n < 20; n++) await w2.submit(heartbeat(n));
    await Promise.all([1, 2].map((n) => w2.submit(heartbeat(30 + n))));
    expect(onBusy).not.toHaveBeenCalled();
    // A burst: eight ops in one commit.
    await Promise.all(Array.from({ length: 8 }, (_, n) => w2.submit(heartbeat(40 + n))));
    expect(onBusy).toHaveBeenCalledTimes(1);
    await Promise.all(Array.from({ length: 8 }, (_, n) => w2.submit(heartbeat(50 + n))));
    expect(onBusy).toHaveBeenCalledTimes(1);
    await w2.close();
  });

  it('is a single bulk op: an import', async () => {
    const onBusy = vi.fn();
    const w2 = await openStorageWriter(path.join(tmp.dir, 'bulk.sqlite'), { log: silentLogger(), onBusy });
    await w2.submit({ kind: 'createBucket', bucket: bucket('b') });
    await w2.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, {})] });
    expect(onBusy).not.toHaveBeenCalled();
    await w2.submit({ kind: 'importEvents', bucket: 'b', events: [ev(t('09:00:05'), S, {})] });
    expect(onBusy).toHaveBeenCalledTimes(1);
    await w2.close();
  });
});

describe('writes', () => {
  it('a bad op in a batch fails alone; the rest commit', async () => {
    const [ok, bad, ok2] = await Promise.allSettled([
      w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, { n: 1 })] }),
      w.submit({ kind: 'insertEvents', bucket: 'nope', events: [ev(t('09:00:00'), S, { n: 2 })] }),
      w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:02'), S, { n: 3 })] }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status === 'rejected' && httpStatus(bad.reason)).toBe(404);
    expect(ok2.status).toBe('fulfilled');
    const rdr = read();
    expect(rdr.count(rdr.bucket('b')!.row)).toBe(2);
    rdr.db.close();
  });

  it('refuses to replace an event of another bucket and stores nothing of that request', async () => {
    await w.submit({ kind: 'createBucket', bucket: bucket('other') });
    const [e] = await w.submit({ kind: 'insertEvents', bucket: 'other', events: [ev(t('09:00:00'), S, { o: 1 })] });
    await expect(
      w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('08:00:00'), S, {}), { ...ev(t('09:00:00'), S, { hijack: 1 }), id: e!.id }] }),
    ).rejects.toMatchObject({ status: 400 });
    const rdr = read();
    expect(rdr.count(rdr.bucket('b')!.row)).toBe(0);
    expect(rdr.event(rdr.bucket('other')!.row, e!.id!)!.data).toEqual({ o: 1 });
    rdr.db.close();
  });

  it('replaces an event of the same bucket by id', async () => {
    const [e] = await w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, { v: 1 })] });
    await w.submit({ kind: 'insertEvents', bucket: 'b', events: [{ ...ev(t('09:00:00'), 2 * S, { v: 2 }), id: e!.id }] });
    const rdr = read();
    const got = rdr.event(rdr.bucket('b')!.row, e!.id!)!;
    expect([got.duration, got.data]).toEqual([2 * S, { v: 2 }]);
    rdr.db.close();
  });

  it('import is idempotent', async () => {
    const events = [ev(t('09:00:00'), S, { k: 1, j: 2 }), ev(t('09:00:05'), 2 * S, { k: 3 })];
    expect(await w.submit({ kind: 'importEvents', bucket: 'b', events })).toEqual({ inserted: 2 });
    const reordered = [ev(t('09:00:00'), S, { j: 2, k: 1 }), ev(t('09:00:05'), 2 * S, { k: 3 }), ev(t('09:00:09'), S, {})];
    expect(await w.submit({ kind: 'importEvents', bucket: 'b', events: reordered })).toEqual({ inserted: 1 });
  });

  it('settings: set, overwrite, delete; too long key refused', async () => {
    await w.submit({ kind: 'setSetting', key: 'theme', value: 'dark' });
    await w.submit({ kind: 'setSetting', key: 'n', value: null });
    const rdr = read();
    expect(rdr.settings()).toEqual({ theme: 'dark', n: null });
    await w.submit({ kind: 'deleteSetting', key: 'theme' });
    expect(rdr.setting('theme')).toBeUndefined();
    await expect(w.submit({ kind: 'setSetting', key: 'k'.repeat(128), value: 1 })).rejects.toMatchObject({ status: 400 });
    rdr.db.close();
  });
});

describe('durability', () => {
  /** Holds every sync of the WAL (fdatasync) until released (or failed): what the writer waits for before it answers. */
  const holdSyncs = () => {
    const held: { fd: number; cb: (err: NodeJS.ErrnoException | null) => void }[] = [];
    const real = fs.fdatasync;
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void held.push({ fd, cb })) as typeof fs.fdatasync);
    return {
      held,
      release: () => held.splice(0).forEach(({ fd, cb }) => real(fd, cb)),
      fail: () => held.splice(0).forEach(({ cb }) => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))),
      restore: () => spy.mockRestore(),
    };
  };

  it('answers a batch only after its WAL is synced; what arrives meanwhile waits for the next commit', async () => {
    const syncs = holdSyncs();
    try {
      let answered = false;
      const first = w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, { n: 1 })] }).then((r) => ((answered = true), r));
      await vi.waitFor(() => expect(syncs.held).toHaveLength(1));
      // Committed (a reader sees it, a kill -9 keeps it) but not answered until the disk has it.
      const rdr = read();
      expect(rdr.count(rdr.bucket('b')!.row)).toBe(1);
      const second = w.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:05'), S, { n: 2 })] });
      await new Promise((r) => setTimeout(r, 20));
      expect(answered).toBe(false);
      expect(rdr.count(rdr.bucket('b')!.row)).toBe(1); // one commit at a time
      syncs.release();
      expect((await first)[0]!.id).toBeGreaterThan(0);
      await vi.waitFor(() => expect(syncs.held).toHaveLength(1));
      syncs.release();
      expect((await second)[0]!.id).toBeGreaterThan(0);
      expect(rdr.count(rdr.bucket('b')!.row)).toBe(2);
      rdr.db.close();
    } finally {
      syncs.restore();
    }
  });

  it('a failed sync leaves the outcome unknown (no blind retry) and asks for a restart', async () => {
    const fatal: unknown[] = [];
    const own = await openStorageWriter(path.join(tmp.dir, 'sync.sqlite'), { log: silentLogger(), onFatal: (e) => fatal.push(e) });
    await own.submit({ kind: 'createBucket', bucket: bucket('b') });
    const syncs = holdSyncs();
    try {
      const op = own.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('09:00:00'), S, { n: 1 })] });
      await vi.waitFor(() => expect(syncs.held).toHaveLength(1));
      syncs.fail();
      await expect(op).rejects.toBeInstanceOf(WriterOutcomeUnknown);
      expect(fatal).toHaveLength(1);
      await expect(own.submit({ kind: 'deleteSetting', key: 'x' })).rejects.toBeInstanceOf(WriterUnavailable);
    } finally {
      syncs.restore();
      await own.close();
    }
  });
});

describe('privacy gate', () => {
  it('judges by the bucket type after updateBucket changed it (incognito rule)', async () => {
    const gated = await openStorageWriter(path.join(tmp.dir, 'gated.sqlite'), { log: silentLogger(), privacy: {} });
    try {
      await gated.submit({ kind: 'createBucket', bucket: bucket('tabs') });
      const tab = (ts: number) => ev(ts, S, { url: 'https://x.example', title: 'x', audible: false, incognito: true });
      // Not a browser bucket yet: the incognito flag means nothing, the event is stored (and the type cached).
      const [kept] = await gated.submit({ kind: 'insertEvents', bucket: 'tabs', events: [tab(t('09:00:00'))] });
      expect(kept!.id).not.toBeNull();
      await gated.submit({ kind: 'updateBucket', id: 'tabs', patch: { type: 'web.tab.current' } });
      const [dropped] = await gated.submit({ kind: 'insertEvents', bucket: 'tabs', events: [tab(t('09:00:10'))] });
      expect(dropped!.id).toBeNull();
      expect(await gated.submit({ kind: 'heartbeat', bucket: 'tabs', event: tab(t('09:00:20')), pulsetime: S })).toBeNull();
      // And back: once no longer a browser bucket, the event is stored again.
      await gated.submit({ kind: 'updateBucket', id: 'tabs', patch: { type: 'currentwindow' } });
      const [again] = await gated.submit({ kind: 'insertEvents', bucket: 'tabs', events: [tab(t('09:00:30'))] });
      expect(again!.id).not.toBeNull();
    } finally {
      await gated.close();
    }
  });
});

describe('writer port', () => {
  it('holds ops while no writer is attached and retries ops of an aborted incarnation', async () => {
    const port = createWriterPort(5_000);
    const first = await openStorageWriter(file, { log: silentLogger() });
    port.attach(first);
    const inflight = port.submit({ kind: 'insertEvents', bucket: 'b', events: [ev(t('11:00:00'), S, { p: 1 })] });
    first.abort(new Error('injected')); // before its flush ran: not committed
    port.detach(first);
    const second = openStorageWriter(file, { log: silentLogger() });
    setTimeout(async () => port.attach(await second), 50);
    const [stored] = await inflight;
    expect(stored!.id).toBeGreaterThan(0);
    await (await second).close();
    const rdr = read();
    expect(rdr.count(rdr.bucket('b')!.row)).toBe(1);
    rdr.db.close();
  });

  it('gives up with WriterUnavailable after its wait', async () => {
    const port = createWriterPort(50);
    await expect(port.submit({ kind: 'deleteSetting', key: 'x' })).rejects.toBeInstanceOf(WriterUnavailable);
  });
});
