import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startInProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

/** Serving a static UI folder (config ui.static_dir) and the control session the daemon's own pages get. */
describe('static UI and control sessions', () => {
  let tmp: ReturnType<typeof tempDir>;
  let daemon: Daemon;
  let base: string;
  let own: string;
  const ui = () => path.join(tmp.dir, 'other-ui');

  beforeAll(async () => {
    tmp = tempDir();
    fs.mkdirSync(path.join(ui(), 'static', 'css'), { recursive: true });
    fs.mkdirSync(path.join(ui(), 'assets'), { recursive: true });
    fs.writeFileSync(path.join(ui(), 'index.html'), '<!doctype html><title>other ui</title>');
    fs.writeFileSync(path.join(ui(), 'static', 'css', 'app.css'), 'body{}');
    fs.writeFileSync(path.join(ui(), 'assets', 'app-1a2b3c.js'), 'console.log(1)');
    fs.writeFileSync(path.join(ui(), 'logo.svg'), '<svg/>');
    fs.writeFileSync(path.join(tmp.dir, 'secret.txt'), 'not for the web');
    daemon = await startInProcess(tmp.dir, (c) => (c.ui.static_dir = ui()));
    base = `http://127.0.0.1:${daemon.port}`;
    own = base;
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp?.cleanup();
  });

  it('ui.static_dir serves that folder at / with content types, caching and an SPA fallback', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('other ui');
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const etag = index.headers.get('etag')!;
    expect((await fetch(`${base}/`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    const css = await fetch(`${base}/static/css/app.css`);
    expect([css.status, css.headers.get('content-type'), css.headers.get('cache-control')]).toEqual([200, 'text/css; charset=utf-8', 'no-cache']);
    const js = await fetch(`${base}/assets/app-1a2b3c.js`);
    expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/logo.svg`)).headers.get('content-type')).toBe('image/svg+xml');
    expect(await (await fetch(`${base}/some/view/path`)).text()).toContain('other ui');
    expect((await fetch(`${base}/missing.png`)).status).toBe(404);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    // Writes to UI paths are not served (and not routed anywhere).
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
  });

  it('never serves a file outside the folder', async () => {
    for (const p of ['/..%2Fsecret.txt', '/static/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt', '/static/%5C..%5C..%5Csecret.txt', '/../secret.txt']) {
      const r = await fetch(base + p);
      expect(await r.text(), p).not.toContain('not for the web');
    }
  });

  it('a control session only for the daemon\'s own origin; the cookie only works from that origin', async () => {
    const ask = (headers: Record<string, string>) => fetch(`${base}/api/control/session`, { method: 'POST', headers });
    expect((await ask({})).status).toBe(403); // no Origin: not a page of ours
    expect((await ask({ Origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await ask({ Origin: own, 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    const r = await ask({ Origin: own, 'Sec-Fetch-Site': 'same-origin' });
    expect(r.status).toBe(200);
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^sundial_control_${daemon.port}=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=/api/control$`));
    const cookie = setCookie.split(';')[0]!;

    const status = (headers: Record<string, string>) => fetch(`${base}/api/control/status`, { headers: { Cookie: cookie, ...headers } });
    expect((await status({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await status({ 'Sec-Fetch-Site': 'same-origin', Origin: own })).status).toBe(200);
    // Another port on the same host is "same-site" to a browser, and sends the cookie: refused.
    expect((await status({ 'Sec-Fetch-Site': 'same-site' })).status).toBe(401);
    expect((await status({ 'Sec-Fetch-Site': 'cross-site' })).status).toBe(401);
    expect((await status({ Origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await status({})).status).toBe(401); // a cookie alone proves nothing
    expect((await fetch(`${base}/api/control/status`, { headers: { Cookie: `sundial_control_${daemon.port}=forged`, 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(401);
    // Another daemon's cookie (another port) is not ours.
    const other = cookie.replace(`_${daemon.port}=`, `_${daemon.port! + 1}=`);
    expect((await fetch(`${base}/api/control/status`, { headers: { Cookie: other, 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(401);

    const act = (headers: Record<string, string>) => fetch(`${base}/api/control/children/queue/restart`, { method: 'POST', headers: { Cookie: cookie, ...headers } });
    expect((await act({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(401); // writes need Origin too
    expect((await act({ 'Sec-Fetch-Site': 'same-origin', Origin: own })).status).toBe(200);
    // localhost works as well when it is the page's own origin.
    const lh = `http://localhost:${daemon.port}`;
    const viaLocalhost = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: daemon.port, method: 'POST', path: '/api/control/session', headers: { Host: `localhost:${daemon.port}`, Origin: lh } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(viaLocalhost).toBe(200);
  });
});
