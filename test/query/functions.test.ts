import { describe, expect, it } from 'vitest';
import { EventList } from '../../src/query/event-list.js';
import * as T from '../../src/query/transforms.js';
import { compileRegex } from '../../src/query/regex.js';
import { memorySource } from '../../src/query/source.js';
import { QEvent } from '../../src/query/values.js';
import { E, T0, at, brief, q, qErr } from './helpers.js';

const H = 3600, M = 60;

describe('query_bucket', () => {
  const b = {
    b: [E('09:00', H, { n: 'A' }, 1), E('09:50', 20 * M, { n: 'B' }, 2), E('10:30', 10 * M, { n: 'C' }, 3), E('11:00', 5 * M, { n: 'D' }, 4), E('08:00', 30 * M, { n: 'E' }, 5)],
  };
  it('clips to the period, newest first by original start, touching events with zero duration', () => {
    const r = q('return query_bucket("b");', b, '2000-01-01T10:00:00Z/2000-01-01T11:00:00Z');
    expect(r).toEqual([
      { id: 4, timestamp: '2000-01-01T11:00:00Z', duration: 0, data: { n: 'D' } },
      { id: 3, timestamp: '2000-01-01T10:30:00Z', duration: 600, data: { n: 'C' } },
      { id: 2, timestamp: '2000-01-01T10:00:00Z', duration: 600, data: { n: 'B' } },
      { id: 1, timestamp: '2000-01-01T10:00:00Z', duration: 0, data: { n: 'A' } },
    ]);
  });
  it('equal starts come in ascending id order', () => {
    const r = q('return query_bucket("b");', { b: [E('10:00', 1, {}, 9), E('10:00', 1, {}, 3)] }) as { id: number }[];
    expect(r.map((e) => e.id)).toEqual([3, 9]);
  });
  it('unknown bucket → BucketQueryError', () => {
    expect(qErr('return query_bucket("nope");').message).toMatch(/^BucketQueryError\("Failed to query bucket: NoSuchBucket\(\\"nope\\"\)"\) at line 1, column 8/);
  });
  it('query_bucket_eventcount counts overlapping events', () => {
    expect(q('return query_bucket_eventcount("b");', b, '2000-01-01T10:00:00Z/2000-01-01T11:00:00Z')).toBe(4);
    expect(qErr('return query_bucket_eventcount("x");').message).toMatch(/NoSuchBucket/);
  });
  it('query_bucket_names lists every bucket', () => {
    expect(q('return query_bucket_names();', { b: [], a: [] })).toEqual(['a', 'b']);
  });
});

describe('find_bucket', () => {
  const src = memorySource([
    { id: 'aw-watcher-window_zeta', hostname: 'zeta', events: [] },
    { id: 'aw-watcher-window_alpha', hostname: 'alpha', events: [] },
    { id: 'aw-watcher-window_', hostname: 'x', events: [] },
    { id: 'my-aw-watcher-afk_alpha', hostname: 'alpha', events: [] },
  ]);
  const f = (p: string): unknown => q(p, {}, undefined, src);
  it('exact id wins, else the smallest prefix match (deterministic)', () => {
    expect(f('return find_bucket("aw-watcher-window_");')).toBe('aw-watcher-window_');
    expect(f('return find_bucket("aw-watcher-window_a");')).toBe('aw-watcher-window_alpha');
    expect(f('return find_bucket("aw-watcher-window");')).toBe('aw-watcher-window_');
  });
  it('prefix, not substring; optional hostname must match exactly', () => {
    expect(f('return find_bucket("aw-watcher-window_", "zeta");')).toBe('aw-watcher-window_zeta');
    expect(() => f('return find_bucket("aw-watcher-afk_");')).toThrow(/^BucketQueryError\("Failed to find bucket matching filter 'aw-watcher-afk_'"\)/);
    expect(() => f('return find_bucket("aw-watcher-window_", "ALPHA");')).toThrow(/and hostname 'ALPHA'/);
  });
  it('is usable inside query_bucket', () => {
    expect(f('return query_bucket(find_bucket("aw-watcher-window_z"));')).toEqual([]);
  });
});

