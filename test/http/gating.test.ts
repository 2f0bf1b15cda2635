import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketBody, startServer, type Harness } from './harness.js';

describe('CORS, Host header, content types, slashes (loopback, no api key)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer({ cors: ['https://allowed.example'], corsRegex: ['https://[a-z]+\\.corp\\.example'] });
    await h.req('POST', '/api/0/buckets/b', { json: bucketBody() });
  });
  afterAll(async () => {
    await h.stop();
  });

  const withOrigin = (origin: string, m = 'GET', p = '/api/0/buckets/', extra: Record<string, string> = {}) =>
    h.req(m, p, { headers: { Origin: origin, ...extra } });

  it('echoes allowed origins (own port, configured, extensions), never *', async () => {
    const allowed = [
      `http://127.0.0.1:${h.port}`, `http://localhost:${h.port}`, 'https://allowed.example', 'https://team.corp.example',
      'chrome-extension://nglaklhklhcoonedhgnpgddginnjdadi', 'moz-extension://0b5e6c4c-1234-4b2a-9a7e-6f0e2b3c4d5e',
    ];
    for (const o of allowed) {
      const r = await withOrigin(o);
      expect(r.status, o).toBe(200);
      expect(r.headers['access-control-allow-origin'], o).toBe(o);
    }
  });

  it('refuses other origins with 403 and no CORS headers (regexes are anchored)', async () => {
    const denied = [
      'https://evil.example', 'http://127.0.0.1:1', 'null', 'http://127.0.0.1:27180',
      'chrome-extension://otherextensionid', 'https://evil.example/moz-extension://x', 'https://team.corp.example.evil.com',
      `http://127.0.0.1:${h.port}.evil.com`,
    ];
    for (const o of denied) {
      const r = await withOrigin(o);
      expect(r.status, o).toBe(403);
      expect(r.headers['access-control-allow-origin'], o).toBeUndefined();
      expect(typeof r.body.message).toBe('string');
    }
    // A denied cross-origin write changes nothing.
    const w = await h.req('POST', '/api/0/buckets/evil', { json: bucketBody(), headers: { Origin: 'https://evil.example' } });
    expect(w.status).toBe(403);
    expect((await h.req('GET', '/api/0/buckets/evil')).status).toBe(404);
  });

  it('answers preflights with 200 on any path, with methods and the asked headers', async () => {
    const r = await withOrigin(`http://localhost:${h.port}`, 'OPTIONS', '/api/0/buckets/b/heartbeat', {
      'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, authorization',
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(`http://localhost:${h.port}`);
    expect(r.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(r.headers['access-control-allow-headers']).toBe('content-type, authorization');
    expect((await h.req('OPTIONS', '/whatever/path')).status).toBe(200);
  });

  it('never allows CORS on the control API, even for allowed origins; only the exact own origin passes', async () => {
    // Host is 127.0.0.1:<port>: localhost:<port> is an allowed CORS origin, but not this page's origin.
    for (const o of [`http://localhost:${h.port}`, 'https://allowed.example', 'moz-extension://x', `http://127.0.0.1:${h.port + 1}`]) {
      const r = await withOrigin(o, 'GET', '/api/control/status');
      expect(r.status, o).toBe(403);
      expect(r.headers['access-control-allow-origin'], o).toBeUndefined();
    }
    const pre = await withOrigin(`http://127.0.0.1:${h.port}`, 'OPTIONS', '/api/control/stop');
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    // The daemon's own page gets through the gate (no control handler here: 404), still without CORS headers.
    const own = await withOrigin(`http://127.0.0.1:${h.port}`, 'GET', '/api/control/status');
    expect(own.status).toBe(404);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('checks the Host header when bound to 127.0.0.1', async () => {
    for (const host of ['127.0.0.1', `127.0.0.1:${h.port}`, 'localhost:5600', 'LOCALHOST']) {
      expect((await h.req('GET', '/api/0/info', { headers: { Host: host } })).status, host).toBe(200);
    }
    for (const host of ['example.com', '192.168.0.1:5600', '[::1]:5600', '127.0.0.1.evil.com']) {
      const r = await h.req('GET', '/api/0/info', { headers: { Host: host } });
      expect(r.status, host).toBe(400);
      expect(r.body).toEqual({ message: 'Host header is invalid' });
    }
  });

  it('rejects a request without any Host header', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port: h.port, path: '/api/0/info', setHost: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      r.on('error', reject);
      r.end();
    });
    expect(status).toBe(400);
  });

  it('requires application/json on JSON POST routes (415), parameters allowed', async () => {
    const writes: [string, unknown][] = [
      ['/api/0/buckets/ct', bucketBody()],
      ['/api/0/buckets/b/events', [{ timestamp: '2024-05-01T10:00:00Z', data: {} }]],
      ['/api/0/buckets/b/heartbeat?pulsetime=1', { timestamp: '2024-05-01T10:00:00Z', data: {} }],
      ['/api/0/settings/ct', 'x'],
      ['/api/0/query/', { timeperiods: [], query: [] }],
      ['/api/0/import', { buckets: {} }],
    ];
    for (const [p, body] of writes) {
      for (const ct of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
        const headers: Record<string, string> = ct ? { 'Content-Type': ct } : {};
        const r = await h.req('POST', p, { body: JSON.stringify(body), headers });
        expect(r.status, `${p} ${ct}`).toBe(415);
      }
    }
    expect((await h.req('GET', '/api/0/buckets/ct')).status).toBe(404);
    expect((await h.req('GET', '/api/0/buckets/b/events/count')).body).toBe(0);
    expect((await h.req('GET', '/api/0/settings/ct')).body).toBe(null);
    const ok = await h.req('POST', '/api/0/buckets/ct', { json: bucketBody(), headers: { 'Content-Type': 'Application/JSON; charset=utf-8' } });
    expect(ok.status).toBe(200);
  });

  it('413 for oversized JSON bodies', async () => {
    const r = await h.req('POST', '/api/0/settings/big', {
      body: 'x', headers: { 'Content-Type': 'application/json', 'Content-Length': String(64 * 1024 * 1024) },
    }).catch(() => ({ status: 413 }));
    expect(r.status).toBe(413);
  });

  it('accepts trailing and doubled slashes on every route', async () => {
    for (const p of ['/api/0/buckets', '/api/0/buckets/', '//api/0/buckets/', '/api//0///buckets//']) {
      const r = await h.req('GET', p);
      expect(r.status, p).toBe(200);
      expect(r.body.b, p).toBeDefined();
    }
    for (const p of ['/api/0/info/', '/api/0/buckets/b/', '/api/0/buckets/b/events/', '/api/0/buckets/b/events/count/', '/api/0/settings/', '/api/0/export/', '/api/0/buckets/b/export/']) {
      expect((await h.req('GET', p)).status, p).toBe(200);
    }
    expect((await h.req('POST', '/api/0/buckets/b/heartbeat/?pulsetime=1', { json: { timestamp: '2024-05-01T10:00:00Z', data: {} } })).status).toBe(200);
    expect((await h.req('POST', '/api/0/query', { json: {} })).status).toBe(501);
  });

  it('serves HEAD like GET without a body', async () => {
    const r = await h.req('HEAD', '/api/0/info');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });
});

