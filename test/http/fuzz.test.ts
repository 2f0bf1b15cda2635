import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { bucketBody, startServer, type Harness, type Res } from './harness.js';

/** Small seeded PRNG (mulberry32): a failing run can be replayed with the same seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const N = 3000;

describe(`fuzz (seed ${SEED}): malformed requests never yield a 5xx nor change stored data`, () => {
  let h: Harness;
  beforeAll(async () => {
    // A query service that validates like a real one would: bad input is a 400, never a 5xx.
    h = await startServer({
      query: {
        async runJson(body: unknown) {
          const b = body as { timeperiods?: unknown; query?: unknown } | null;
          if (typeof b !== 'object' || b === null || !Array.isArray(b.timeperiods) || !Array.isArray(b.query)) {
            throw new InputError('query body must have lists timeperiods and query', 400);
          }
          return JSON.stringify(b.timeperiods.map(() => []));
        },
      },
    });
    await h.req('POST', '/api/0/buckets/keep', { json: bucketBody() });
    await h.req('POST', '/api/0/buckets/keep/events', {
      json: [1, 2, 3].map((i) => ({ timestamp: `2024-05-01T10:0${i}:00Z`, duration: i, data: { i, s: 'é"\\' } })),
    });
    await h.req('POST', '/api/0/buckets/keep/heartbeat?pulsetime=5', { json: { timestamp: '2024-05-01T10:04:00Z', data: { hb: 1 } } });
    await h.req('POST', '/api/0/settings/theme', { json: 'dark' });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('survives', async () => {
    const before = (await h.req('GET', '/api/0/export')).text;
    const settingsBefore = (await h.req('GET', '/api/0/settings')).text;
    const r = rng(SEED);

    const validDocs = [
      JSON.stringify([{ timestamp: '2024-05-01T11:00:00Z', duration: 1, data: { a: 1 } }]),
      JSON.stringify(bucketBody({ events: [{ timestamp: '2024-05-01T11:00:00Z', data: {} }] })),
      JSON.stringify({ timestamp: '2024-05-01T11:00:00Z', duration: 0, data: { hb: 1 } }),
      JSON.stringify({ buckets: { x: { id: 'fz', type: 't', client: 'c', hostname: 'h', events: [{ timestamp: '2024-05-01T11:00:00Z', data: {} }] } } }),
      before,
    ];
    // Well-formed JSON of a shape no write endpoint accepts as a change.
    const wrongShapes: unknown[] = [
      null, 5, -1.5, 'str', true, {}, [null], [5], ['x'], [[]], [{}], { data: {} },
      [{ timestamp: '2024-05-01T11:00:00', data: {} }], [{ timestamp: '2024-05-01T11:00:00Z' }],
      [{ timestamp: '2024-05-01T11:00:00Z', data: [] }], [{ timestamp: '2024-05-01T11:00:00Z', data: {}, duration: 'x' }],
      [{ timestamp: '2024-13-01T11:00:00Z', data: {} }], [{ timestamp: '2024-05-01T11:00:00Z', data: {}, duration: -1 }],
      [{ timestamp: 12345, data: {} }], [{ timestamp: '2024-05-01T11:00:00Z', data: {}, id: 'x' }],
      [{ timestamp: '2024-05-01T11:00:00Z', data: {}, id: 1.5 }], [{ timestamp: '2024-05-01T11:00:00Z', data: {}, duration: 1e400 }],
      { client: 'c', type: 't' }, { client: 1, type: 't', hostname: 'h' }, { client: 'c', type: 't', hostname: 'h', data: 5 },
      { client: 'c', type: 't', hostname: 'h', created: 'nope' }, { client: 'c', type: 't', hostname: 'h', events: [{ data: {} }] },
      { buckets: [] }, { buckets: { a: 5 } }, { buckets: { a: { id: 'fz2', type: 't' } } }, { buckets: { a: { id: 'a/b', type: 't', client: 'c', hostname: 'h' } } },
      { buckets: { a: { id: 'fz3', type: 't', client: 'c', hostname: 'h', events: 'x' } } },
    ];
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const junkIds = ['', '%', '%zz', '%E0%A4%A', '..', 'x'.repeat(300), 'nope', 'a%2Fb', '%00', 'count', '%F0%9F%92%A5', 'keep%20'];
    const junkEids = ['abc', '-1', '0', '1.5', '1e3', '99999999999999999999', '999999', '%', 'NaN'];
    const badPulse = ['', 'abc', '-1', 'NaN', 'Infinity', '1e400', '0x10'];

    const body = (jsonOnlySyntaxErrors: boolean): string | Buffer => {
      const k = r.int(jsonOnlySyntaxErrors ? 2 : 5);
      if (k === 0) {
        const doc = r.pick(validDocs);
        return doc.slice(0, r.int(doc.length)); // a proper prefix of an object/array is never valid JSON
      }
      if (k === 1) return Buffer.from(Array.from({ length: 2 + r.int(64) }, () => r.int(256))).toString('latin1') + '{';
      if (k === 2) return JSON.stringify(r.pick(wrongShapes));
      if (k === 3) return r.next() < 0.5 ? deep(10 + r.int(200_000)) : `[{"timestamp":"2024-05-01T11:00:00Z","data":{"a":${deep(1 + r.int(100_000))}}}`.slice(0, -1);
      return Buffer.from(Array.from({ length: r.int(2048) }, () => r.int(256)));
    };
    const contentType = () =>
      r.pick([undefined, 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain',
        'multipart/form-data', 'multipart/form-data; boundary=zz', 'application/x-www-form-urlencoded', '', 'application/json;;;']);

    let done = 0;
    const statuses = new Map<number, number>();
    const one = async (): Promise<void> => {
      const bid = r.next() < 0.5 ? 'keep' : r.pick(junkIds);
      const templates: [string, string, 'syntax' | 'any' | 'none'][] = [
        ['GET', `/api/0/buckets/${bid}/events?start=${r.pick(['x', '2024-05-01T10:00:00', '', '2024-05-01T10:00:00%2B99:00'])}&limit=${r.pick(['-1', 'x', '5', ''])}`, 'none'],
        ['GET', `/api/0/buckets/${bid}/events/${r.pick(junkEids)}`, 'none'],
        ['DELETE', `/api/0/buckets/${bid}/events/${r.pick(junkEids)}`, 'none'],
        ['DELETE', `/api/0/buckets/${r.pick(junkIds)}`, 'none'],
        ['POST', `/api/0/buckets/${bid}`, 'any'],
        ['PUT', `/api/0/buckets/${r.pick(junkIds)}`, 'any'],
        ['POST', `/api/0/buckets/${bid}/events`, 'any'],
        ['POST', `/api/0/buckets/${bid}/heartbeat?pulsetime=${r.pick(badPulse)}`, 'any'],
        ['POST', `/api/0/buckets/${bid}/heartbeat?pulsetime=1`, 'any'],
        ['POST', '/api/0/import', 'any'],
        ['POST', '/api/0/query/', 'any'],
        ['POST', `/api/0/settings/${r.pick(['theme', 'k'.repeat(128), 'new'])}`, 'syntax'],
        ['DELETE', `/api/0/settings/${'k'.repeat(128 + r.int(10))}`, 'none'],
        [r.pick(['PATCH', 'PUT', 'TRACE', 'POST', 'GET']), r.pick(['/api/0/info', '/api/0/export', '/', '/api', '/api/0', '//%2e%2e/etc/passwd', '/api/0/buckets/keep/x/y']), 'any'],
        ['GET', `/api/0/buckets/${bid}/export`, 'none'],
      ];
      const [method, path, bodyKind] = r.pick(templates);
      const headers: Record<string, string> = {};
      const ct = contentType();
      if (ct !== undefined) headers['Content-Type'] = ct;
      if (r.next() < 0.05) headers.Origin = r.pick(['https://evil.example', 'null', 'moz-extension://x']);
      if (r.next() < 0.03) headers.Host = r.pick(['evil.example', '[::1]', '127.0.0.1.nip.io']);
      const b = bodyKind === 'none' ? (r.next() < 0.2 ? body(false) : undefined) : body(bodyKind === 'syntax');
      let res: Res;
      try {
        res = await h.req(method, path, { headers, body: b });
      } catch (err) {
        throw new Error(`request failed: ${method} ${path}: ${(err as Error).message}`);
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const harmlessOk = method === 'GET' || method === 'HEAD' || path.startsWith('/api/0/query') || /\/events\/[^/]*$/.test(path);
      if (res.status >= 500 || (res.status >= 200 && res.status < 300 && !harmlessOk)) {
        // Only reads, the query stub and deletes of absent events (200, as the reference) may succeed.
        const sample = typeof b === 'string' ? b.slice(0, 200) : b?.subarray(0, 50).toString('hex');
        expect.fail(`${method} ${path} (${ct}) → ${res.status} ${res.text.slice(0, 200)}; body: ${sample}`);
      }
      done++;
    };
    // 8 concurrent clients, like a busy web UI plus watchers.
    const lanes = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < N / 8; i++) await one();
    });
    await Promise.all(lanes);
    expect(done).toBe(N);

    // Malformed HTTP on raw sockets.
    for (const raw of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n', '\x00\x01\x02\r\n\r\n']) {
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(h.port, '127.0.0.1', () => s.write(raw));
        let d = '';
        s.on('data', (c) => (d += c.toString()));
        s.on('close', () => resolve(d));
        s.on('error', () => resolve(d));
        s.setTimeout(2000, () => s.destroy());
      });
      expect(reply.slice(0, 12), JSON.stringify(raw)).toMatch(/^(HTTP\/1\.1 4\d\d|)$/);
    }

    expect((await h.req('GET', '/api/0/info')).status).toBe(200);
    expect((await h.req('GET', '/api/0/export')).text).toBe(before);
    expect((await h.req('GET', '/api/0/settings')).text).toBe(settingsBefore);
    // Most requests must reach validation, not just bounce off gating.
    expect((statuses.get(400) ?? 0) + (statuses.get(422) ?? 0)).toBeGreaterThan(N / 3);
  });
});