describe('flood', () => {
  const cases: [QEvent[], [number, number, object][]][] = [
    [[E(0, 1, { t: 1 }), E(3, 1, { t: 1 })], [[0, 4, { t: 1 }]]],
    [[E(0, 1, { t: 1 }), E(3, 1, { t: 2 })], [[0, 2, { t: 1 }], [2, 2, { t: 2 }]]],
    [[E(0, 10, { type: 'a' }), E(5, 10, { type: 'a' })], [[0, 15, { type: 'a' }]]],
    [[E(0, 10, { type: 'a' }), E(1, 5, { type: 'a' })], [[0, 10, { type: 'a' }]]],
    [[E(0, 10, { type: 'a' }), E(1, 5, { type: 'b' })], [[0, 10, { type: 'a' }], [1, 5, { type: 'b' }]]],
    [[E(0, 1, { t: 1 }), E(10, 1, { t: 2 })], [[0, 1, { t: 1 }], [10, 1, { t: 2 }]]],
    [[E(0, 1, { t: 1 }), E(6, 1, { t: 1 })], [[0, 1, { t: 1 }], [6, 1, { t: 1 }]]], // gap exactly 5 s: not filled
    [[E(0, 1, { t: 1 }), E(5.999, 1, { t: 1 })], [[0, 6.999, { t: 1 }]]],
    [
      [E(0, 1, { s: 'afk' }), E(1, 5, { s: 'not' }), E(1, 1, { s: 'not' }), E(6, 1, { s: 'afk' })],
      [[0, 1, { s: 'afk' }], [1, 5, { s: 'not' }], [6, 1, { s: 'afk' }]],
    ],
    [
      [E(0, 1, { s: 'afk' }), E(1, 5, { s: 'not' }), E(1, 1, { s: 'not' }), E(1, 10, { s: 'not' }), E(11, 1, { s: 'afk' })],
      [[0, 1, { s: 'afk' }], [1, 10, { s: 'not' }], [11, 1, { s: 'afk' }]],
    ],
    [[], []],
    [[E(3, 0, { z: 1 })], [[3, 0, { z: 1 }]]], // zero duration kept
    [[E(0, 0, { z: 1 }), E(2, 0, { z: 2 })], [[0, 1, { z: 1 }], [1, 1, { z: 2 }]]],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(brief(input)), () => expect(brief(T.flood(input))).toEqual(want));
  }
  it('sorts by start first (newest-first input) and keeps the earlier id', () => {
    const r = T.flood([E(3, 1, { t: 1 }, 2), E(0, 1, { t: 1 }, 1)]);
    expect(r.map((e) => [e.id, e.duration])).toEqual([[1, 4_000_000]]);
  });
  it('same data means deep equality, not identity', () => {
    expect(T.flood([E(0, 1, { a: [1, { b: 2 }] }), E(2, 1, { a: [1, { b: 2 }] })])).toHaveLength(1);
  });
  it('does not modify its input', () => {
    const input = [E(0, 1, { t: 1 }), E(3, 1, { t: 2 })];
    const copy = brief(input);
    T.flood(input);
    expect(brief(input)).toEqual(copy);
  });
});

describe('filter_period_intersect', () => {
  it('five events against one filter', () => {
    const evs = [1, 2, 3, 4, 5].map((s) => E(s, 1, { t: 1 }));
    expect(brief(T.filterPeriodIntersect(evs, [E(2.5, 2)]))).toEqual([[2.5, 0.5, { t: 1 }], [3, 1, { t: 1 }], [4, 0.5, { t: 1 }]]);
  });
  const single: [QEvent, [number, number][]][] = [
    [E(0, 1.5), [[1, 0.5]]],
    [E(1.5, 1), [[1.5, 0.5]]],
    [E(1.5, 0.1), [[1.5, 0.1]]],
    [E(0, 10), [[1, 1]]],
    [E(2, 1), []], // touching: nothing
    [E(0, 1), []],
  ];
  for (const [f, want] of single) {
    it(`[1s,1s] against ${JSON.stringify(brief([f]))}`, () => {
      expect(brief(T.filterPeriodIntersect([E(1, 1, {}, 7)], [f])).map(([s, d]) => [s, +d.toFixed(6)])).toEqual(want);
    });
  }
  it('AFK-style example; zero-duration events vanish; ids and data kept', () => {
    const evs = [E('10:00', 10 * M, { a: 'A' }, 1), E('10:10', 0, { a: 'B' }, 2), E('10:10', 20 * M, { a: 'C' }, 3)];
    const notAfk = [E('10:05', 15 * M), E('10:25', 10 * M)];
    const r = T.filterPeriodIntersect(evs, notAfk);
    expect(r.map((e) => [(e.timestamp - at('10:00')) / 60e6, e.duration / 60e6, e.data.a, e.id])).toEqual([
      [5, 5, 'A', 1], [10, 10, 'C', 3], [25, 5, 'C', 3],
    ]);
  });
  it('overlapping (duplicate) filter events do not double count', () => {
    const f = [E(0, 10), E(0, 10), E(5, 10)];
    expect(T.sumDurations(T.filterPeriodIntersect([E(2, 10)], f))).toBe(10);
  });
  it('either list empty → []', () => {
    expect(T.filterPeriodIntersect([], [E(0, 1)])).toEqual([]);
    expect(T.filterPeriodIntersect([E(0, 1)], [])).toEqual([]);
  });
});

describe('period_union', () => {
  it('touching merges, gaps do not, data cleared', () => {
    expect(brief(T.periodUnion([E(1, 1, { a: 1 })], [E(2, 1, { b: 1 })]))).toEqual([[1, 2, {}]]);
    expect(brief(T.periodUnion([E(1, 1)], [E(3, 1)]))).toEqual([[1, 1, {}], [3, 1, {}]]);
    expect(T.periodUnion([], [])).toEqual([]);
    expect(brief(T.periodUnion([], [E(1, 1, { a: 1 }), E(1.5, 1, { a: 2 })]))).toEqual([[1, 1.5, {}]]);
  });
  it('two lists', () => {
    const r = T.periodUnion([E('10:00', 5 * M), E('10:20', 10 * M)], [E('10:04', 6 * M), E('10:10', 2 * M), E('10:40', M)]);
    expect(r.map((e) => [(e.timestamp - at('10:00')) / 60e6, e.duration / 60e6])).toEqual([[0, 12], [20, 10], [40, 1]]);
  });
  it('keeps timestamp and id of the first event of a run', () => {
    expect(T.periodUnion([E(2, 5, {}, 2)], [E(1, 1, {}, 1)]).map((e) => e.id)).toEqual([1]);
  });
});

