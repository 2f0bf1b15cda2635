import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bucketBody, INFO, startServer, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => {
  await h.stop();
});

let n = 0;
/** A fresh bucket per test (the server is shared). */
async function freshBucket(extra: Record<string, unknown> = {}): Promise<string> {
  const id = `b${++n}`;
  const r = await h.req('POST', `/api/0/buckets/${id}`, { json: bucketBody(extra) });
  expect(r.status).toBe(200);
  return id;
}
const ev = (ts: string, duration: number, data: Record<string, unknown> = {}) => ({ timestamp: `2024-05-01T${ts}Z`, duration, data });

describe('info', () => {
  it('returns the four fields; no body needed', async () => {
    const r = await h.req('GET', '/api/0/info');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({ hostname: INFO.hostname, version: INFO.version, testing: false, device_id: INFO.deviceId });
  });
});

describe('buckets', () => {
  it('creates (200), then 304 for an existing id without changing it', async () => {
    const r1 = await h.req('POST', '/api/0/buckets/created-once', { json: bucketBody({ type: 'first' }) });
    expect(r1.status).toBe(200);
    expect(r1.text).toBe('');
    const r2 = await h.req('POST', '/api/0/buckets/created-once', { json: bucketBody({ type: 'second' }) });
    expect(r2.status).toBe(304);
    expect((await h.req('GET', '/api/0/buckets/created-once')).body.type).toBe('first');
  });

  it('has the reference bucket shape with metadata and last_updated', async () => {
    const id = await freshBucket({ created: '2024-05-01T08:00:00.123456+02:00', data: { k: 1 } });
    let b = (await h.req('GET', `/api/0/buckets/${id}`)).body;
    expect(b).toEqual({
      id, type: 'currentwindow', client: 'test', hostname: 'h', created: '2024-05-01T06:00:00.123456Z', data: { k: 1 },
      metadata: { start: null, end: null }, events: null, last_updated: null,
    });
    await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 5), ev('09:00:00', 1.5)] });
    b = (await h.req('GET', `/api/0/buckets/${id}`)).body;
    expect(b.metadata).toEqual({ start: '2024-05-01T09:00:00Z', end: '2024-05-01T10:00:05Z' });
    expect(b.last_updated).toBe('2024-05-01T10:00:05Z');
    const list = (await h.req('GET', '/api/0/buckets/')).body;
    expect(list[id]).toEqual(b);
  });

  it('metadata shrinks after deleting events (the reference caches it until restart)', async () => {
    const id = await freshBucket();
    const stored = (await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 5), ev('11:00:00', 5)] })).body;
    await h.req('DELETE', `/api/0/buckets/${id}/events/${stored[1].id}`);
    expect((await h.req('GET', `/api/0/buckets/${id}`)).body.metadata.end).toBe('2024-05-01T10:00:05Z');
  });

  it('creates with events in the body', async () => {
    const r = await h.req('POST', '/api/0/buckets/with-events', { json: bucketBody({ events: [ev('10:00:00', 1, { a: 1 })] }) });
    expect(r.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/with-events/events/count')).body).toBe(1);
  });

  it('substitutes !local with the server host name and adds device_id', async () => {
    await h.req('POST', '/api/0/buckets/aw-watcher-web', { json: bucketBody({ hostname: '!local', data: { browser: 'firefox' } }) });
    const b = (await h.req('GET', '/api/0/buckets/aw-watcher-web')).body;
    expect(b.hostname).toBe(INFO.hostname);
    expect(b.data).toEqual({ browser: 'firefox', device_id: INFO.deviceId });
  });

  it('rejects bad bodies with 400 and a message naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ client: 'c', type: 't' }, /hostname/],
      [{ client: 'c', type: 5, hostname: 'h' }, /type/],
      [[1, 2], /object/],
      [bucketBody({ data: [] }), /data/],
      [bucketBody({ created: 'yesterday' }), /created/],
      [bucketBody({ events: {} }), /events/],
      [bucketBody({ events: [{ timestamp: 'x', data: {} }] }), /events\[0\]/],
    ];
    for (const [body, msg] of cases) {
      const r = await h.req('POST', '/api/0/buckets/bad-body', { json: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.message).toMatch(msg);
    }
    expect((await h.req('GET', '/api/0/buckets/bad-body')).status).toBe(404);
  });

  it('rejects malformed JSON with 400 and an empty body with 400', async () => {
    const r = await h.req('POST', '/api/0/buckets/x', { body: '{"client":', headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/JSON/);
    const e = await h.req('POST', '/api/0/buckets/x', { body: '', headers: { 'Content-Type': 'application/json' } });
    expect(e.status).toBe(400);
  });

  it('rejects bucket ids that are too long', async () => {
    const r = await h.req('POST', `/api/0/buckets/${'x'.repeat(300)}`, { json: bucketBody() });
    expect(r.status).toBe(400);
  });

  it('404 for unknown buckets on every bucket route', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/0/buckets/nope'],
      ['DELETE', '/api/0/buckets/nope'],
      ['PUT', '/api/0/buckets/nope', { type: 'x' }],
      ['GET', '/api/0/buckets/nope/events'],
      ['GET', '/api/0/buckets/nope/events/count'],
      ['GET', '/api/0/buckets/nope/events/1'],
      ['DELETE', '/api/0/buckets/nope/events/1'],
      ['POST', '/api/0/buckets/nope/events', [ev('10:00:00', 1)]],
      ['POST', '/api/0/buckets/nope/heartbeat?pulsetime=1', ev('10:00:00', 0)],
      ['GET', '/api/0/buckets/nope/export'],
    ];
    for (const [m, p, json] of routes) {
      const r = await h.req(m, p, json === undefined ? {} : { json });
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(r.body.message, `${m} ${p}`).toMatch(/nope/);
    }
  });

  it('updates with PUT (legacy)', async () => {
    const id = await freshBucket();
    const r = await h.req('PUT', `/api/0/buckets/${id}`, { json: { type: 'changed', data: { x: 1 } } });
    expect(r.status).toBe(200);
    const b = (await h.req('GET', `/api/0/buckets/${id}`)).body;
    expect(b.type).toBe('changed');
    expect(b.data).toEqual({ x: 1 });
    expect((await h.req('PUT', `/api/0/buckets/${id}`, { json: { type: 5 } })).status).toBe(400);
  });

  it('deletes a bucket and its events (force=1 accepted)', async () => {
    const id = await freshBucket();
    await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 1)] });
    const r = await h.req('DELETE', `/api/0/buckets/${id}?force=1`);
    expect(r.status).toBe(200);
    expect((await h.req('GET', `/api/0/buckets/${id}`)).status).toBe(404);
    expect((await h.req('GET', '/api/0/buckets/')).body[id]).toBeUndefined();
  });

  it('percent-decodes bucket ids in the path', async () => {
    const r = await h.req('POST', '/api/0/buckets/with%20space%3A%C3%A9', { json: bucketBody() });
    expect(r.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/')).body['with space:é'].id).toBe('with space:é');
    expect((await h.req('POST', '/api/0/buckets/a%2Fb', { json: bucketBody() })).status).toBe(400);
    expect((await h.req('GET', '/api/0/buckets/%E0%A4%A')).status).toBe(400);
  });
});

