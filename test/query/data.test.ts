import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTimestamp } from '../../src/model/time.js';
import { categorize } from '../../src/query/classify.js';
import { dataInterner, sameData, sealData } from '../../src/query/data.js';
import { runQuery, memorySource } from '../../src/query/service.js';
import { mergeEventsByKeys, splitUrlEvents } from '../../src/query/transforms.js';
import { QDict, QEvent, type Value } from '../../src/query/values.js';

/**
 * Sealed event data (data.ts): the hidden memo slot must never show in results, and transforms
 * must answer the same whether data objects are sealed (from SQLite), plain (in-memory sources), or
 * mixed, whatever other transforms ran on the same objects before.
 */

const ev = (t: number, dur: number, data: Record<string, unknown>) => new QEvent(null, t * 1e6, dur * 1e6, data);
const plainOf = (evs: QEvent[]) => evs.map((e) => [e.timestamp, e.duration, { ...e.data }]);

describe('sealed event data', () => {
  it('is frozen and its slot is invisible to JSON, keys, for…in, spreading and structured clone', () => {
    const d = sealData({ app: 'x', n: 1 });
    expect(Object.isFrozen(d)).toBe(true);
    expect(JSON.stringify(d)).toBe('{"app":"x","n":1}');
    expect(Object.keys(d)).toEqual(['app', 'n']);
    const seen: string[] = [];
    for (const k in d) seen.push(k);
    expect(seen).toEqual(['app', 'n']);
    expect(Object.getOwnPropertySymbols({ ...d })).toEqual([]);
    expect(structuredClone(d)).toEqual({ app: 'x', n: 1 });
    expect(Object.getOwnPropertySymbols(structuredClone(d))).toEqual([]);
  });

  it('the interner shares one sealed object per text; equal data in another key order is equal, not identical', () => {
    const intern = dataInterner();
    const a = intern('{"app":"x","title":"t"}'), b = intern('{"title":"t","app":"x"}');
    expect(intern('{"app":"x","title":"t"}')).toBe(a);
    expect(a).not.toBe(b);
    expect(sameData(a, b)).toBe(true);
    expect(sameData(a, { app: 'x', title: 't' })).toBe(true);
    expect(sameData(a, intern('{"app":"x","title":"u"}'))).toBe(false);
    expect(sameData(intern('{"a":[1,{"b":2}]}'), { a: [1, { b: 2 }] })).toBe(true);
  });

  it('merge_events_by_keys groups sealed and plain data alike, in first-seen order over string and other values', () => {
    const intern = dataInterner();
    const data = ['{"k":"a"}', '{"k":1}', '{"k":"b"}', '{"k":[1]}', '{"k":"1"}', '{"other":1}'];
    const sealed = data.map((t, i) => ev(i, 1 + i, intern(t)));
    const plain = data.map((t, i) => ev(i, 1 + i, JSON.parse(t) as Record<string, unknown>));
    // The same values again, interleaved and in another order: sealed, then plain objects.
    const evs = [...sealed, ...plain.slice().reverse(), ...sealed];
    const merged = mergeEventsByKeys(evs, ['k']);
    expect(merged.map((e) => [e.data.k, e.duration / 1e6])).toEqual([
      ['a', 3],
      [1, 6],
      ['b', 9],
      [[1], 12],
      ['1', 15],
    ]);
    // A second pass with other keys over the same objects must not see the first pass's memo.
    expect(mergeEventsByKeys(evs, ['other']).map((e) => e.duration / 1e6)).toEqual([18]);
    expect(mergeEventsByKeys(evs, ['k', 'other'])).toEqual([]);
  });

  it('filters, categorize and split_url_events answer the same for sealed and plain data, and alternating rules', () => {
    const texts = ['{"app":"Code","title":"GitHub"}', '{"app":"vim","title":"x"}', '{"app":"Slack","url":"https://www.example.org/a?b=1"}'];
    const intern = dataInterner();
    const run = (mk: (t: string) => Record<string, unknown>) => {
      const source = memorySource([{ id: 'w', events: texts.map((t, i) => ({ id: i + 1, timestamp: i * 60e6, duration: 60e6, data: mk(t) })) }]);
      const ask = (q: string[]) => runQuery(source, { timeperiods: ['1970-01-01T00:00:00Z/1970-01-02T00:00:00Z'], query: q });
      return [
        ask(['e = query_bucket("w");', 'RETURN = [filter_keyvals(e, "app", ["vim", "Slack"]), exclude_keyvals(e, "app", ["vim"]), filter_keyvals_regex(e, "title", "Git")];']),
        ask(['RETURN = categorize(query_bucket("w"), [[["Work"], {"type": "regex", "regex": "GitHub|vim"}]]);']),
        ask(['RETURN = categorize(query_bucket("w"), [[["Chat"], {"type": "regex", "regex": "Slack"}]]);']),
        ask(['RETURN = categorize(query_bucket("w"), [[["Work"], {"type": "regex", "regex": "GitHub|vim"}]]);']),
        ask(['RETURN = split_url_events(split_url_events(query_bucket("w")));']),
      ];
    };
    const sealedRes = run(intern), plainRes = run((t) => JSON.parse(t) as Record<string, unknown>);
    expect(sealedRes).toEqual(plainRes);
    expect(JSON.stringify(sealedRes)).toEqual(JSON.stringify(plainRes));
    const cats = (r: unknown) => (r as { data: { $category: string[] } }[][])[0]!.map((e) => e.data.$category.join('>'));
    expect(cats(sealedRes[1])).toEqual(['Uncategorized', 'Work', 'Work']);
    expect(cats(sealedRes[2])).toEqual(['Chat', 'Uncategorized', 'Uncategorized']);
    expect(cats(sealedRes[3])).toEqual(cats(sealedRes[1]));
    expect((sealedRes[4] as { data: Record<string, unknown> }[][])[0]![0]!.data).toMatchObject({ $domain: 'example.org', $path: '/a', $params: 'b=1' });
  });

  it('categorize and split_url_events give sealed data whose later transforms stay exact', () => {
    const intern = dataInterner();
    const evs = [ev(0, 5, intern('{"app":"a","url":"https://x.org/"}')), ev(10, 5, intern('{"app":"b","url":"https://y.org/"}')), ev(20, 5, intern('{"app":"a","url":"https://x.org/"}'))];
    const rules: Value = [[['A'], new QDict(new Map<string, Value>([['type', 'regex'], ['regex', '^a$']]))]];
    const cat = categorize(splitUrlEvents(evs), rules);
    expect(cat[0]!.data).toBe(cat[2]!.data);
    expect(Object.getOwnPropertySymbols({ ...cat[0]!.data })).toEqual([]);
    expect(plainOf(mergeEventsByKeys(cat, ['$category']))).toEqual([
      [0, 10e6, { app: 'a', url: 'https://x.org/', $protocol: 'https', $domain: 'x.org', $path: '/', $params: '', $category: ['A'] }],
      [10e6, 5e6, { app: 'b', url: 'https://y.org/', $protocol: 'https', $domain: 'y.org', $path: '/', $params: '', $category: ['Uncategorized'] }],
    ]);
  });
});

