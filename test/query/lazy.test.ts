import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueryService, type QueryService } from '../../src/query/service.js';
import { openWritable } from '../../src/storage/open.js';
import { startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// This process's threads, as the kernel sees them (query workers are real threads).
const threads = () => fs.readdirSync('/proc/self/task').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function service(lazy: boolean, warmUp?: () => unknown, warmUpPauseMs?: number): QueryService {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'q.db');
  const db = openWritable(file);
  db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES ('b', 't', 'c', 'h', 0)").run();
  db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (1, 0, 5000000, ?)').run(JSON.stringify({ k: 'v' }));
  db.close();
  const svc = createQueryService({ dbFile: file, threads: 1, lazy, warmUp, warmUpPauseMs });
  cleanups.push(tmp.cleanup, () => svc.close());
  return svc;
}
const ask = { timeperiods: ['1970-01-01T00:00:00Z/1970-01-02T00:00:00Z'], query: ['RETURN = query_bucket("b");'] };

describe('a lazy query service', () => {
  it('starts no worker thread until prepare(), then one, with its warm-up', async () => {
    const before = threads();
    let warmed = 0;
    const svc = service(true, () => (warmed++, ask));
    await sleep(500);
    expect(threads()).toBe(before);
    expect(warmed).toBe(0);
    svc.prepare();
    await waitFor('a worker thread', () => threads() > before);
    expect(warmed).toBe(1);
    svc.prepare(); // once is enough
    expect(warmed).toBe(1);
    expect(await svc.run(ask)).toEqual([[{ id: 1, timestamp: '1970-01-01T00:00:00Z', duration: 5, data: { k: 'v' } }]]);
  });

  it('lets a question go before the warm-up steps still waiting, then pauses, then finishes them', async () => {
    const steps = [1, 2, 3, 4].map((n) => ({ ...ask, query: [`RETURN = ${n};`] }));
    const svc = service(true, () => steps, 800);
    svc.prepare();
    // Asked while the first step runs: only that one step is finished when the answer comes.
    expect(await svc.run({ ...ask, query: ['RETURN = "question";'] })).toEqual(['question']);
    expect(svc.stats()).toMatchObject({ ran: 1, warmUpSteps: 1 });
    // The page that asked draws its answer now: no step starts for a while (a step takes a few ms).
    await sleep(300);
    expect(svc.stats().warmUpSteps).toBe(1);
    await waitFor('the remaining warm-up steps', () => svc.stats().warmUpSteps === 4);
  });

  it('answers a first query without prepare()', async () => {
    const svc = service(true);
    const [events] = (await svc.run(ask)) as { duration: number }[][];
    expect(events!.map((e) => e.duration)).toEqual([5]);
  });
});

describe('the daemon\'s query workers', () => {
  it('start at the first GET, not with the daemon nor for writes', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const daemon = await startInProcess(tmp.dir);
    cleanups.push(() => daemon.stop());
    const api = `http://127.0.0.1:${daemon.port}/api/0`;
    await sleep(500);
    const before = threads();
    const post = (p: string, body: unknown) => fetch(`${api}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/buckets/lazy', { client: 'c', type: 't', hostname: 'h' })).status).toBe(200);
    expect((await post('/buckets/lazy/heartbeat?pulsetime=1', { timestamp: '2026-01-01T00:00:00Z', duration: 0, data: {} })).status).toBe(200);
    await sleep(500);
    expect(threads()).toBe(before);
    expect((await fetch(`${api}/buckets/`)).status).toBe(200);
    await waitFor('a query worker', () => threads() > before);
  });
});