describe('union_no_overlap', () => {
  const t = (h: number): number => 10 * H + h * H;
  it('no overlap, either order', () => {
    expect(brief(T.unionNoOverlap([E(t(0), H)], [E(t(1), H)]))).toEqual([[t(0), H, {}], [t(1), H, {}]]);
    expect(brief(T.unionNoOverlap([E(t(1), H)], [E(t(0), H)]))).toEqual([[t(0), H, {}], [t(1), H, {}]]);
  });
  it('first list wins', () => {
    const r = T.unionNoOverlap([E(t(0), H, { w: 1 }, 1)], [E(t(0), 2 * H, { w: 2 }, 2)]);
    expect(r.map((e) => [e.timestamp, e.duration / 1e6, e.data.w, e.id])).toEqual([[at(t(0)), H, 1, 1], [at(t(1)), H, 2, null]]);
    const r2 = T.unionNoOverlap([E(t(1), H, { w: 1 }, 1)], [E(t(0), 2 * H, { w: 2 }, 2)]);
    expect(r2.map((e) => [e.timestamp, e.duration / 1e6, e.data.w, e.id])).toEqual([[at(t(0)), H, 2, null], [at(t(1)), H, 1, 1]]);
  });
  it('splits list2 around list1', () => {
    const r = T.unionNoOverlap(
      [E('10:00', 10 * M, { n: 'X' }, 1), E('10:30', 10 * M, { n: 'Y' }, 2)],
      [E('09:55', 10 * M, { n: 'P' }, 3), E('10:20', 15 * M, { n: 'Q' }, 4), E('10:45', 5 * M, { n: 'R' }, 5)],
    );
    expect(r.map((e) => [e.data.n, (e.timestamp - at('10:00')) / 60e6, e.duration / 60e6])).toEqual([
      ['P', -5, 5], ['X', 0, 10], ['Q', 20, 10], ['Y', 30, 10], ['R', 45, 5],
    ]);
    expect(r.map((e) => e.id)).toEqual([null, 1, null, 2, 5]);
  });
  it('an event of list2 spanning several list1 events is cut into pieces', () => {
    const r = T.unionNoOverlap([E(10, 10, { a: 1 }), E(30, 10, { a: 1 })], [E(0, 50, { b: 1 })]);
    expect(brief(r)).toEqual([[0, 10, { b: 1 }], [10, 10, { a: 1 }], [20, 10, { b: 1 }], [30, 10, { a: 1 }], [40, 10, { b: 1 }]]);
  });
  it('a list2 event following one swallowed by a list1 event is trimmed too (no overlap)', () => {
    const r = T.unionNoOverlap([E(30, 16, { a: 1 }, 1), E(53, 17, { a: 1 }, 2)], [E(28, 6, { b: 1 }, 3), E(45, 11, { b: 1 }, 4)]);
    expect(brief(r)).toEqual([[28, 2, { b: 1 }], [30, 16, { a: 1 }], [46, 7, { b: 1 }], [53, 17, { a: 1 }]]);
  });
  it('empty lists', () => {
    expect(T.unionNoOverlap([], [])).toEqual([]);
    expect(brief(T.unionNoOverlap([], [E(1, 1)]))).toEqual([[1, 1, {}]]);
  });
});

describe('merge_events_by_keys', () => {
  const input = [E(0, 1, { test: 1 }), E(1, 3, { test2: 3 }), E(2, 7, { test: 6 }), E(3, 9, { test: 1 })];
  it('groups, drops events lacking a key, ids null, first event timestamp', () => {
    const r = T.sortByTimestamp(T.mergeEventsByKeys(input, ['test']));
    expect(brief(r)).toEqual([[0, 10, { test: 1 }], [2, 7, { test: 6 }]]);
    expect(r.every((e) => e.id === null)).toBe(true);
  });
  it('keeps the complete data of the first event of the group', () => {
    const r = T.mergeEventsByKeys([E(0, 1, { app: 'Code', title: 'a.ts' }), E(1, 1, { app: 'Code', title: 'b.ts' })], ['app']);
    expect(brief(r)).toEqual([[0, 2, { app: 'Code', title: 'a.ts' }]]);
  });
  it('timestamp of the first event in input order, not the earliest', () => {
    expect(brief(T.mergeEventsByKeys([E(5, 1, { k: 'x' }), E(1, 1, { k: 'x' })], ['k']))).toEqual([[5, 2, { k: 'x' }]]);
  });
  it('"1" and 1 differ; arrays group by value; multiple keys', () => {
    const r = T.mergeEventsByKeys(
      [E(0, 1, { k: '1', c: ['a', 'b'] }), E(1, 1, { k: 1, c: ['a', 'b'] }), E(2, 1, { k: '1', c: ['a', 'b'] }), E(3, 1, { k: '1', c: ['a'] })],
      ['k', 'c'],
    );
    expect(brief(r)).toEqual([[0, 2, { k: '1', c: ['a', 'b'] }], [1, 1, { k: 1, c: ['a', 'b'] }], [3, 1, { k: '1', c: ['a'] }]]);
  });
  it('empty keys → []; empty input → []', () => {
    expect(T.mergeEventsByKeys(input, [])).toEqual([]);
    expect(T.mergeEventsByKeys([], ['a'])).toEqual([]);
  });
  it('through the language: non-string keys are rejected', () => {
    expect(qErr('return merge_events_by_keys([], [1]);').message).toMatch(/^InvalidFunctionParameters\("merge_events_by_keys: keys must be a list of strings"\)/);
  });
});