describe('API key', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer({
      apiKey: 's3cret',
      control: async (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
        return true;
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });
  const auth = (v: string) => ({ headers: { Authorization: v } });

  it('401 without or with a wrong key on every /api/ path, including // and percent-encoded variants', async () => {
    for (const p of ['/api/0/buckets/', '//api/0/buckets/', '/%61pi/0/buckets/', '/api/0/settings', '/api/0/export', '/api/0/info/x', '/api/1/other']) {
      for (const a of [undefined, 'Bearer wrong', 'bearer s3cret', 'Bearer  s3cret', 's3cret', 'Basic czNjcmV0']) {
        const r = await h.req('GET', p, a ? auth(a) : {});
        expect(r.status, `${p} ${a}`).toBe(401);
        expect(r.body.message).toBe("Missing or invalid API key. Set 'Authorization: Bearer <key>' header.");
      }
    }
    const w = await h.req('POST', '/api/0/buckets/x', { json: bucketBody() });
    expect(w.status).toBe(401);
  });

  it('passes with the right key; /api/0/info, OPTIONS and non-API paths are exempt', async () => {
    expect((await h.req('GET', '/api/0/buckets/', auth('Bearer s3cret'))).status).toBe(200);
    expect((await h.req('POST', '/api/0/buckets/x', { json: bucketBody(), headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await h.req('GET', '/api/0/info')).status).toBe(200);
    expect((await h.req('GET', '/api/0/info/')).status).toBe(200);
    expect((await h.req('OPTIONS', '/api/0/buckets/')).status).toBe(200);
    expect((await h.req('GET', '/index.html')).status).toBe(404);
  });

  it('leaves the control API to its own token (the CLI sends that one, not the API key)', async () => {
    const r = await h.req('GET', '/api/control/status', auth('Bearer control-token'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ auth: 'Bearer control-token' });
  });
});

describe('bound to 0.0.0.0: no Host check; testing mode origins; control hook', () => {
  let h: Harness;
  const seen: string[] = [];
  beforeAll(async () => {
    h = await startServer({
      host: '0.0.0.0',
      testing: true,
      control: async (_req, res, path) => {
        seen.push(path);
        if (path !== '/api/control/status') return false;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
        return true;
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('accepts any Host header', async () => {
    expect((await h.req('GET', '/api/0/info', { headers: { Host: 'example.com' } })).status).toBe(200);
  });

  it('testing mode: "testing": true and the dev-server and any chrome-extension origins', async () => {
    expect((await h.req('GET', '/api/0/info')).body.testing).toBe(true);
    for (const o of ['http://127.0.0.1:27180', 'http://localhost:27180', 'chrome-extension://abcdef']) {
      const r = await h.req('GET', '/api/0/info', { headers: { Origin: o } });
      expect(r.headers['access-control-allow-origin'], o).toBe(o);
    }
  });

  it('passes /api/control/ paths (normalised) to the control handler; false → 404', async () => {
    const r = await h.req('GET', '//api/control/status/');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
    expect((await h.req('POST', '/api/control/nothing')).status).toBe(404);
    expect(seen).toEqual(['/api/control/status', '/api/control/nothing']);
  });
});
