import { makeBuiltins, valueEquals, type Runtime } from './builtins.js';
import type { Expr, Stmt } from './parse.js';
import { asArray, QDict, QFunc, QueryError, typeName, type Value } from './values.js';

/**
 * Evaluates a parsed program in a fresh environment (built-ins + TIMEINTERVAL) and returns the
 * final value of RETURN. `return x;` only assigns RETURN; execution continues.
 */
export function evaluate(
  program: Stmt[],
  init: { source: Runtime['source']; timeinterval: string; print: (s: string) => void; deadline?: number },
): Value {
  const env = new Map<string, Value>();
  const rt: Runtime = { source: init.source, env, print: init.print };
  for (const [k, f] of makeBuiltins(rt)) env.set(k, f);
  env.set('TIMEINTERVAL', init.timeinterval);
  const deadline = init.deadline ?? Infinity;

  const block = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (deadline !== Infinity && Date.now() > deadline) {
        throw new QueryError('Timeout', 'query ran longer than its time budget', s.pos);
      }
      stmt(s);
    }
  };
  const stmt = (s: Stmt): void => {
    switch (s.k) {
      case 'assign':
        env.set(s.name, expr(s.expr));
        return;
      case 'expr':
        expr(s.expr);
        return;
      case 'return': {
        let v: Value;
        if (s.s.k === 'assign') {
          env.set(s.s.name, expr(s.s.expr));
          v = null;
        } else v = expr(s.s.expr);
        env.set('RETURN', v);
        return;
      }
      case 'if': {
        for (const b of s.branches) {
          const c = expr(b.cond);
          if (typeof c !== 'boolean') {
            throw new QueryError('InvalidType', `if condition must be a bool, got ${typeName(c)}`, posOf(b.cond));
          }
          if (c) {
            block(b.body);
            return;
          }
        }
        if (s.otherwise) block(s.otherwise);
        return;
      }
    }
  };

  const expr = (e: Expr): Value => {
    switch (e.k) {
      case 'num':
      case 'str':
      case 'bool':
        return e.v;
      case 'var': {
        const v = env.get(e.name);
        if (v === undefined) throw new QueryError('VariableNotDefined', e.name, e.pos);
        return v;
      }
      case 'list':
        return e.items.map(expr);
      case 'dict': {
        const m = new Map<string, Value>();
        for (const [k, x] of e.entries) m.set(k, expr(x));
        return new QDict(m);
      }
      case 'call': {
        const f = env.get(e.name);
        if (f === undefined) throw new QueryError('VariableNotDefined', e.name, e.pos);
        if (!(f instanceof QFunc)) throw new QueryError('InvalidType', e.name, e.pos);
        const args = e.args.map(expr);
        try {
          return f.impl(args, { name: e.name });
        } catch (err) {
          if (err instanceof QueryError) throw err.at(e.pos);
          if (err instanceof RangeError && /array length|string length|call stack/i.test(err.message)) {
            throw new QueryError('InvalidValue', `${e.name}: ${err.message}`, e.pos);
          }
          throw err;
        }
      }
      case 'bin':
        return binary(e.op, expr(e.l), expr(e.r), e);
    }
  };

  block(program);
  const ret = env.get('RETURN');
  if (ret === undefined) throw new QueryError('EmptyQuery', null);
  return ret;
}

const posOf = (e: Expr): Expr['pos'] => e.pos;

function binary(op: string, l: Value, r: Value, e: Expr): Value {
  const typeErr = (): QueryError =>
    new QueryError('InvalidType', `cannot apply '${op}' to ${typeName(l)} and ${typeName(r)}`, e.pos);
  if (op === '==') {
    if (typeName(l) !== typeName(r)) throw typeErr();
    if (l === null) return false; // reference quirk: none == none is false at top level
    if (l instanceof QFunc) throw typeErr();
    return valueEquals(l, r);
  }
  if (op === '+') {
    l = asArray(l);
    r = asArray(r);
    if (typeof l === 'number' && typeof r === 'number') return l + r;
    if (typeof l === 'string' && typeof r === 'string') return l + r;
    if (Array.isArray(l) && Array.isArray(r)) {
      if (l.length + r.length > 50_000_000) throw new QueryError('InvalidValue', 'list too long', e.pos);
      return l.concat(r);
    }
    throw typeErr();
  }
  if (typeof l !== 'number' || typeof r !== 'number') throw typeErr();
  switch (op) {
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      if (r === 0) throw new QueryError('MathError', 'Tried to divide by zero!', e.pos);
      return l / r;
    default:
      return l % r;
  }
}