describe('chunk_events_by_key', () => {
  it('merges consecutive runs; events without the key are skipped and do not break runs', () => {
    const r = T.chunkEventsByKey([E(0, 1, { test: 1 }, 1), E(1, 1, { test2: 1 }, 2), E(2, 1, { test: 1 }, 3), E(3, 1, { test: 2 }, 4)], 'test');
    expect(r.map((e) => [e.id, e.duration / 1e6, e.data])).toEqual([[1, 2, { test: 1 }], [4, 1, { test: 2 }]]);
    expect(T.chunkEventsByKey([], 'x')).toEqual([]);
  });
});

describe('sorting, limits and sums', () => {
  it('sum_durations truncates to whole milliseconds', () => {
    expect(T.sumDurations([E(0, 1.5), E(1, 2.25), E(2, 0.0004)])).toBe(3.75);
    expect(T.sumDurations([])).toBe(0);
  });
  it('sort_by_duration: longest first, stable', () => {
    expect(brief(T.sortByDuration([E(0, 1, { i: 0 }), E(3, 2), E(5, 1, { i: 1 })]))).toEqual([[3, 2, {}], [0, 1, { i: 0 }], [5, 1, { i: 1 }]]);
  });
  it('sort_by_timestamp: ascending, stable for equal starts', () => {
    expect(brief(T.sortByTimestamp([E(3, 1), E(0, 1, { i: 0 }), E(0, 2, { i: 1 })]))).toEqual([[0, 1, { i: 0 }], [0, 2, { i: 1 }], [3, 1, {}]]);
  });
  it('limit_events truncates toward zero; negative → 0; more than available → all', () => {
    const five = [0, 1, 2, 3, 4].map((s) => E(s, 1));
    expect(T.limitEvents(five, 2)).toHaveLength(2);
    expect(T.limitEvents(five, 10000)).toHaveLength(5);
    expect(T.limitEvents(five, 2.9)).toHaveLength(2);
    expect(T.limitEvents(five, -3)).toHaveLength(0);
  });
  it('through the language (sorting does not change the variable it read)', () => {
    const b = { b: [E(0, 1, { a: 1 }, 1), E(10, 5, { a: 2 }, 2), E(20, 3, { a: 3 }, 3)] };
    expect(q('e = query_bucket("b"); s = sort_by_duration(e); return [limit_events(s, 1), e, sum_durations(e)];', b)).toEqual([
      [{ id: 2, timestamp: '2000-01-01T00:00:10Z', duration: 5, data: { a: 2 } }],
      [
        { id: 3, timestamp: '2000-01-01T00:00:20Z', duration: 3, data: { a: 3 } },
        { id: 2, timestamp: '2000-01-01T00:00:10Z', duration: 5, data: { a: 2 } },
        { id: 1, timestamp: '2000-01-01T00:00:00Z', duration: 1, data: { a: 1 } },
      ],
      9,
    ]);
  });
  it('concat keeps order across any number of lists', () => {
    const b = { b: [E(0, 1, {}, 1), E(10, 1, {}, 2)] };
    expect((q('e = query_bucket("b"); return concat(e, [], e);', b) as { id: number }[]).map((e) => e.id)).toEqual([2, 1, 2, 1]);
  });
});