describe('formatTimestamp', () => {
  it('writes 0, 3 or 6 fractional digits across days, before 1970 and past year 9999', () => {
    const cases: [string, string][] = [
      ['2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z'],
      ['2024-05-01T23:59:59.999999Z', '2024-05-01T23:59:59.999999Z'],
      ['2024-05-02T00:00:00.010Z', '2024-05-02T00:00:00.010Z'],
      ['2024-05-02T09:05:07.000001Z', '2024-05-02T09:05:07.000001Z'],
      ['2024-02-29T12:00:00.5Z', '2024-02-29T12:00:00.500Z'],
      ['1969-12-31T23:59:59.25Z', '1969-12-31T23:59:59.250Z'],
      ['9999-12-31T23:59:59.123Z', '9999-12-31T23:59:59.123Z'],
    ];
    for (const [input, out] of cases) expect(formatTimestamp(parseTimestamp(input))).toBe(out);
    // Alternating days, as result lists do.
    const a = parseTimestamp('2024-05-01T10:00:00Z'), b = parseTimestamp('2031-01-01T00:00:01Z');
    expect([a, b, a, b].map(formatTimestamp)).toEqual(['2024-05-01T10:00:00Z', '2031-01-01T00:00:01Z', '2024-05-01T10:00:00Z', '2031-01-01T00:00:01Z']);
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00Z');
    expect(formatTimestamp(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });
});
