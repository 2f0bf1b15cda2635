import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueryService } from '../../src/query/service.js';
import { openWritable } from '../../src/storage/open.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(resultCacheBytes?: number) {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'q.db');
  const db = openWritable(file);
  db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES ('b', 't', 'c', 'h', 0)").run();
  const add = (start: number, title: string) =>
    db.prepare('INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (1, ?, ?, ?)').run(start * 1e6, (start + 5) * 1e6, JSON.stringify({ title }));
  add(0, 'first');
  const svc = createQueryService({ dbFile: file, threads: 1, resultCacheBytes });
  cleanups.push(tmp.cleanup, () => db.close(), () => svc.close());
  return { svc, add };
}
const ask = { timeperiods: ['1970-01-01T00:00:00Z/1970-01-02T00:00:00Z'], query: ['RETURN = query_bucket("b");'] };
const titles = (r: unknown[]) => (r[0] as { data: { title: string } }[]).map((e) => e.data.title).sort();

describe('recent query results', () => {
  it('answer the same request again while nothing was written, and never after a write', async () => {
    const { svc, add } = setup();
    const first = await svc.run(ask);
    expect(await svc.run(ask)).toEqual(first);
    // Answered again without a worker.
    expect(svc.stats()).toMatchObject({ ran: 1, cached: 1 });
    add(100, 'second');
    const after = await svc.run(ask);
    expect(titles(after)).toEqual(['first', 'second']);
    expect(svc.stats()).toMatchObject({ ran: 2, cached: 1 });
    // Another request is its own entry.
    const other = { ...ask, query: ['RETURN = limit_events(query_bucket("b"), 1);'] };
    expect((await svc.run(other))[0]).toHaveLength(1);
    expect(await svc.runJson(ask)).toBe(JSON.stringify(after));
    expect(svc.stats()).toMatchObject({ ran: 3, cached: 2 });
  });

  it('are not kept with a budget of 0, nor for queries that print', async () => {
    const none = setup(0).svc;
    await none.run(ask);
    await none.run(ask);
    expect(none.stats()).toMatchObject({ ran: 2, cached: 0 });
    const { svc } = setup();
    const printing = { ...ask, query: ['print("hello");', 'RETURN = query_bucket("b");'] };
    await svc.run(printing);
    await svc.run(printing);
    expect(svc.stats()).toMatchObject({ ran: 2, cached: 0 });
  });
});
