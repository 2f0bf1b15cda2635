import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportParser, type ImportItem } from '../../src/http/stream/import-parser.js';
import { MultipartParser, boundaryOf } from '../../src/http/stream/multipart.js';
import { bucketBody, startServer, type Harness } from './harness.js';

const ev = (ts: string, duration: number, data: Record<string, unknown> = {}) => ({ timestamp: `2024-05-01T${ts}Z`, duration, data });

/** Feeds `text` to the parser in pieces of `size` bytes (splitting UTF-8 sequences too). */
function parseInPieces(text: string, size: number): ImportItem[] {
  const p = new ImportParser();
  const buf = Buffer.from(text);
  const out: ImportItem[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(...p.write(buf.subarray(i, i + size)));
  out.push(...p.end());
  return out;
}

describe('incremental import parser', () => {
  const doc = {
    other: { ignored: [1, { x: '}]' }] },
    buckets: {
      k1: { id: 'b1', type: 't', client: 'c', hostname: 'h', created: '2024-05-01T00:00:00Z', data: { 'é': '"\\' },
        events: [ev('10:00:00', 1, { s: 'a]}"' }), ev('09:00:00', 2.5, { n: null, deep: [[{}]] })] },
      k2: { id: 'b2', events: null, type: 't', client: 'c', hostname: 'h' },
    },
    tail: true,
  };
  const expected: ImportItem[] = [
    { kind: 'bucket', key: 'k1' },
    { kind: 'field', key: 'id', value: 'b1' }, { kind: 'field', key: 'type', value: 't' },
    { kind: 'field', key: 'client', value: 'c' }, { kind: 'field', key: 'hostname', value: 'h' },
    { kind: 'field', key: 'created', value: '2024-05-01T00:00:00Z' }, { kind: 'field', key: 'data', value: { 'é': '"\\' } },
    { kind: 'events' },
    { kind: 'event', value: ev('10:00:00', 1, { s: 'a]}"' }) },
    { kind: 'event', value: ev('09:00:00', 2.5, { n: null, deep: [[{}]] }) },
    { kind: 'bucketEnd' },
    { kind: 'bucket', key: 'k2' },
    { kind: 'field', key: 'id', value: 'b2' }, { kind: 'field', key: 'events', value: null },
    { kind: 'field', key: 'type', value: 't' }, { kind: 'field', key: 'client', value: 'c' }, { kind: 'field', key: 'hostname', value: 'h' },
    { kind: 'bucketEnd' },
  ];

  it('yields the same items whatever the chunking (compact and pretty-printed)', () => {
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), '\ufeff' + JSON.stringify(doc)]) {
      for (const size of [1, 2, 3, 7, 64, 1 << 20]) expect(parseInPieces(text, size), `size ${size}`).toEqual(expected);
    }
  });

  it('rejects syntax errors (400) and wrong shapes (422) with a position', () => {
    const bad: [string, number][] = [
      ['', 400], ['{', 400], ['{"buckets":{}', 400], ['{"buckets":{}}}', 400], ['{"buckets":{}} x', 400],
      ['{"buckets":{"a":{"events":[{"timestamp":1,}]}}}', 400], ['{"buckets" {}}', 400], ['{buckets:{}}', 400],
      ['{"buckets":{"a":{"type":tru}}}', 400], ['{"buckets":{"a":{"events":[1 2]}}}', 400], ['{"a":1,}', 400],
      ['[]', 422], ['"x"', 422], ['{}', 422], ['{"other":1}', 422], ['{"buckets":[]}', 422], ['{"buckets":{"a":[]}}', 422], ['{"buckets":{"a":1}}', 422],
    ];
    for (const [text, status] of bad) {
      let err: any;
      try {
        parseInPieces(text, 3);
      } catch (e) {
        err = e;
      }
      expect(err?.status, text).toBe(status);
    }
  });
});

describe('multipart parser', () => {
  it('splits parts whatever the chunking', () => {
    const b = 'XyZ123';
    const body = `preamble\r\n--${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${b}\r\n` +
      `Content-Disposition: form-data; name="buckets.json"; filename="aw \\"x\\".json"\r\nContent-Type: application/json\r\n\r\n{"a":"--${b}x"}\r\n--${b}--\r\nepilogue`;
    for (const size of [1, 5, 13, 1000]) {
      const p = new MultipartParser(b);
      const items = [];
      const buf = Buffer.from(body);
      for (let i = 0; i < buf.length; i += size) items.push(...p.write(buf.subarray(i, i + size)));
      items.push(...p.end());
      const parts: { name: string | null; filename: string | null; data: string }[] = [];
      for (const it of items) {
        if (it.kind === 'part') parts.push({ name: it.name, filename: it.filename, data: '' });
        else if (it.kind === 'data') parts[parts.length - 1]!.data += it.data.toString();
      }
      expect(parts, `size ${size}`).toEqual([
        { name: 'note', filename: null, data: 'hello' },
        { name: 'buckets.json', filename: 'aw "x".json', data: `{"a":"--${b}x"}` },
      ]);
    }
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(boundaryOf('multipart/form-data; charset=x; boundary=----abc')).toBe('----abc');
    expect(boundaryOf('multipart/form-data')).toBe(null);
  });
});

