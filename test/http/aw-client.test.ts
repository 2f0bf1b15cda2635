import { AWClient } from 'aw-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFO, startServer, type Harness } from './harness.js';

/** The published JS client (axios-based, 0.3.x: what the web UI uses) against the real server. */
describe('aw-client scenario', () => {
  let h: Harness;
  let client: AWClient;
  beforeAll(async () => {
    h = await startServer();
    client = new AWClient('sundial-test', { baseURL: h.base, testing: true });
  });
  afterAll(async () => {
    await h.stop();
  });

  const t0 = new Date('2024-05-01T10:00:00.000Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const bid = 'aw-watcher-test_host';

  it('info', async () => {
    const info = await client.getInfo();
    expect(info).toMatchObject({ hostname: INFO.hostname, version: INFO.version, testing: false });
  });

  it('creates a bucket; ensureBucket reports the existing one', async () => {
    expect(await client.ensureBucket(bid, 'currentwindow', 'host')).toEqual({ alreadyExist: false });
    expect(await client.ensureBucket(bid, 'currentwindow', 'host')).toEqual({ alreadyExist: true });
    const info = await client.getBucketInfo(bid);
    expect(info.id).toBe(bid);
    expect(info.created).toBeInstanceOf(Date);
    const all = await client.getBuckets();
    expect(Object.keys(all)).toEqual([bid]);
  });

  it('heartbeats merge server-side', async () => {
    await Promise.all([0, 1, 2, 3, 4].map((s) => client.heartbeat(bid, 10, { timestamp: at(s), data: { app: 'Editor', title: 'a' } })));
    await client.heartbeat(bid, 10, { timestamp: at(5), data: { app: 'Browser', title: 'b' } });
    const events = await client.getEvents(bid);
    expect(events.map((e) => [e.data.app, e.duration])).toEqual([['Browser', 0], ['Editor', 4]]);
    expect(events[1]!.timestamp).toEqual(t0);
  });

  it('inserts, reads back with start/end/limit, gets one, replaces, counts, deletes', async () => {
    await client.insertEvents(bid, [
      { timestamp: at(100), duration: 10, data: { app: 'Term' } },
      { timestamp: at(200), duration: 20, data: { app: 'Mail' } },
    ]);
    expect(await client.countEvents(bid)).toBe(4);
    const win = await client.getEvents(bid, { start: at(105), end: at(300) });
    expect(win.map((e) => [e.data.app, e.duration])).toEqual([['Mail', 20], ['Term', 5]]);
    const newest = await client.getEvents(bid, { limit: 1 });
    expect(newest.map((e) => e.data.app)).toEqual(['Mail']);
    const mail = await client.getEvent(bid, newest[0]!.id!);
    expect(mail.timestamp).toEqual(at(200));
    await client.replaceEvent(bid, { ...mail, duration: 30, data: { app: 'Mail', edited: 1 } });
    expect((await client.getEvent(bid, mail.id!)).duration).toBe(30);
    await client.deleteEvent(bid, mail.id!);
    expect(await client.countEvents(bid)).toBe(3);
    await expect(client.getEvent(bid, mail.id!)).rejects.toMatchObject({ response: { status: 404 } });
  });

  it('settings', async () => {
    // get_setting() turns a null body into the whole axios response (`res.data || res`): read it raw.
    expect((await client.req.get('/0/settings/theme')).data).toBe(null);
    await client.set_setting('theme', { mode: 'dark' });
    expect(await client.get_setting('theme')).toEqual({ mode: 'dark' });
    expect(await client.get_settings()).toEqual({ theme: { mode: 'dark' } });
  });

  it('export, delete, import again: the same data comes back', async () => {
    const exported = (await client.req.get('/0/export')).data;
    const before = await client.getEvents(bid);
    await client.deleteBucket(bid);
    await expect(client.getBucketInfo(bid)).rejects.toMatchObject({ response: { status: 404 } });
    expect(await client.getBuckets()).toEqual({});
    const r = await client.req.post('/0/import', exported);
    expect(r.status).toBe(200);
    const after = await client.getEvents(bid);
    const strip = (es: typeof before) => es.map((e) => ({ timestamp: e.timestamp, duration: e.duration, data: e.data }));
    expect(strip(after)).toEqual(strip(before));
    // The web UI's upload: multipart with a `buckets.json` file part.
    const form = new FormData();
    form.append('buckets.json', new Blob([JSON.stringify(exported)], { type: 'application/json' }), 'aw-buckets-export.json');
    const m = await client.req.post('/0/import', form);
    expect(m.status).toBe(200);
    expect(strip(await client.getEvents(bid))).toEqual(strip(before));
  });

  it('errors carry response.data.message', async () => {
    await expect(client.getEvents('nope')).rejects.toMatchObject({
      response: { status: 404, data: { message: "The requested bucket 'nope' does not exist" } },
    });
    await expect(client.query(['2024-05-01T00:00:00Z/2024-05-02T00:00:00Z'], ['RETURN = 1;'])).rejects.toMatchObject({
      response: { status: 501, data: { message: 'query engine not available' } },
    });
  });
});
