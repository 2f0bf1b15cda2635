import { describe, expect, it } from 'vitest';
import { checkDepth } from '../../src/http/body.js';
import { pathSegments } from '../../src/http/server.js';

/**
 * The per-request parsing skips work when it can (no regex for origin-form targets, no decoding
 * without '%', no allocations in the depth check). These oracles are the plain versions; the fast
 * ones must answer exactly the same, errors included.
 */
function pathSegmentsPlain(url: string): { segs: string[]; query: string } | string {
  let target = url;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (abs) target = target.slice(abs[0].length);
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const segs: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    try {
      segs.push(decodeURIComponent(raw));
    } catch {
      return `malformed percent-encoding in path segment '${raw}'`;
    }
  }
  return { segs, query };
}

function depthPlain(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
    }
  }
  return true;
}

const outcome = (f: () => unknown): unknown => {
  try {
    return f();
  } catch (err) {
    return (err as Error).message;
  }
};

describe('pathSegments', () => {
  const URLS = [
    '/',
    '',
    '/api/0/buckets/b/heartbeat?pulsetime=2',
    '//api//0/buckets/',
    '/api/0/buckets/a%2Fb/events',
    '/api/0/buckets/%E2%9C%93/events?limit=1',
    '/api/0/buckets/caf\u00e9/events', // non-ASCII sent raw
    '/api/0/buckets/%ZZ/events',
    '/api/0/buckets/%/events',
    '/api/0/buckets/%E2%9C/events', // cut-off UTF-8
    'http://127.0.0.1:5600/api/0/info?x=1',
    'HTTP+x-y.z://host/api/0/info',
    'http://host',
    '*',
    'api/0/info',
    '/api/0/info?',
    '/api/0/info?a=1?b=2',
    '/a+b/c%20d',
  ];
  it('equals the plain version (segments, query and errors)', () => {
    for (const url of URLS) expect(outcome(() => pathSegments(url)), url).toEqual(outcome(() => pathSegmentsPlain(url)));
  });
});

describe('checkDepth', () => {
  const nest = (levels: number, leaf: unknown, wrap: (v: unknown, i: number) => unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < levels; i++) v = wrap(v, i);
    return v;
  };
  const shapes = (n: number): unknown[] => [
    nest(n, 1, (v) => [v]),
    nest(n, {}, (v) => ({ a: v })),
    nest(n, null, (v, i) => (i % 2 ? [0, v, 'x'] : { k: 'v', deeper: v })),
    // The deep branch is not the first key, and `__proto__` is an own key of a parsed body.
    JSON.parse(`{"a":1,"b":{"c":[]},"__proto__":${JSON.stringify(nest(n - 1, 0, (v) => [v]))}}`),
    { wide: Array.from({ length: 50 }, (_, i) => (i === 49 ? nest(n - 2, 'x', (v) => ({ v })) : { i })) },
  ];
  it('accepts exactly what the plain version accepts, at and around the limit', () => {
    for (const max of [1, 2, 5, 128]) {
      for (const n of [max - 1, max, max + 1, max + 2]) {
        if (n < 2) continue;
        for (const v of shapes(n)) {
          const ok = depthPlain(v, max);
          if (ok) expect(() => checkDepth(v, max)).not.toThrow();
          else expect(() => checkDepth(v, max, 'body')).toThrow(`body is nested deeper than ${max} levels`);
        }
      }
    }
    for (const scalar of [null, 1, 'x', true]) expect(() => checkDepth(scalar, 1)).not.toThrow();
  });

  it('refuses a body nested far too deep without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(() => checkDepth(deep)).toThrow('request body is nested deeper than 128 levels');
  });
});
