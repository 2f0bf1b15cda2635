import { describe, expect, it } from 'vitest';
import { parse, tokenize } from '../../src/query/parse.js';
import { runQuery } from '../../src/query/run.js';
import { memorySource } from '../../src/query/source.js';
import { E, q, qErr } from './helpers.js';
import { httpStatus } from '../../src/model/errors.js';

describe('lexer', () => {
  it('keeps backslashes verbatim; only \\" is an escape', () => {
    const [t] = tokenize(String.raw`"\bfoo\.com \w \n \"q\""`);
    expect(t!.text).toBe(String.raw`\bfoo\.com \w \n "q"`);
  });
  it('numbers are floats: 1, 1., 1.25', () => {
    expect(tokenize('1 1. 1.25').slice(0, 3).map((t) => t.num)).toEqual([1, 1, 1.25]);
  });
  it('keywords beat identifiers only on exact spelling', () => {
    expect(tokenize('return returned iffy if RETURN True').slice(0, 6).map((t) => t.type)).toEqual([
      'kw', 'ident', 'ident', 'kw', 'ident', 'bool',
    ]);
  });
  it('tracks line and column across newlines, comments and multi-line strings', () => {
    const toks = tokenize('a = 1; # c\n  b = "x\ny"; c');
    const c = toks.find((t) => t.text === 'c')!;
    expect(c.pos).toMatchObject({ line: 3, col: 5 });
    expect(toks.find((t) => t.text === 'b')!.pos).toMatchObject({ line: 2, col: 3 });
  });
  it('reports an unknown character with its position instead of truncating', () => {
    expect(() => tokenize('a = 1;\nb = !a;')).toThrow(/unexpected character !"\) at line 2, column 5/);
    expect(() => tokenize('x = "é"; y = é;')).toThrow(/line 1, column 14/);
  });
  it('reports an unterminated string at its opening quote', () => {
    expect(() => tokenize('a = 1;\n  b = "abc')).toThrow(/unterminated string.* at line 2, column 7/);
    // \" escapes the quote, so a string cannot end in a backslash (reference quirk)
    expect(() => tokenize('a = "abc\\";')).toThrow(/unterminated/);
  });
});

describe('parser errors name position and expectation', () => {
  const cases: [string, RegExp][] = [
    ['a = 1\nb = 2;', /expected ';' at the end of the statement, found identifier b"\) at line 2, column 1/],
    ['return 1', /expected ';' after the return statement, found end of query"\) at line 1, column 9/],
    ['a = [1, 2,];', /no trailing commas.* at line 1, column 11/],
    ['a = {x: 1};', /dict keys must be double-quoted.* at line 1, column 6/],
    ['a = f(1 2);', /expected ',' or '\)' in the argument list, found number 2"\) at line 1, column 9/],
    ['if true { a = 1; ', /expected '\}' to close the block, found end of query/],
    ['else { a = 1; }', /keyword else/],
    ['a = ;', /expected a value .* found ';'"\) at line 1, column 5/],
    ['a = (1 + 2;', /expected an operator or '\)'/],
    ['a = 1 + ;', /at line 1, column 9/],
  ];
  for (const [src, re] of cases) {
    it(JSON.stringify(src), () => {
      expect(() => parse(src)).toThrow(re);
      expect(qErr(src).status).toBe(400);
      expect(qErr(src).message).toMatch(/^ParsingError/);
    });
  }
});

describe('language basics (query2.md §6.1)', () => {
  const ok: [string, unknown][] = [
    ['return 1;', 1],
    ['RETURN = 1;', 1],
    ['return 1 + 1;', 2],
    ['return 1 + 2 * 3;', 9],
    ['return 2.5 % 1;', 0.5],
    ['return 0 - 5 % 3;', -2],
    ['return 7 - 2 - 1;', 4],
    ['return 1 / 4;', 0.25],
    ['return "a" + "b";', 'ab'],
    ['return [1] + [2];', [1, 2]],
    ['return "say \\"hi\\"";', 'say "hi"'],
    ['return 1;# trailing comment', 1],
    ['n = 1; if true { n = 2; } return n;', 2],
    ['a = false; b = true; n = 1; if a { n = 2; } elif b { n = 3; } return n;', 3],
    ['a = false; n = 1; if a { n = 2; } elif a { n = 3; } else { n = 4; } return n;', 4],
    ['a = ["b", "a"]; return contains(a, "a");', true],
    ['a = {"b": 1}; return contains(a, "a");', false],
    ['a = {"b": 1}; return contains(a, "b");', true],
    ['return contains([1, "x", [true]], [true]);', true],
    ['return contains([1], "1");', false],
    [';; return 1;;', 1],
    ['if true { return 1; };', 1],
    ['return True == true;', true],
    ['return [1, [2]] == [1, [2]];', true],
    ['return {"a": 1, "b": [2]} == {"b": [2], "a": 1};', true],
    ['return "x" == "y";', false],
    ['return {"k": 1, "k": 2};', { k: 2 }],
    ['return {"b": 1, "a": {"d": 1, "c": 2}};', { a: { c: 2, d: 1 }, b: 1 }],
    ['x = print("hello", 1); return [x];', [null]],
    ['return x = 5;', null],
    ['f = sort_by_duration; RETURN = f([]);', []],
    ['RETURN = 1; RETURN = 2;', 2],
    ['return 1; return 2;', 2],
    ['return 1 % 0;', null], // NaN serialises as null
    ['return "ünï" + "코드";', 'ünï코드'],
    ['return nop();', 1],
    ['return TIMEINTERVAL;', '2000-01-01T00:00:00+00:00/2000-01-02T00:00:00+00:00'],
    ['return concat();', []],
    ['return returned = 3;', null],
  ];
  for (const [src, want] of ok) it(src, () => expect(q(src)).toEqual(want));

  const bad: [string, RegExp][] = [
    ['return 1/0;', /^MathError\("Tried to divide by zero!"\) at line 1, column 9$/],
    ['return true == 1;', /^InvalidType/],
    ['return 1 + "a";', /^InvalidType\("cannot apply '\+' to number and string"\)/],
    ['return "a" - "b";', /^InvalidType/],
    ['return no_such_function(1);', /^VariableNotDefined\("no_such_function"\) at line 1, column 8$/],
    ['x = 1; return x(1);', /^InvalidType\("x"\)/],
    ['flood = 1; return flood([]);', /^InvalidType\("flood"\)/],
    ['', /^EmptyQuery$/],
    ['a = 1;', /^EmptyQuery$/],
    ['return 1; y = undefined_thing;', /^VariableNotDefined\("undefined_thing"\)/],
    ['if 1 { return 1; }', /^InvalidType\("if condition must be a bool, got number"\)/],
    ['return flood([], []);', /^InvalidFunctionParameters\("flood: expected 1 parameter, got 2"\)/],
    ['return flood([1]);', /^InvalidFunctionParameters\("flood: first parameter must be a list of events, element 0 is a number"\)/],
    ['return flood;', /^InvalidType\("cannot return the function flood/],
    ['return find_bucket();', /expected 1 to 2 parameters, got 0/],
    ['return concat([], 1);', /second parameter must be a list of events/],
    ['TIMEINTERVAL = "nonsense"; return query_bucket("b");', /^TimeIntervalError/],
  ];
  for (const [src, re] of bad) {
    it(`${src} fails`, () => {
      const e = qErr(src, { b: [] });
      expect(e.status).toBe(400);
      expect(e.message).toMatch(re);
    });
  }

  it('none == none is false at top level but equal inside lists', () => {
    expect(q('a = print(); b = print(); return a == b;')).toBe(false);
    expect(q('a = print(); return [a] == [a];')).toBe(true);
  });

  it('blocks do not scope variables', () => {
    expect(q('if true { x = 5; } return x;')).toBe(5);
  });

  it('joins query strings with newlines (comments end at each element)', () => {
    const src = memorySource([]);
    const r = runQuery(src, { timeperiods: ['2000-01-01T00:00:00Z/2000-01-01T01:00:00Z'], query: ['a = 1; # note', 'return a;'] });
    expect(r).toEqual([1]);
  });

  it('evaluates once per timeperiod in a fresh environment, results in order', () => {
    const src = memorySource([{ id: 'b', events: [E('10:00:00', 60, { x: 1 }, 1), E('12:00:00', 30, { x: 2 }, 2)] }]);
    const prog = ['if contains(query_bucket_names(), "seen") { x = 1; }', 'RETURN = [TIMEINTERVAL, sum_durations(query_bucket("b"))];'];
    const r = runQuery(src, {
      timeperiods: ['2000-01-01T09:00:00Z/2000-01-01T11:00:00Z', '2000-01-01T11:00:00+01:00/2000-01-01T14:00:00+01:00', '2000-01-01T12:00:15.5Z/2000-01-01T13:00:00Z'],
      query: prog,
    });
    expect(r).toEqual([
      ['2000-01-01T09:00:00+00:00/2000-01-01T11:00:00+00:00', 60],
      ['2000-01-01T10:00:00+00:00/2000-01-01T13:00:00+00:00', 90],
      ['2000-01-01T12:00:15.500+00:00/2000-01-01T13:00:00+00:00', 14.5],
    ]);
  });

  it('reassigning TIMEINTERVAL changes the window of later query_bucket calls', () => {
    const b = { b: [E('10:00:00', 60, {}, 1), E('12:00:00', 60, {}, 2)] };
    expect(q('a = sum_durations(query_bucket("b")); TIMEINTERVAL = "2000-01-01T11:00:00Z/2000-01-01T13:00:00Z"; return [a, sum_durations(query_bucket("b"))];', b)).toEqual([120, 60]);
  });

  it('the variable RETURN assigned inside an if counts', () => {
    expect(q('if 1 == 1 { RETURN = "yes"; } else { RETURN = "no"; }')).toBe('yes');
  });
});

describe('request validation', () => {
  const src = memorySource([]);
  const cases: [unknown, RegExp][] = [
    [null, /JSON object/],
    [[], /JSON object/],
    [{ query: ['return 1;'] }, /"timeperiods" must be a list/],
    [{ timeperiods: [PERIOD_OK()], query: 'return 1;' }, /"query" must be a list of strings/],
    [{ timeperiods: [PERIOD_OK()], query: [1] }, /query\[0\] must be a string/],
    [{ timeperiods: [5], query: [] }, /timeperiods\[0\] must be/],
    [{ timeperiods: ['2000-01-01T00:00:00Z'], query: [] }, /separated by one "\/"/],
    [{ timeperiods: ['2000-01-01T00:00:00Z/2000-01-01T00:00:00Z/x'], query: [] }, /separated by one "\/"/],
    [{ timeperiods: ['2000-13-01T00:00:00Z/2000-01-02T00:00:00Z'], query: [] }, /timeperiods\[0\] start/],
    [{ timeperiods: ['2000-01-01T00:00:00/2000-01-02T00:00:00Z'], query: [] }, /timeperiods\[0\] start/],
    [{ timeperiods: [PERIOD_OK(), '2000-01-01T00:00:00Z/yesterday'], query: [] }, /timeperiods\[1\] end/],
  ];
  for (const [body, re] of cases) {
    it(`rejects ${JSON.stringify(body)}`, () => {
      try {
        runQuery(src, body);
        expect.unreachable();
      } catch (e) {
        expect((e as { status: number }).status).toBe(400);
        expect((e as Error).message).toMatch(re);
      }
    });
  }
  it('empty timeperiods → []', () => {
    expect(runQuery(src, { timeperiods: [], query: ['garbage ('] })).toEqual([]);
  });
  it('accepts toISOString() and moment-style periods', () => {
    expect(runQuery(src, { timeperiods: ['2024-05-01T02:00:00.000Z/2024-05-02T02:00:00.000Z', '2024-05-01T04:00:00+02:00/2024-05-02T04:00:00+02:00'], query: ['return TIMEINTERVAL;'] }))
      .toEqual(['2024-05-01T02:00:00+00:00/2024-05-02T02:00:00+00:00', '2024-05-01T02:00:00+00:00/2024-05-02T02:00:00+00:00']);
  });
  it('an in-process deadline stops a long program with 408', () => {
    const prog = ['a = [1];', ...Array.from({ length: 16 }, () => 'a = a + a;'), ...Array.from({ length: 5000 }, () => 'x = contains(a, "z");'), 'return 1;'];
    try {
      runQuery(src, { timeperiods: [PERIOD_OK()], query: prog }, { deadline: Date.now() + 50 });
      expect.unreachable();
    } catch (e) {
      expect(httpStatus(e)).toBe(408);
      expect((e as Error).message).toMatch(/time budget/);
    }
  });
});

function PERIOD_OK(): string {
  return '2000-01-01T00:00:00Z/2000-01-02T00:00:00Z';
}