describe('export and import over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer();
    await h.req('POST', '/api/0/buckets/win', { json: bucketBody({ created: '2024-05-01T08:00:00Z', data: { x: 1 } }) });
    await h.req('POST', '/api/0/buckets/win/events', { json: [ev('10:00:00', 5, { app: 'A' }), ev('11:00:00', 2.5, { app: 'B' })] });
    await h.req('POST', '/api/0/buckets/afk', { json: bucketBody({ type: 'afkstatus', created: '2024-05-01T08:00:00Z' }) });
  });
  afterAll(async () => {
    await h.stop();
  });

  const multipart = (files: [string, string | null, string][]) => {
    const b = '----sundialtest' + Math.random().toString(16).slice(2);
    let body = '';
    for (const [name, filename, content] of files) {
      body += `--${b}\r\nContent-Disposition: form-data; name="${name}"${filename === null ? '' : `; filename="${filename}"`}\r\n` +
        `Content-Type: application/json\r\n\r\n${content}\r\n`;
    }
    body += `--${b}--\r\n`;
    return { body, headers: { 'Content-Type': `multipart/form-data; boundary=${b}` } };
  };

  it('exports one bucket with the reference document shape and headers', async () => {
    const r = await h.req('GET', '/api/0/buckets/win/export');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-disposition']).toBe('attachment; filename=aw-bucket-export_win.json');
    const b = r.body.buckets.win;
    expect(b).toMatchObject({
      id: 'win', type: 'currentwindow', client: 'test', hostname: 'h', created: '2024-05-01T08:00:00Z', data: { x: 1 },
      metadata: { start: '2024-05-01T10:00:00Z', end: '2024-05-01T11:00:02.500Z' },
    });
    expect(b.events.map((e: any) => [e.timestamp, e.duration, e.data])).toEqual([
      ['2024-05-01T11:00:00Z', 2.5, { app: 'B' }], ['2024-05-01T10:00:00Z', 5, { app: 'A' }],
    ]);
    expect(Number.isInteger(b.events[0].id)).toBe(true);
  });

  it('exports all buckets; an empty bucket has an empty list', async () => {
    const r = await h.req('GET', '/api/0/export');
    expect(r.headers['content-disposition']).toBe('attachment; filename=aw-buckets-export.json');
    expect(Object.keys(r.body.buckets).sort()).toEqual(['afk', 'win']);
    expect(r.body.buckets.afk.events).toEqual([]);
    const head = await h.req('HEAD', '/api/0/export');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['content-disposition']).toBe('attachment; filename=aw-buckets-export.json');
  });

  it('re-importing an export changes nothing (merge without duplicates); ids are stripped', async () => {
    const before = (await h.req('GET', '/api/0/export')).text;
    const r = await h.req('POST', '/api/0/import', { body: before, headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(200);
    expect((await h.req('GET', '/api/0/export')).text).toBe(before);
  });

  it('imports into a new bucket and merges into an existing one, skipping unparseable events', async () => {
    const doc = {
      buckets: {
        anything: { id: 'imported', type: 't', client: 'c', hostname: 'h', created: '2024-01-01T00:00:00Z',
          events: [{ ...ev('10:00:00', 1, { n: 1 }), id: 999999 }, { timestamp: 'bad', data: {} }, 'junk', ev('10:00:00', 1, { n: 1 })] },
        win: { id: 'win', type: 'currentwindow', client: 'test', hostname: 'h',
          events: [ev('10:00:00', 5, { app: 'A' }), ev('12:00:00', 1, { app: 'C' }), ev('10:00:00', 5, { app: 'A', extra: 1 })] },
      },
    };
    const r = await h.req('POST', '/api/0/import', { json: doc });
    expect(r.status).toBe(200);
    const imp = (await h.req('GET', '/api/0/buckets/imported/events')).body;
    // Duplicates within one import are kept (as the reference); the given id is not used.
    expect(imp.map((e: any) => e.data)).toEqual([{ n: 1 }, { n: 1 }]);
    expect(imp.some((e: any) => e.id === 999999)).toBe(false);
    expect((await h.req('GET', '/api/0/buckets/imported')).body.created).toBe('2024-01-01T00:00:00Z');
    const win = (await h.req('GET', '/api/0/buckets/win/events')).body;
    expect(win.map((e: any) => e.data)).toEqual([{ app: 'C' }, { app: 'B' }, { app: 'A' }, { app: 'A', extra: 1 }]);
    await h.req('DELETE', '/api/0/buckets/imported');
  });

  it('accepts multipart uploads with any file field name (the web UI uses buckets.json)', async () => {
    const one = JSON.stringify({ buckets: { m1: { id: 'mp1', type: 't', client: 'c', hostname: 'h', events: [ev('10:00:00', 1)] } } });
    const two = JSON.stringify({ buckets: { m2: { id: 'mp2', type: 't', client: 'c', hostname: 'h', events: [] } } });
    const r = await h.req('POST', '/api/0/import', multipart([['note', null, 'not a file'], ['buckets.json', 'export.json', one], ['whatever', 'b.json', two]]));
    expect(r.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/mp1/events/count')).body).toBe(1);
    expect((await h.req('GET', '/api/0/buckets/mp2')).status).toBe(200);
    const none = await h.req('POST', '/api/0/import', multipart([['note', null, 'x']]));
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/no file/);
    await h.req('DELETE', '/api/0/buckets/mp1');
    await h.req('DELETE', '/api/0/buckets/mp2');
  });

  it('a malformed or wrongly shaped document is refused entirely (nothing imported)', async () => {
    const before = (await h.req('GET', '/api/0/export')).text;
    const good = { id: 'new1', type: 't', client: 'c', hostname: 'h', events: [ev('10:00:00', 1)] };
    const cases: [string, number, RegExp][] = [
      [JSON.stringify({ buckets: { a: good } }).slice(0, -3), 400, /JSON/],
      [JSON.stringify({ buckets: { a: good, b: { id: 'new2', type: 't', client: 'c' } } }), 400, /new2.*hostname/],
      [JSON.stringify({ buckets: { a: good, b: { id: 'bad/id', type: 't', client: 'c', hostname: 'h' } } }), 400, /bad\/id/],
      [JSON.stringify({ buckets: { a: good, b: { ...good, id: 'new3', events: 5 } } }), 422, /events/],
      [JSON.stringify({ buckets: [good] }), 422, /buckets/],
      [JSON.stringify([good]), 422, /object/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await h.req('POST', '/api/0/import', { body, headers: { 'Content-Type': 'application/json' } });
      expect(r.status, body).toBe(status);
      expect(r.body.message, body).toMatch(msg);
    }
    const mp = await h.req('POST', '/api/0/import', multipart([['f', 'a.json', JSON.stringify({ buckets: { a: good } })], ['g', 'b.json', '{"buckets":']]));
    expect(mp.status).toBe(400);
    expect((await h.req('GET', '/api/0/export')).text).toBe(before);
  });

  it('imports {"buckets": {}}; a document without "buckets" is 422', async () => {
    expect((await h.req('POST', '/api/0/import', { json: { buckets: {} } })).status).toBe(200);
    const r = await h.req('POST', '/api/0/import', { json: { bucket: {} } });
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/buckets/);
  });

  it('streams a large import through the spool (beyond the in-memory threshold)', async () => {
    const events = [];
    for (let i = 0; i < 60_000; i++) {
      events.push({ timestamp: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), duration: 1, data: { i, pad: 'x'.repeat(100) } });
    }
    const body = JSON.stringify({ buckets: { big: { id: 'big', type: 't', client: 'c', hostname: 'h', events } } });
    expect(body.length).toBeGreaterThan(8 * 1024 * 1024);
    const r = await h.req('POST', '/api/0/import', { body, headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/big/events/count')).body).toBe(60_000);
    const again = await h.req('POST', '/api/0/import', { body, headers: { 'Content-Type': 'application/json' } });
    expect(again.status).toBe(200);
    expect((await h.req('GET', '/api/0/buckets/big/events/count')).body).toBe(60_000);
    const exp = (await h.req('GET', '/api/0/buckets/big/export')).body.buckets.big.events;
    expect(exp.length).toBe(60_000);
    expect(exp[0].data.i).toBe(59_999);
    const fs = await import('node:fs');
    expect(fs.readdirSync(h.dir).filter((f) => f.includes('import'))).toEqual([]);
    await h.req('DELETE', '/api/0/buckets/big');
  });

  it('sanitises odd bucket ids in the export file name', async () => {
    await h.req('POST', '/api/0/buckets/' + encodeURIComponent('a b;é"'), { json: bucketBody() });
    const r = await h.req('GET', '/api/0/buckets/' + encodeURIComponent('a b;é"') + '/export');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe(`attachment; filename=aw-bucket-export_a_b___.json; filename*=UTF-8''aw-bucket-export_a%20b%3B%C3%A9%22.json`);
    expect(Object.keys(r.body.buckets)).toEqual(['a b;é"']);
  });
});
