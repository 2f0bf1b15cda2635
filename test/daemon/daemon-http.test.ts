import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { activityQuery } from '../../src/query/webui.js';
import { startInProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The daemon's HTTP routes beyond the REST contract tests: the query engine as the web UI reaches
// it (POST /api/0/query/), and the log.
let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
let base: string;
const json = { 'content-type': 'application/json' };
const post = (p: string, body: unknown) => fetch(`${base}${p}`, { method: 'POST', headers: json, body: JSON.stringify(body) });

beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir, (c) => (c.query.timeout_ms = 20_000));
  base = `http://127.0.0.1:${daemon.port}`;
  await post('/api/0/buckets/win', { client: 'w', type: 'currentwindow', hostname: 'h' });
  await post('/api/0/buckets/afk', { client: 'a', type: 'afkstatus', hostname: 'h' });
  await post('/api/0/buckets/hb', { client: 'x', type: 'test', hostname: 'h' });
  // 10:00–10:30 editor, 10:30–11:00 terminal; away 10:20–10:40.
  await post('/api/0/buckets/win/events', [
    { timestamp: '2024-05-01T10:00:00Z', duration: 1800, data: { app: 'Code', title: 'main.ts' } },
    { timestamp: '2024-05-01T10:30:00Z', duration: 1800, data: { app: 'Terminal', title: 'bash' } },
  ]);
  await post('/api/0/buckets/afk/events', [
    { timestamp: '2024-05-01T10:00:00Z', duration: 1200, data: { status: 'not-afk' } },
    { timestamp: '2024-05-01T10:20:00Z', duration: 1200, data: { status: 'afk' } },
    { timestamp: '2024-05-01T10:40:00Z', duration: 1200, data: { status: 'not-afk' } },
  ]);
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

describe('POST /api/0/query/ on the daemon', () => {
  it("answers the web UI's activity query with the right durations", async () => {
    const r = await post('/api/0/query/', {
      timeperiods: ['2024-05-01T00:00:00+00:00/2024-05-02T00:00:00+00:00'],
      query: activityQuery({ windowBucket: 'win', afkBucket: 'afk' }),
    });
    expect(r.status).toBe(200);
    const [period] = (await r.json()) as { window: { duration: number; app_events: { duration: number; data: { app: string } }[] } }[];
    // Not-afk time on each app: Code 10:00–10:20 = 1200 s, Terminal 10:40–11:00 = 1200 s.
    expect(period!.window.duration).toBe(2400);
    expect(Object.fromEntries(period!.window.app_events.map((e) => [e.data.app, e.duration]))).toEqual({ Code: 1200, Terminal: 1200 });
  });

  it('answers bad queries with 400 and a message naming the cause', async () => {
    const r = await post('/api/0/query/', { timeperiods: ['2024-05-01T00:00:00Z/2024-05-02T00:00:00Z'], query: ['RETURN = nosuchfn(1);'] });
    expect(r.status).toBe(400);
    expect((await r.json()).message).toMatch(/nosuchfn/);
    expect((await post('/api/0/query/', { timeperiods: ['yesterday'], query: ['RETURN = 1;'] })).status).toBe(400);
  });

  it('keeps acknowledging heartbeats while a long query runs', async () => {
    const heavy = ['a = [1];', ...Array.from({ length: 20 }, () => 'a = a + a;'), ...Array.from({ length: 300 }, () => 'x = contains(a, "z");'), 'RETURN = 1;'];
    let queryDone = false;
    const q = post('/api/0/query/', { timeperiods: ['2024-05-01T00:00:00Z/2024-05-02T00:00:00Z'], query: [heavy.join('')] }).then((r) => {
      queryDone = true;
      return r.status;
    });
    await new Promise((r) => setTimeout(r, 100));
    const acked: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await post('/api/0/buckets/hb/heartbeat?pulsetime=2', { timestamp: new Date(Date.UTC(2024, 4, 1, 12, 0, i)).toISOString(), data: { n: i % 2 } });
      if (r.status === 200) acked.push(i);
    }
    // All 50 were durably acknowledged before the query (running on a worker thread) finished.
    expect(queryDone).toBe(false);
    expect(acked).toHaveLength(50);
    expect(await q).toBe(200);
    expect(await (await fetch(`${base}/api/0/buckets/hb/events/count`)).json()).toBe(50);
  });
});

describe('GET /api/0/log', () => {
  it('serves the daemon log newest first', async () => {
    const logFile = path.join(tmp.dir, 'logs', 'sundial-testing.log');
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.writeFileSync(logFile, ['{"level":30,"msg":"first"}', '{"level":30,"msg":"second"}', 'partial {'].join('\n'));
    const r = await fetch(`${base}/api/0/log`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { msg: string }[]).map((e) => e.msg)).toEqual(['second', 'first']);
  });
});