describe('filter_keyvals family', () => {
  const b = { b: [E(3, 1, { status: 'afk' }, 1), E(2, 1, { status: 'not-afk' }, 2), E(1, 1, { other: 1 }, 3)] };
  const ids = (p: string, bk: Record<string, QEvent[]> = b): unknown => (q(p, bk) as { id: number }[]).map((e) => e.id);
  it('filter_keyvals / exclude_keyvals', () => {
    expect(ids('return filter_keyvals(query_bucket("b"), "status", ["not-afk"]);')).toEqual([2]);
    expect(ids('return exclude_keyvals(query_bucket("b"), "status", ["afk"]);')).toEqual([2, 3]);
    expect(ids('return filter_keyvals(query_bucket("b"), "status", []);')).toEqual([]);
    expect(ids('return exclude_keyvals(query_bucket("b"), "status", []);')).toEqual([1, 2, 3]);
    expect(ids('return filter_keyvals(query_bucket("b"), "status", ["afk", "not-afk"]);')).toEqual([1, 2]);
  });
  it('upstream test with numbers, bools, lists and unicode', () => {
    const bk = {
      b: [E(5, 1, { test: 1 }, 1), E(4, 1, { test: 1, test2: 1 }, 2), E(3, 1, { test2: 2 }, 3), E(2, 1, { test: true }, 4),
        E(1, 1, { test: ['Work', 'Programming'] }, 5), E(0, 1, { test: 'コード' }, 6)],
    };
    expect(ids('return filter_keyvals(query_bucket("b"), "test", [1]);', bk)).toEqual([1, 2]);
    expect(ids('return filter_keyvals(query_bucket("b"), "test", [true]);', bk)).toEqual([4]);
    expect(ids('return filter_keyvals(query_bucket("b"), "test", [["Work", "Programming"], ["Work"]]);', bk)).toEqual([5]);
    expect(ids('return filter_keyvals(query_bucket("b"), "test", ["コード"]);', bk)).toEqual([6]);
    expect(qErr('return filter_keyvals([], "k", [{"a": 1}]);').message).toMatch(/^InvalidFunctionParameters/);
  });
  it('filter_keyvals_regex: search semantics, non-strings and missing keys dropped, inline flags', () => {
    const bk = { b: [E(4, 1, { key1: 'value1' }, 1), E(3, 1, { key1: 'value2' }, 2), E(2, 1, { key2: 'value3' }, 3), E(1, 1, { key1: 100 }, 4)] };
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "key1", "value");', bk)).toEqual([1, 2]);
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "key1", "value1");', bk)).toEqual([1]);
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "key3", "value");', bk)).toEqual([]);
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "key1", "1|0");', bk)).toEqual([1]);
    const apps = { b: [E(3, 1, { app: 'Firefox' }, 1), E(2, 1, { app: 'firefox.exe' }, 2), E(1, 1, { app: 'chrome' }, 3)] };
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "app", "(?i)firefox");', apps)).toEqual([1, 2]);
    expect(ids('return filter_keyvals_regex(query_bucket("b"), "app", "firefox");', apps)).toEqual([2]);
    expect(qErr('return filter_keyvals_regex([], "app", "(unclosed");').message).toMatch(/^RegexCompileError/);
  });
});

describe('regex translation', () => {
  const t = (p: string, s: string): boolean => compileRegex(p).test(s);
  it('leading and combined inline flags', () => {
    expect(t('(?i)^(google[-_ ]?chrome|chrome|chromium)', 'Google-Chrome')).toBe(true);
    expect(t('(?is)a.b', 'A\nB')).toBe(true);
    expect(t('(?i)(?m)^x$', 'a\nX\nb')).toBe(true);
    expect(t('(?x) a b # comment', 'ab')).toBe(true);
  });
  it('backslashes as sent by the web UI', () => {
    expect(t(String.raw`\bfoo\.com`, 'www.foo.com')).toBe(true);
    expect(t(String.raw`\bfoo\.com`, 'www.fooxcom')).toBe(false);
    // the arc pattern arrives with doubled backslashes and is compiled verbatim
    expect(t(String.raw`(?i)^arc(\\.exe)?$`, 'Arc')).toBe(true);
    expect(t(String.raw`(?i)^arc(\\.exe)?$`, 'Arc.exe')).toBe(false);
    expect(t(String.raw`(?i)^arc(\\.exe)?$`, 'Arc\\.exe')).toBe(true);
  });
  it('scoped groups, Python named groups and \\A / \\z', () => {
    expect(t('a(?i:bc)d', 'aBCd')).toBe(true);
    expect(t('a(?i:bc)d', 'aBCD')).toBe(false);
    expect(t('(?i:[a-c]x)', 'BX')).toBe(true);
    expect(t('(?P<w>ab)(?P=w)', 'abab')).toBe(true);
    expect(t(String.raw`\Aab\z`, 'ab')).toBe(true);
    expect(t(String.raw`\Aab\z`, 'xab')).toBe(false);
  });
  it('Unicode', () => {
    expect(t('^.$', '😀')).toBe(true);
    expect(t('(?i)ÄRGER', 'ärger')).toBe(true);
  });
  it('caches compiled regexes', () => {
    expect(compileRegex('abc')).toBe(compileRegex('abc'));
    expect(compileRegex('abc', true)).not.toBe(compileRegex('abc'));
  });
});

const DEFAULT_RULES = `[
  [["Work"], {"type": "regex", "regex": "Google Docs|libreoffice|ReText"}],
  [["Work","Programming"], {"type": "regex", "regex": "GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite"}],
  [["Work","Programming","ActivityWatch"], {"type": "regex", "regex": "ActivityWatch|aw-", "ignore_case": true}],
  [["Media"], {"type": "none"}],
  [["Media","Video"], {"type": "regex", "regex": "YouTube|Plex|VLC"}]
]`;