describe('events', () => {
  it('inserts a list (200, stored events with ids, request order) and reads newest first', async () => {
    const id = await freshBucket();
    const r = await h.req('POST', `/api/0/buckets/${id}/events`, {
      json: [ev('10:00:00', 1, { n: 1 }), ev('12:00:00', 2.5, { n: 2 }), ev('11:00:00', 0, { n: 3 })],
    });
    expect(r.status).toBe(200);
    expect(r.body.map((e: any) => e.data.n)).toEqual([1, 2, 3]);
    expect(r.body.every((e: any) => Number.isInteger(e.id))).toBe(true);
    const list = (await h.req('GET', `/api/0/buckets/${id}/events`)).body;
    expect(list.map((e: any) => e.data.n)).toEqual([2, 3, 1]);
    expect(list[0]).toEqual({ id: r.body[1].id, timestamp: '2024-05-01T12:00:00Z', duration: 2.5, data: { n: 2 } });
    expect((await h.req('POST', `/api/0/buckets/${id}/events`, { json: [] })).body).toEqual([]);
  });

  it('accepts a single object (legacy) and answers with the stored event', async () => {
    const id = await freshBucket();
    const r = await h.req('POST', `/api/0/buckets/${id}/events`, { json: ev('10:00:00', 1, { one: true }) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ timestamp: '2024-05-01T10:00:00Z', duration: 1, data: { one: true } });
  });

  it('validates every event before storing anything', async () => {
    const id = await freshBucket();
    const cases: [unknown, RegExp][] = [
      [[ev('10:00:00', 1), { timestamp: '2024-05-01T10:00:00', data: {} }], /events\[1\]\.timestamp/],
      [[{ timestamp: '2024-05-01T10:00:00Z' }], /events\[0\]\.data/],
      [[{ timestamp: '2024-05-01T10:00:00Z', data: null }], /data/],
      [[{ timestamp: '2024-05-01T10:00:00Z', duration: null, data: {} }], /duration/],
      [[{ timestamp: '2024-05-01T10:00:00Z', duration: '1', data: {} }], /duration/],
      [[{ ...ev('10:00:00', 1), id: 'x' }], /id/],
      [[{ ...ev('10:00:00', 1), id: -1 }], /id/],
      [[5], /events\[0\]/],
      ['string', /list/],
      [null, /list/],
    ];
    for (const [body, msg] of cases) {
      const r = await h.req('POST', `/api/0/buckets/${id}/events`, { json: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.message).toMatch(msg);
    }
    expect((await h.req('GET', `/api/0/buckets/${id}/events/count`)).body).toBe(0);
  });

  it('replaces an event by id within the same bucket', async () => {
    const id = await freshBucket();
    const [e] = (await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 1, { v: 1 })] })).body;
    const r = await h.req('POST', `/api/0/buckets/${id}/events`, { json: [{ ...ev('10:00:00', 9, { v: 2 }), id: e.id }] });
    expect(r.status).toBe(200);
    expect(r.body[0].id).toBe(e.id);
    const list = (await h.req('GET', `/api/0/buckets/${id}/events`)).body;
    expect(list).toEqual([{ id: e.id, timestamp: '2024-05-01T10:00:00Z', duration: 9, data: { v: 2 } }]);
  });

  it('refuses (400) an id that belongs to another bucket, and stores nothing of the request', async () => {
    const a = await freshBucket();
    const b = await freshBucket();
    const [ea] = (await h.req('POST', `/api/0/buckets/${a}/events`, { json: [ev('10:00:00', 1, { in: 'a' })] })).body;
    const r = await h.req('POST', `/api/0/buckets/${b}/events`, {
      json: [ev('11:00:00', 1, { new: true }), { ...ev('10:00:00', 1, { stolen: true }), id: ea.id }],
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(String(ea.id));
    expect((await h.req('GET', `/api/0/buckets/${b}/events/count`)).body).toBe(0);
    expect((await h.req('GET', `/api/0/buckets/${a}/events/${ea.id}`)).body.data).toEqual({ in: 'a' });
  });

  it('gets one event unclipped; 404 for an unknown id or one of another bucket; 400 for a non-integer id', async () => {
    const a = await freshBucket();
    const b = await freshBucket();
    const [e] = (await h.req('POST', `/api/0/buckets/${a}/events`, { json: [ev('10:00:00', 60)] })).body;
    const r = await h.req('GET', `/api/0/buckets/${a}/events/${e.id}?start=2024-05-01T10:00:30Z`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: e.id, timestamp: '2024-05-01T10:00:00Z', duration: 60, data: {} });
    expect((await h.req('GET', `/api/0/buckets/${a}/events/999999`)).status).toBe(404);
    expect((await h.req('GET', `/api/0/buckets/${b}/events/${e.id}`)).status).toBe(404);
    for (const bad of ['abc', '-1', '0', '1.5', '1e3']) {
      const rb = await h.req('GET', `/api/0/buckets/${a}/events/${bad}`);
      expect(rb.status, bad).toBe(400);
      expect(rb.body.message).toMatch(/event id/);
    }
  });

  it('lists with start/end (inclusive, clipped) and limit (newest N; negative or empty = none)', async () => {
    const id = await freshBucket();
    await h.req('POST', `/api/0/buckets/${id}/events`, {
      json: [ev('10:00:00', 60, { n: 1 }), ev('10:01:00', 60, { n: 2 }), ev('10:02:00', 60, { n: 3 }), ev('10:05:00', 10, { n: 4 })],
    });
    const q = (s: string) => h.req('GET', `/api/0/buckets/${id}/events?${s}`);
    let r = await q('start=2024-05-01T10:00:30Z&end=2024-05-01T10:02:30Z');
    expect(r.body.map((e: any) => [e.data.n, e.timestamp, e.duration])).toEqual([
      [3, '2024-05-01T10:02:00Z', 30],
      [2, '2024-05-01T10:01:00Z', 60],
      [1, '2024-05-01T10:00:30Z', 30],
    ]);
    // Touching the bound counts (duration 0 after clipping); offsets are accepted with %2B.
    r = await q('start=2024-05-01T12:03:00%2B02:00');
    expect(r.body.map((e: any) => [e.data.n, e.duration])).toEqual([[4, 10], [3, 0]]);
    r = await q('end=2024-05-01T10:00:00.000Z');
    expect(r.body.map((e: any) => [e.data.n, e.duration])).toEqual([[1, 0]]);
    expect((await q('limit=2')).body.map((e: any) => e.data.n)).toEqual([4, 3]);
    expect((await q('limit=0')).body).toEqual([]);
    for (const none of ['limit=-1', 'limit=']) expect((await q(none)).body.length, none).toBe(4);
    expect((await q('start=2024-05-01T11:00:00Z&end=2024-05-01T10:00:00Z')).body).toEqual([]);
  });

  it('400 with the reference message for unparseable start/end', async () => {
    const id = await freshBucket();
    for (const [p, name] of [['start=yesterday', 'starttime'], ['end=2024-05-01T10:00:00', 'endtime'], ['start=2024-05-01T10:00:00+02:00', 'starttime']]) {
      const r = await h.req('GET', `/api/0/buckets/${id}/events?${p}`);
      expect(r.status, p).toBe(400);
      expect(r.body.message).toMatch(new RegExp(`Failed to parse ${name}, datetime needs to be in rfc3339 format`));
    }
  });

  it('refuses a limit that is not an integer with 400 naming it', async () => {
    const id = await freshBucket();
    for (const bad of ['abc', '1.5', '2x', '1e3']) {
      const r = await h.req('GET', `/api/0/buckets/${id}/events?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.message).toMatch(/limit/);
    }
  });

  it('counts the events overlapping start/end (same rule as listing); a bad bound is 400', async () => {
    const id = await freshBucket();
    await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 1), ev('11:00:00', 1), ev('12:00:00', 60)] });
    const count = async (q: string) => {
      const r = await h.req('GET', `/api/0/buckets/${id}/events/count${q}`);
      expect(r.status, q).toBe(200);
      return JSON.parse(r.text) as number;
    };
    expect(await count('')).toBe(3);
    expect(await count('?start=2024-05-01T10:30:00Z')).toBe(2);
    expect(await count('?end=2024-05-01T10:30:00Z')).toBe(1);
    // Touching counts: the 12:00 event ends at 12:01.
    expect(await count('?start=2024-05-01T12:01:00Z')).toBe(1);
    expect(await count('?start=2024-05-01T10:30:00Z&end=2024-05-01T11:00:00Z')).toBe(1);
    expect(await count('?start=2024-05-01T13:00:00Z&end=2024-05-01T10:00:00Z')).toBe(0);
    // Names the JS client once sent are not bounds (ignored by every server).
    expect(await count('?starttime=2024-05-01T10:30:00Z')).toBe(3);
    for (const [p, name] of [['start=garbage', 'starttime'], ['end=2024-05-01T10:00:00', 'endtime']]) {
      const r = await h.req('GET', `/api/0/buckets/${id}/events/count?${p}`);
      expect(r.status, p).toBe(400);
      expect(r.body.message).toMatch(new RegExp(`Failed to parse ${name}`));
    }
  });

  it('deletes an event (200 even when absent; ids never reused)', async () => {
    const id = await freshBucket();
    const [e] = (await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 1)] })).body;
    expect((await h.req('DELETE', `/api/0/buckets/${id}/events/${e.id}`)).status).toBe(200);
    expect((await h.req('DELETE', `/api/0/buckets/${id}/events/${e.id}`)).status).toBe(200);
    expect((await h.req('GET', `/api/0/buckets/${id}/events/${e.id}`)).status).toBe(404);
    const [f] = (await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:00', 1)] })).body;
    expect(f.id).toBeGreaterThan(e.id);
    expect((await h.req('DELETE', `/api/0/buckets/${id}/events/x`)).status).toBe(400);
  });
});

describe('heartbeat', () => {
  const hb = (id: string, ts: string, data: Record<string, unknown>, pulsetime: string | null = '2', duration = 0) =>
    h.req('POST', `/api/0/buckets/${id}/heartbeat${pulsetime === null ? '' : `?pulsetime=${pulsetime}`}`, { json: ev(ts, duration, data) });

  it('merges within pulsetime, keeps the id, returns the merged event', async () => {
    const id = await freshBucket();
    const r1 = await hb(id, '10:00:00', { app: 'A' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ timestamp: '2024-05-01T10:00:00Z', duration: 0, data: { app: 'A' } });
    const r2 = await hb(id, '10:00:01', { app: 'A' });
    expect(r2.body).toEqual({ id: r1.body.id, timestamp: '2024-05-01T10:00:00Z', duration: 1, data: { app: 'A' } });
    const r3 = await hb(id, '10:00:03', { app: 'A' }); // boundary inclusive
    expect(r3.body.duration).toBe(3);
    const r4 = await hb(id, '10:00:06', { app: 'A' }); // gap > pulsetime
    expect(r4.body.id).not.toBe(r1.body.id);
    const r5 = await hb(id, '10:00:07', { app: 'B' });
    expect(r5.body.id).not.toBe(r4.body.id);
    expect((await h.req('GET', `/api/0/buckets/${id}/events/count`)).body).toBe(3);
  });

  it('float pulsetime and heartbeats carrying a duration', async () => {
    const id = await freshBucket();
    await hb(id, '12:00:00.001', { afk: 1 }, '185', 180);
    const r = await hb(id, '12:04:00', { afk: 1 }, '185.5');
    expect(r.body.duration).toBeCloseTo(239.999, 6);
  });

  it('after deleting the merged-into event, the next heartbeat works (no 500; cache refreshed)', async () => {
    const id = await freshBucket();
    const a = await hb(id, '10:00:00', { app: 'A' });
    await hb(id, '10:00:01', { app: 'A' });
    expect((await h.req('DELETE', `/api/0/buckets/${id}/events/${a.body.id}`)).status).toBe(200);
    const r = await hb(id, '10:00:02', { app: 'A' });
    expect(r.status).toBe(200);
    expect(r.body.id).not.toBe(a.body.id);
    expect((await h.req('GET', `/api/0/buckets/${id}/events`)).body).toEqual([r.body]);
  });

  it('after deleting and recreating the bucket, heartbeats start afresh', async () => {
    const id = await freshBucket();
    await hb(id, '10:00:00', { app: 'A' });
    await h.req('DELETE', `/api/0/buckets/${id}`);
    await h.req('POST', `/api/0/buckets/${id}`, { json: bucketBody() });
    const r = await hb(id, '10:00:01', { app: 'A' });
    expect(r.status).toBe(200);
    expect(r.body.duration).toBe(0);
  });

  it('after an insert, heartbeats merge into the newest event', async () => {
    const id = await freshBucket();
    await hb(id, '10:00:00', { app: 'A' });
    await h.req('POST', `/api/0/buckets/${id}/events`, { json: [ev('10:00:05', 1, { app: 'A' })] });
    const r = await hb(id, '10:00:07', { app: 'A' });
    expect(r.body).toMatchObject({ timestamp: '2024-05-01T10:00:05Z', duration: 2 });
  });

  it('requires a valid pulsetime and a single event object', async () => {
    const id = await freshBucket();
    for (const p of [null, '', 'abc', '-1', 'NaN', 'Infinity']) {
      const r = await hb(id, '10:00:00', {}, p);
      expect(r.status, String(p)).toBe(400);
      expect(r.body.message).toMatch(/pulsetime/);
    }
    const list = await h.req('POST', `/api/0/buckets/${id}/heartbeat?pulsetime=1`, { json: [ev('10:00:00', 0)] });
    expect(list.status).toBe(400);
    expect(list.body.message).toMatch(/single event/);
    const nodata = await h.req('POST', `/api/0/buckets/${id}/heartbeat?pulsetime=1`, { json: { timestamp: '2024-05-01T10:00:00Z' } });
    expect(nodata.status).toBe(400);
    expect(nodata.body.message).toMatch(/heartbeat\.data/);
    expect((await h.req('GET', `/api/0/buckets/${id}/events/count`)).body).toBe(0);
  });
});

describe('settings', () => {
  beforeEach(async () => {
    for (const k of Object.keys((await h.req('GET', '/api/0/settings')).body)) await h.req('DELETE', `/api/0/settings/${k}`);
  });

  it('unset → 200 null; set → 201; read back; all; delete → 200', async () => {
    let r = await h.req('GET', '/api/0/settings/theme');
    expect(r.status).toBe(200);
    expect(r.text).toBe('null');
    r = await h.req('POST', '/api/0/settings/theme', { json: 'dark' });
    expect(r.status).toBe(201);
    expect(r.text).toBe('');
    await h.req('POST', '/api/0/settings/views', { json: [{ id: 'summary' }] });
    await h.req('POST', '/api/0/settings/nothing', { json: null });
    await h.req('POST', '/api/0/settings/off', { json: false });
    expect((await h.req('GET', '/api/0/settings/theme')).body).toBe('dark');
    expect((await h.req('GET', '/api/0/settings')).body).toEqual({ theme: 'dark', views: [{ id: 'summary' }], nothing: null, off: false });
    expect((await h.req('DELETE', '/api/0/settings/theme')).status).toBe(200);
    expect((await h.req('DELETE', '/api/0/settings/never-set')).status).toBe(200);
    expect((await h.req('GET', '/api/0/settings/theme')).text).toBe('null');
  });

  it('keys of 128 characters or more → 400 Too long key (GET, POST, DELETE)', async () => {
    const long = 'k'.repeat(128);
    for (const [m, json] of [['GET'], ['POST', 1], ['DELETE']] as const) {
      const r = await h.req(m, `/api/0/settings/${long}`, json === undefined ? {} : { json });
      expect(r.status, m).toBe(400);
      expect(r.body).toEqual({ message: 'Too long key' });
    }
    expect((await h.req('POST', `/api/0/settings/${'k'.repeat(127)}`, { json: 1 })).status).toBe(201);
  });

  it('setting values must be JSON', async () => {
    const r = await h.req('POST', '/api/0/settings/x', { body: 'dark', headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(400);
    expect((await h.req('GET', '/api/0/settings/x')).body).toBe(null);
  });
});

describe('query', () => {
  it('501 when no query engine is configured', async () => {
    const r = await h.req('POST', '/api/0/query/', { json: { timeperiods: [], query: [] } });
    expect(r.status).toBe(501);
    expect(r.body).toEqual({ message: 'query engine not available' });
  });
});

describe('routing', () => {
  it('404 for unknown paths and unsupported methods, with a message', async () => {
    for (const [m, p] of [
      ['GET', '/api/0/nothing'], ['GET', '/api/1/info'], ['POST', '/api/0/info'], ['PATCH', '/api/0/buckets/x'],
      ['GET', '/api/0/buckets/x/events/1/more'], ['GET', '/'], ['GET', '/api/control/status'], ['GET', '/api/0/query'],
    ]) {
      const r = await h.req(m!, p!);
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(typeof r.body.message).toBe('string');
    }
  });
});

describe('deeply nested JSON', () => {
  it('is refused with 400 (never a 500 from a stack overflow) on every JSON route', async () => {
    const id = await freshBucket();
    // Built as text: JSON.stringify itself overflows on such values.
    const deepText = (n: number) => '{"a":'.repeat(n) + '{}' + '}'.repeat(n);
    const d = deepText(20_000);
    const routes: [string, string][] = [
      [`/api/0/buckets/${id}/heartbeat?pulsetime=1`, `{"timestamp":"2024-05-01T10:00:00Z","data":${d}}`],
      [`/api/0/buckets/${id}/events`, `[{"timestamp":"2024-05-01T10:00:00Z","data":${d}}]`],
      ['/api/0/buckets/deep', `{"client":"c","type":"t","hostname":"h","data":${d}}`],
      ['/api/0/settings/deep', d],
      ['/api/0/import', `{"buckets":{"x":{"id":"deep","type":"t","client":"c","hostname":"h","data":${d}}}}`],
    ];
    for (const [p, body] of routes) {
      const r = await h.req('POST', p, { body, headers: { 'Content-Type': 'application/json' } });
      expect(r.status, p).toBe(400);
      expect(r.body.message).toMatch(/nested/);
    }
    expect((await h.req('GET', '/api/0/buckets/deep')).status).toBe(404);
    // In an import, such an event is one that cannot be parsed: skipped like the others.
    const imp = await h.req('POST', '/api/0/import', {
      body: `{"buckets":{"x":{"id":"deep","type":"t","client":"c","hostname":"h","events":[{"timestamp":"2024-05-01T10:00:00Z","data":${d}}]}}}`,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(imp.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/deep/events/count')).body).toBe(0);
    const deep = (n: number): unknown => JSON.parse(deepText(n));
    // 100 levels are fine.
    const ok = await h.req('POST', `/api/0/buckets/${id}/events`, { json: [{ timestamp: '2024-05-01T10:00:00Z', data: deep(100) }] });
    expect(ok.status).toBe(200);
  });
});
