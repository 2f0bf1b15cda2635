import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import type { Daemon } from '../../src/daemon.js';
import { link, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// Privacy through the whole daemon: REST and bus writes alike pass the writer's gate.
let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
let base: string;
let token: string;

const json = { 'content-type': 'application/json' };
const post = (p: string, body: unknown) => fetch(`${base}${p}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
const control = async (action: string, body: unknown) => {
  const r = await fetch(`${base}/api/control/${action}`, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const events = async (bucket: string) => (await (await fetch(`${base}/api/0/buckets/${bucket}/events`)).json()) as { data: Record<string, unknown> }[];
const heartbeat = (bucket: string, ts: string, data: object) => post(`/api/0/buckets/${bucket}/heartbeat?pulsetime=1`, { timestamp: ts, duration: 0, data });

beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir, (c) => {
    c.privacy.rules = [
      { field: 'title', pattern: 'bank', action: 'redact' },
      { field: 'app', pattern: '^secret-app$', action: 'drop' },
    ];
  });
  base = `http://127.0.0.1:${daemon.port}`;
  token = fs.readFileSync(path.join(tmp.dir, 'control-token-testing'), 'utf8').trim();
  for (const [id, type] of [['win', 'currentwindow'], ['web', 'web.tab.current']]) {
    expect((await post(`/api/0/buckets/${id}`, { client: 't', type, hostname: 'h' })).status).toBe(200);
  }
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

describe('privacy in the daemon', () => {
  it('redacts and drops by rule over REST, and drops incognito tabs', async () => {
    await heartbeat('win', '2024-05-01T10:00:00Z', { app: 'firefox', title: 'My Bank – login' });
    await heartbeat('win', '2024-05-01T10:00:05Z', { app: 'secret-app', title: 'x' });
    await post('/api/0/buckets/win/events', [{ timestamp: '2024-05-01T10:00:10Z', duration: 1, data: { app: 'secret-app', title: 'y' } }]);
    await post('/api/0/buckets/web/events', [
      { timestamp: '2024-05-01T10:00:00Z', duration: 1, data: { url: 'https://a.example', title: 'a', incognito: true, audible: false } },
      { timestamp: '2024-05-01T10:00:02Z', duration: 1, data: { url: 'https://b.example', title: 'b', incognito: false, audible: false } },
    ]);
    expect((await events('win')).map((e) => e.data)).toEqual([{ app: 'firefox', title: '[redacted]' }]);
    expect((await events('web')).map((e) => e.data.url)).toEqual(['https://b.example']);
  });

  it('applies the same rules to writes that come over the bus', async () => {
    const l = link(daemon.bus);
    const hb = (data: object, ts: string) => l.request<Reply>(SUBJECTS.heartbeat, { bucket: 'win', pulsetime: 1, event: { timestamp: ts, data } });
    expect((await hb({ app: 'secret-app', title: 'z' }, '2024-05-01T11:00:00Z')).ok).toBe(true);
    expect((await hb({ app: 'term', title: 'bank statement.pdf' }, '2024-05-01T11:00:05Z')).ok).toBe(true);
    await waitFor('bus write stored', async () => (await events('win')).length === 2);
    expect((await events('win')).map((e) => e.data)).toEqual([{ app: 'term', title: '[redacted]' }, { app: 'firefox', title: '[redacted]' }]);
    await l.close();
  });

  it('stores nothing while paused, and records again after resume', async () => {
    expect((await control('pause', { minutes: 30 })).body).toMatchObject({ paused: true, until: expect.any(Number) });
    const status = await (await fetch(`${base}/api/control/status`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(status.paused.paused).toBe(true);
    expect((await heartbeat('win', '2024-05-01T12:00:00Z', { app: 'paused', title: 'p' })).status).toBe(200);
    await post('/api/0/buckets/win/events', [{ timestamp: '2024-05-01T12:00:01Z', duration: 1, data: { app: 'paused', title: 'q' } }]);
    expect((await events('win')).some((e) => e.data.app === 'paused')).toBe(false);
    expect((await control('pause', { minutes: -3 })).status).toBe(400);
    expect((await control('resume', {})).body).toEqual({ paused: false, until: null });
    await heartbeat('win', '2024-05-01T12:00:02Z', { app: 'resumed', title: 'r' });
    expect((await events('win')).some((e) => e.data.app === 'resumed')).toBe(true);
  });

  it('forgets exactly the matching events; dry run only counts', async () => {
    await post('/api/0/buckets/win/events', [
      { timestamp: '2024-05-02T09:00:00Z', duration: 5, data: { app: 'editor', title: 'Project X plan' } },
      { timestamp: '2024-05-02T09:00:05Z', duration: 5, data: { app: 'editor', title: 'project x notes' } },
      { timestamp: '2024-05-02T09:00:10Z', duration: 5, data: { app: 'editor', title: 'Project Y' } },
    ]);
    await post('/api/0/buckets/web/events', [{ timestamp: '2024-05-02T09:00:00Z', duration: 5, data: { url: 'https://x.example/project-x', title: 'Project X wiki', incognito: false } }]);
    const before = { win: await events('win'), web: await events('web') };
    const dry = await control('forget', { match: 'project.x', mode: 'regex', dry_run: true });
    expect(dry.body).toEqual({ dry_run: true, matched: 3, buckets: { win: 2, web: 1 } });
    expect(await events('win')).toEqual(before.win);
    const onlyWin = await control('forget', { match: 'project.x', mode: 'regex', bucket: 'win' });
    expect(onlyWin.body).toMatchObject({ deleted: 2, buckets: { win: 2 } });
    const titles = (await events('win')).map((e) => e.data.title);
    expect(titles).toContain('Project Y');
    expect(titles.filter((t) => /project.x/i.test(String(t)))).toEqual([]);
    expect((await events('win')).length).toBe(before.win.length - 2);
    expect(await events('web')).toEqual(before.web);
    expect((await control('forget', { match: '(', mode: 'regex' })).status).toBe(400);
    expect((await control('forget', { match: 'x', mode: 'fuzzy' })).status).toBe(400);
    expect((await control('forget', { match: 'x', bucket: 'nope' })).status).toBe(404);
  });

  it('matches the whole value by default, a substring or a regex only when asked, in one key when named', async () => {
    await post('/api/0/buckets/win/events', [
      { timestamp: '2024-05-03T09:00:00Z', duration: 5, data: { app: 'mail', title: 'Inbox' } },
      { timestamp: '2024-05-03T09:00:05Z', duration: 5, data: { app: 'editor', title: 'mail merge.txt' } },
      { timestamp: '2024-05-03T09:00:10Z', duration: 5, data: { app: 'Mail', title: 'Drafts' } },
    ]);
    const count = async (body: object) => (await control('forget', { ...body, dry_run: true })).body.matched;
    expect(await count({ match: 'mail' })).toBe(2); // app "mail" and "Mail", not the title containing it
    expect(await count({ match: 'mail', mode: 'substring' })).toBe(3);
    expect(await count({ match: 'mail', key: 'title', mode: 'substring' })).toBe(1);
    expect(await count({ match: 'mail', key: 'title' })).toBe(0);
    expect(await count({ match: '^(mail|inbox)$', mode: 'regex' })).toBe(2); // one event has both
    // A regex that matches everything still only touches what it matches: nothing else is listed.
    const all = (await control('forget', { match: '.', mode: 'regex', dry_run: true })).body;
    expect(all.matched).toBe((await events('win')).length + (await events('web')).length);
  });
});