describe('categorize', () => {
  const cat = (data: Record<string, unknown>, rules = DEFAULT_RULES): unknown =>
    (q(`return categorize(query_bucket("b"), ${rules});`, { b: [E(0, 1, data, 1)] }) as { data: { $category: unknown } }[])[0]!.data.$category;
  it('web UI defaults', () => {
    expect(cat({ app: 'firefox', title: 'aw-server-rust - GitHub' })).toEqual(['Work', 'Programming', 'ActivityWatch']);
    expect(cat({ app: 'vlc', title: 'movie.mkv - VLC media player' })).toEqual(['Media', 'Video']);
    expect(cat({ app: 'kate', title: 'notes.txt' })).toEqual(['Work', 'Programming']);
    expect(cat({ app: 'Terminal', title: 'bash' })).toEqual(['Uncategorized']);
  });
  it('deepest wins; ties go to the last rule; non-matching deep rule ignored', () => {
    expect(cat({ test: 'just a test' }, '[[["Test"], {"type":"regex","regex":"test"}], [["Test","Subtest"], {"type":"regex","regex":"test"}], [["Other"], {"type":"regex","regex":"nonmatching"}]]')).toEqual(['Test', 'Subtest']);
    expect(cat({ test: 'just a test' }, '[[["Non-matching","test"], {"type":"regex","regex":"not going to match"}]]')).toEqual(['Uncategorized']);
    expect(cat({ k: 'x' }, '[[["A"], {"type":"regex","regex":"x"}], [["B"], {"type":"regex","regex":"x"}]]')).toEqual(['B']);
    expect(cat({ k: 'x' }, '[[["A","B"], {"type":"regex","regex":"x"}], [["C"], {"type":"regex","regex":"x"}]]')).toEqual(['A', 'B']);
  });
  it('sees keys added earlier in the query and only string values', () => {
    const b = { b: [E(0, 1, { url: 'https://www.youtube.com/watch', n: 5 }, 1)] };
    const r = q('e = split_url_events(query_bucket("b")); return categorize(e, [[["V"], {"type":"regex","regex":"^youtube\\.com$","select_keys":["$domain"]}], [["N"], {"type":"regex","regex":"5"}]]);', b) as { data: Record<string, unknown> }[];
    expect(r[0]!.data.$category).toEqual(['V']);
  });
  it('empty regex matches any event with a string value (reference parity)', () => {
    expect(cat({ a: 'x' }, '[[["All"], {"type":"regex","regex":""}]]')).toEqual(['All']);
    expect(cat({ a: 1 }, '[[["All"], {"type":"regex","regex":""}]]')).toEqual(['Uncategorized']);
  });
  it('overwrites a previous $category; keeps ids and other data; input unchanged', () => {
    const b = { b: [E(0, 1, { app: 'vim', $category: ['Old'] }, 7)] };
    expect(q('e = query_bucket("b"); c = categorize(e, [[["New"], {"type":"regex","regex":"vim"}]]); return [e, c];', b)).toEqual([
      [{ id: 7, timestamp: '2000-01-01T00:00:00Z', duration: 1, data: { app: 'vim', $category: ['Old'] } }],
      [{ id: 7, timestamp: '2000-01-01T00:00:00Z', duration: 1, data: { app: 'vim', $category: ['New'] } }],
    ]);
  });
  it('caches per distinct data: equal data gets the same result object', () => {
    const b = { b: [E(0, 1, { app: 'vim' }, 1), E(5, 1, { app: 'vim' }, 2), E(9, 1, { app: 'x' }, 3)] };
    const src = memorySource([{ id: 'b', events: b.b }]);
    const r = q('return categorize(query_bucket("b"), [[["V"], {"type":"regex","regex":"vim"}]]);', {}, undefined, src) as { data: { $category: string[] } }[];
    expect(r.map((e) => e.data.$category)).toEqual([['Uncategorized'], ['V'], ['V']]);
  });
  const invalid: [string, RegExp][] = [
    ['[["test", false]]', /^InvalidFunctionParameters.*category must be a list/],
    ['[[["t"], false]]', /^InvalidFunctionParameters.*a rule must be a dict/],
    ['[[["t"], {}]]', /rule has no \\"type\\"/],
    ['[[["t"], {"type": false}]]', /\\"type\\" must be a string/],
    ['[[["t"], {"type": "rgex"}]]', /Unknown rule type/],
    ['[[["t"], {"type": "regex"}]]', /regex rule has no/],
    ['[[["t"], {"type": "regex", "regex": true}]]', /\\"regex\\" must be a string/],
    ['[[["t"], {"type": "regex", "regex": "a", "ignore_case": ""}]]', /ignore_case/],
    ['[[["t"], {"type": "regex", "regex": "a", "select_keys": "key"}]]', /select_keys/],
    ['[[["t"], {"type": "regex", "regex": "a", "select_keys": ["key", false]}]]', /select_keys/],
    ['[[["t"], {"type": "regex", "regex": "a", "select_keys": []}]]', /must not be empty/],
    ['[[["t"], {"type": "regex", "regex": "(a"}]]', /^RegexCompileError/],
    ['[["t"]]', /pair/],
    ['"x"', /list of \[name, rule\] pairs/],
  ];
  for (const [rules, re] of invalid) {
    it(`rejects ${rules}`, () => expect(qErr(`return categorize([], ${rules});`).message).toMatch(re));
  }
  it('accepts none rules and explicit ignore_case false', () => {
    expect(q('return categorize([], [[["a"], {"type": "none"}], [["b"], {"type":"regex","regex":"test","ignore_case":false}]]);')).toEqual([]);
  });
});

