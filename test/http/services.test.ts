import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, Timeout } from '../../src/model/errors.js';
import { bucketBody, startServer, type Harness } from './harness.js';

describe('query service delegation', () => {
  let h: Harness;
  const seen: unknown[] = [];
  beforeAll(async () => {
    h = await startServer({
      query: {
        async runJson(body) {
          seen.push(body);
          const q = (body as { query?: string[] }).query?.[0];
          if (q === 'bad') throw new InputError('ParsingError: unexpected token', 422);
          if (q === 'status') throw new Timeout('query timed out after 5 ms and was stopped');
          if (q === 'crash') throw new Error('EmptyQuery');
          return JSON.stringify([[{ id: null, timestamp: '2024-05-01T08:00:00Z', duration: 1, data: {} }]]);
        },
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('passes the parsed body and returns the result', async () => {
    const body = { timeperiods: ['2024-05-01T00:00:00+02:00/2024-05-02T00:00:00+02:00'], query: ['RETURN = 1;'] };
    const r = await h.req('POST', '/api/0/query/', { json: body });
    expect(r.status).toBe(200);
    expect(r.body).toEqual([[{ id: null, timestamp: '2024-05-01T08:00:00Z', duration: 1, data: {} }]]);
    expect(seen.at(-1)).toEqual(body);
  });

  it('keeps the status and message of query errors; others are 500 with their message', async () => {
    expect(await h.req('POST', '/api/0/query', { json: { query: ['bad'] } })).toMatchObject({ status: 422, body: { message: 'ParsingError: unexpected token' } });
    expect(await h.req('POST', '/api/0/query', { json: { query: ['status'] } })).toMatchObject({ status: 408, body: { message: 'query timed out after 5 ms and was stopped' } });
    expect(await h.req('POST', '/api/0/query', { json: { query: ['crash'] } })).toMatchObject({ status: 500, body: { message: 'EmptyQuery' } });
    expect((await h.req('POST', '/api/0/query', { body: '{', headers: { 'Content-Type': 'application/json' } })).status).toBe(400);
  });
});

describe('writer unavailable', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer();
    await h.req('POST', '/api/0/buckets/b', { json: bucketBody() });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('writes answer 503 with a message; reads still work', async () => {
    await h.writer.close();
    const r = await h.req('POST', '/api/0/buckets/b/heartbeat?pulsetime=1', { json: { timestamp: '2024-05-01T10:00:00Z', data: {} } });
    expect(r.status).toBe(503);
    expect(typeof r.body.message).toBe('string');
    expect((await h.req('POST', '/api/0/settings/x', { json: 1 })).status).toBe(503);
    expect((await h.req('GET', '/api/0/buckets/b/events')).status).toBe(200);
  });
});

describe('close', () => {
  it('lets a request in progress finish, then closes', async () => {
    const h = await startServer();
    const http = await import('node:http');
    const body = JSON.stringify(bucketBody());
    const answer = new Promise<number>((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port: h.port, method: 'POST', path: '/api/0/buckets/late', headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      r.on('error', reject);
      r.write(body.slice(0, 5));
      setTimeout(() => r.end(body.slice(5)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = h.http.close();
    expect(await answer).toBe(200);
    await closing;
    expect(h.reader.bucket('late')).toBeDefined();
    await h.stop();
  });
});

describe('privacy gate in the writer (pause, drop rules)', () => {
  it('a heartbeat or event that is not stored answers 200 with the event and id null', async () => {
    const h = await startServer({}, { rules: [{ field: 'secret', pattern: '.', action: 'drop' }] });
    await h.req('POST', '/api/0/buckets/b', { json: bucketBody() });
    const hb = await h.req('POST', '/api/0/buckets/b/heartbeat?pulsetime=1', { json: { timestamp: '2024-05-01T10:00:00Z', data: { secret: 'x' } } });
    expect(hb.status).toBe(200);
    expect(hb.body).toEqual({ id: null, timestamp: '2024-05-01T10:00:00Z', duration: 0, data: { secret: 'x' } });
    const ins = await h.req('POST', '/api/0/buckets/b/events', { json: [{ timestamp: '2024-05-01T10:00:00Z', data: { secret: 'x' } }, { timestamp: '2024-05-01T11:00:00Z', data: {} }] });
    expect(ins.status).toBe(200);
    expect(ins.body[0].id).toBe(null);
    expect(Number.isInteger(ins.body[1].id)).toBe(true);
    expect((await h.req('GET', '/api/0/buckets/b/events/count')).body).toBe(1);
    await h.stop();
  });
});
