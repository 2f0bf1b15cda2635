import { describe, expect, it } from 'vitest';
import { runQuery, memorySource } from '../../src/query/service.js';
import { warmUpRequest, warmUpSteps } from '../../src/query/warm.js';
import { parseTimestamp } from '../../src/model/time.js';

const t = (s: string) => parseTimestamp(s);
const ev = (ts: string, dur: number, data: Record<string, unknown>) => ({ id: null, timestamp: t(ts), duration: dur * 1e6, data });

describe('warm-up request', () => {
  it('is nothing for an empty database', () => {
    expect(warmUpRequest([], '2024-05-01T00:00:00Z/2024-05-02T00:00:00Z')).toBeNull();
  });

  it("runs the web UI's activity query per host and loads every other bucket, as one valid request", () => {
    const buckets = [
      { id: 'aw-watcher-window_a', type: 'currentwindow', hostname: 'a' },
      { id: 'aw-watcher-afk_a', type: 'afkstatus', hostname: 'a' },
      { id: 'aw-watcher-web-firefox_a', type: 'web.tab.current', hostname: 'a' },
      { id: 'aw-watcher-window_b', type: 'currentwindow', hostname: 'b' },
      { id: 'aw-watcher-afk_b', type: 'afkstatus', hostname: 'b' },
      { id: 'aw-stopwatch', type: 'general.stopwatch', hostname: 'unknown' },
    ];
    const body = warmUpRequest(buckets, '2024-05-01T00:00:00Z/2024-05-02T00:00:00Z') as { query: string[] };
    const text = body.query.join('\n');
    for (const b of buckets) expect(text).toContain(`"${b.id}"`);
    expect(text.match(/RETURN =/g)).toHaveLength(1);
    const source = memorySource(
      buckets.map((b) => ({ id: b.id, hostname: b.hostname, events: [ev('2024-05-01T10:00:00Z', 60, b.type === 'afkstatus' ? { status: 'not-afk' } : { app: 'Firefox', title: 'x', url: 'https://a.example/' })] })),
    );
    expect(runQuery(source, body)).toEqual([0]);
  });

  it('as steps: the activity query over the last day first, then every bucket read over the whole period, newest days first, then the activity query over the whole period', () => {
    expect(warmUpSteps([], '2024-05-01T00:00:00Z/2024-05-31T00:00:00Z')).toBeNull();
    const buckets = [
      { id: 'aw-watcher-window_a', type: 'currentwindow', hostname: 'a' },
      { id: 'aw-watcher-afk_a', type: 'afkstatus', hostname: 'a' },
      { id: 'aw-stopwatch', type: 'general.stopwatch', hostname: 'unknown' },
    ];
    const steps = warmUpSteps(buckets, '2024-05-01T00:00:00Z/2024-05-26T00:00:00Z') as { timeperiods: string[]; query: string[] }[];
    expect(steps[0]).toEqual(warmUpRequest(buckets, '2024-05-24T00:00:00Z/2024-05-26T00:00:00Z'));
    const fills = steps.slice(1, -1);
    expect(steps.at(-1)).toEqual(warmUpRequest(buckets, '2024-05-01T00:00:00Z/2024-05-26T00:00:00Z'));
    expect(fills.map((f) => f.timeperiods)).toEqual([
      ['2024-05-16T00:00:00Z/2024-05-26T00:00:00Z'],
      ['2024-05-06T00:00:00Z/2024-05-16T00:00:00Z'],
      ['2024-05-01T00:00:00Z/2024-05-06T00:00:00Z'],
    ]);
    const source = memorySource(buckets.map((b) => ({ id: b.id, hostname: b.hostname, events: [ev('2024-05-10T10:00:00Z', 60, { status: 'not-afk', app: 'x' })] })));
    for (const f of fills) {
      for (const b of buckets) expect(f.query.join('\n')).toContain(`query_bucket("${b.id}")`);
      expect(runQuery(source, f)).toEqual([0]);
    }
    expect(runQuery(source, steps[0]!)).toEqual([0]);
    expect(runQuery(source, steps.at(-1)!)).toEqual([0]);
  });
});