describe('tag', () => {
  const tags = (data: Record<string, unknown>, rules: string): unknown =>
    (q(`return tag(query_bucket("b"), ${rules});`, { b: [E(0, 1, data, 1)] }) as { data: { $tags: unknown } }[])[0]!.data.$tags;
  it('select_keys, numbers never match, missing keys ignored', () => {
    expect(tags({ app: 'terminal', title: 'just a test', pid: 123 }, `[
      ["title-match", {"type":"regex","regex":"test$","select_keys":["title"]}],
      ["app-match", {"type":"regex","regex":"test$","select_keys":["app"]}],
      ["pid-match", {"type":"regex","regex":"123","select_keys":["pid"]}],
      ["missing-match", {"type":"regex","regex":"test","select_keys":["missing"]}]]`)).toEqual(['title-match']);
  });
  it('sorted and de-duplicated', () => {
    expect(tags({ test: 'just a test' }, '[["test-2", {"type":"regex","regex":"test"}], ["test", {"type":"regex","regex":"test"}], ["test", {"type":"regex","regex":"just"}], ["nomatch", {"type":"regex","regex":"nomatch"}]]')).toEqual(['test', 'test-2']);
    expect(tags({ a: 'b' }, '[]')).toEqual([]);
  });
});

describe('split_url_events', () => {
  const cases: [string, Record<string, string> | null][] = [
    ['http://www.google.com/path?query=1', { $protocol: 'http', $domain: 'google.com', $path: '/path', $params: 'query=1' }],
    ['https://www.github.com/ActivityWatch/aw-server?tab=readme#top', { $protocol: 'https', $domain: 'github.com', $path: '/ActivityWatch/aw-server', $params: 'tab=readme' }],
    ['http://localhost:5600/#/activity', { $protocol: 'http', $domain: 'localhost', $path: '/', $params: '' }],
    ['file:///home/user/document.pdf', { $protocol: 'file', $domain: 'file', $path: '/home/user/document.pdf', $params: '' }],
    ['about:blank', { $protocol: 'about', $domain: 'about', $path: 'blank', $params: '' }],
    ['HTTPS://WWW.Example.COM', { $protocol: 'https', $domain: 'example.com', $path: '/', $params: '' }],
    ['https://www.www.www.example.com/a', { $protocol: 'https', $domain: 'example.com', $path: '/a', $params: '' }],
    ['https://wwww.example.com/', { $protocol: 'https', $domain: 'wwww.example.com', $path: '/', $params: '' }],
    ['not a url', null],
  ];
  for (const [url, added] of cases) {
    it(url, () => {
      const [e] = T.splitUrlEvents([E(0, 1, { url, title: 't' }, 1)]);
      expect(e!.data).toEqual({ url, title: 't', ...(added ?? {}) });
      expect(e!.id).toBe(1);
    });
  }
  it('events without a string url pass through', () => {
    const e = E(0, 1, { url: 5 });
    const [out] = T.splitUrlEvents([e]);
    expect(out).toEqual(e);
    expect(out!.data).toBe(e.data); // the same data object, not a copy
  });
  it('a list already split is returned as it is; sorting and concatenating keep that known, a list with an unsplit part is split', () => {
    const a = q(`a = split_url_events(query_bucket("a")); return split_url_events(sort_by_timestamp(concat([], a, a)));`, {
      a: [E(2, 1, { url: 'https://a.org/x' }), E(0, 1, { url: 'https://www.b.org/y' })],
    }) as { data: Record<string, unknown> }[];
    expect(a.map((e) => e.data.$domain)).toEqual(['b.org', 'b.org', 'a.org', 'a.org']);
    const mixed = q(`a = split_url_events(query_bucket("a")); return split_url_events(sort_by_timestamp(concat(a, query_bucket("b"))));`, {
      a: [E(0, 1, { url: 'https://a.org/x' })],
      b: [E(1, 1, { url: 'https://www.c.org/z' })],
    }) as { data: Record<string, unknown> }[];
    expect(mixed.map((e) => e.data.$domain)).toEqual(['a.org', 'c.org']);
    const l = T.splitUrlList(EventList.of([E(0, 1, { url: 'https://a.org/' })]));
    expect(T.splitUrlList(l)).toBe(l);
  });
});

describe('simplify_window_titles (legacy)', () => {
  it('strips counters, FPS and edit markers', () => {
    const r = T.simplifyWindowTitles([E(0, 1, { app: 'x', title: '(2) Inbox' }), E(1, 1, { app: 'g', title: '● main.ts FPS: 59.9' }), E(2, 1, { title: '* notes' })], 'title') as QEvent[];
    expect(r.map((e) => e.data.title)).toEqual(['Inbox', 'main.ts FPS: ...', '* notes']);
  });
  it('an event without the key is an error', () => {
    expect(qErr('return simplify_window_titles(query_bucket("b"), "title");', { b: [E(0, 1, { app: 'x' })] }).message).toMatch(/^InvalidFunctionParameters/);
  });
});

describe('end to end in miniature', () => {
  it('web UI core pipeline', () => {
    const r = q(
      `events = flood(query_bucket("aw-watcher-window_h"));
not_afk = flood(query_bucket("aw-watcher-afk_h"));
not_afk = filter_keyvals(not_afk, "status", ["not-afk"]);
events = filter_period_intersect(events, not_afk);
events = categorize(events, [[["Work","Programming"], {"type": "regex", "regex": "GitHub|Code"}]]);
cat_events = sort_by_duration(merge_events_by_keys(events, ["$category"]));
RETURN = {"cat_events": cat_events, "duration": sum_durations(events)};`,
      {
        'aw-watcher-window_h': [E('10:00:00', 50, { app: 'Code', title: 'main.ts' }, 1), E('10:00:52', 30, { app: 'firefox', title: 'GitHub' }, 2)],
        'aw-watcher-afk_h': [E('09:55:00', 600, { status: 'not-afk' }, 3)],
      },
      '2000-01-01T10:00:00Z/2000-01-01T11:00:00Z',
    );
    expect(r).toEqual({
      cat_events: [{ data: { $category: ['Work', 'Programming'], app: 'Code', title: 'main.ts' }, duration: 82, id: null, timestamp: '2000-01-01T10:00:00Z' }],
      duration: 82,
    });
  });
  it('microsecond timestamps serialise in RFC 3339', () => {
    const r = q('return query_bucket("b");', { b: [new QEvent(1, T0 + 1_500_001, 2_250_000, {})] }) as { timestamp: string; duration: number }[];
    expect(r[0]).toMatchObject({ timestamp: '2000-01-01T00:00:01.500001Z', duration: 2.25 });
  });
});

describe('edge cases', () => {
  it('zero-duration filter events give no empty fragments', () => {
    expect(T.filterPeriodIntersect([E(0, 10, { a: 1 })], [E(5, 0), E(6, 1)]).map((e) => [e.timestamp - T0, e.duration])).toEqual([[6e6, 1e6]]);
  });
  it('touching intervals: intersect gives nothing, union merges, flood meets', () => {
    expect(T.filterPeriodIntersect([E(0, 5)], [E(5, 5)])).toEqual([]);
    expect(T.periodUnion([E(0, 5)], [E(5, 5)])).toHaveLength(1);
    expect(brief(T.flood([E(0, 5, { a: 1 }), E(5, 5, { a: 2 })]))).toEqual([[0, 5, { a: 1 }], [5, 5, { a: 2 }]]);
  });
  it('overlapping events with different data stay overlapped through flood and are merged by key', () => {
    const evs = [E(0, 10, { app: 'a' }), E(2, 3, { app: 'b' }), E(4, 10, { app: 'a' })];
    // the reference walk only compares neighbours, so a is not re-joined across b
    expect(brief(T.flood(evs))).toEqual([[0, 10, { app: 'a' }], [2, 3, { app: 'b' }], [4, 10, { app: 'a' }]]);
    expect(T.sumDurations(T.mergeEventsByKeys(evs, ['app']))).toBe(23);
  });
  it('empty lists everywhere', () => {
    const fns = ['flood', 'sort_by_timestamp', 'sort_by_duration', 'split_url_events'];
    for (const f of fns) expect(q(`return ${f}([]);`)).toEqual([]);
    expect(q('return [filter_period_intersect([], []), period_union([], []), union_no_overlap([], []), merge_events_by_keys([], ["a"]), chunk_events_by_key([], "a"), limit_events([], 3), categorize([], []), tag([], []), sum_durations([]), concat([], [])];'))
      .toEqual([[], [], [], [], [], [], [], [], 0, []]);
  });
  it('unicode in data, keys, bucket ids and URLs', () => {
    const b = { 'aw-watcher-window_höst': [E(0, 5, { 'ключ': 'значение 🎉' }, 1), E(6, 5, { 'ключ': 'значение 🎉' }, 2)] };
    const r = q('e = flood(query_bucket("aw-watcher-window_höst")); return merge_events_by_keys(filter_keyvals_regex(e, "ключ", "🎉$"), ["ключ"]);', b);
    expect(r).toEqual([{ id: null, timestamp: '2000-01-01T00:00:00Z', duration: 11, data: { 'ключ': 'значение 🎉' } }]);
    const [u] = T.splitUrlEvents([E(0, 1, { url: 'https://www.bücher.de/straße?q=ü' })]);
    expect(u!.data).toMatchObject({ $domain: 'xn--bcher-kva.de', $path: '/stra%C3%9Fe', $params: 'q=%C3%BC' });
  });
  it('missing keys: filter drops, exclude keeps, merge drops, categorize with select_keys ignores', () => {
    const b = { b: [E(1, 1, { a: 'x' }, 1), E(0, 1, {}, 2)] };
    expect((q('return filter_keyvals(query_bucket("b"), "a", ["x"]);', b) as unknown[]).length).toBe(1);
    expect((q('return exclude_keyvals(query_bucket("b"), "a", ["x"]);', b) as unknown[]).length).toBe(1);
    expect((q('return merge_events_by_keys(query_bucket("b"), ["a", "b"]);', b) as unknown[]).length).toBe(0);
    expect((q('return categorize(query_bucket("b"), [[["X"], {"type":"regex","regex":"x","select_keys":["zz"]}]]);', b) as { data: { $category: string[] } }[]).map((e) => e.data.$category)).toEqual([['Uncategorized'], ['Uncategorized']]);
  });
  it('a shadowed built-in can be restored by copying it first', () => {
    expect(q('f = flood; flood = 1; return f([]);')).toEqual([]);
  });
});
