import { QueryError, type Pos } from './values.js';

/** Lexer and parser of the query2 language (the dialect of ActivityWatch's aw-server-rust). */

export type TokType = 'ident' | 'kw' | 'bool' | 'str' | 'num' | 'op' | 'punct' | 'eof';

export interface Token {
  type: TokType;
  /** Source text for ident/kw/op/punct, decoded value for str, 'true'/'false' for bool. */
  text: string;
  num: number;
  pos: Pos;
}

const KEYWORDS = new Set(['if', 'elif', 'else', 'return']);
const BOOLS: Record<string, boolean> = { true: true, false: false, True: true, False: false };
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdPart = (c: string): boolean => isIdStart(c) || isDigit(c);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0, line = 1, lineStart = 0;
  const posAt = (off: number): Pos => ({ line, col: off - lineStart + 1, offset: off });
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const pos = posAt(i);
    if (c === '"') {
      // Only \" is an escape; every other backslash stays (regexes arrive verbatim).
      // The string ends at the first quote not preceded by a backslash.
      let j = i + 1;
      let raw = '';
      const startLine = line;
      let ls = lineStart;
      let lines = 0;
      for (;;) {
        if (j >= src.length) {
          throw new QueryError('ParsingError', 'unterminated string literal (missing closing ")', pos);
        }
        const d = src[j]!;
        if (d === '"' && src[j - 1] !== '\\') break;
        if (d === '\n') {
          lines++;
          ls = j + 1;
        }
        raw += d;
        j++;
      }
      out.push({ type: 'str', text: raw.replaceAll('\\"', '"'), num: 0, pos });
      line = startLine + lines;
      lineStart = ls;
      i = j + 1;
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < src.length && isDigit(src[j]!)) j++;
      if (src[j] === '.') {
        j++;
        while (j < src.length && isDigit(src[j]!)) j++;
      }
      const text = src.slice(i, j);
      out.push({ type: 'num', text, num: parseFloat(text), pos });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < src.length && isIdPart(src[j]!)) j++;
      const text = src.slice(i, j);
      const type: TokType = KEYWORDS.has(text) ? 'kw' : text in BOOLS ? 'bool' : 'ident';
      out.push({ type, text, num: 0, pos });
      i = j;
      continue;
    }
    if (c === '=' && src[i + 1] === '=') {
      out.push({ type: 'op', text: '==', num: 0, pos });
      i += 2;
      continue;
    }
    if ('=+-*/%'.includes(c)) {
      out.push({ type: 'op', text: c, num: 0, pos });
      i++;
      continue;
    }
    if ('()[]{},:;'.includes(c)) {
      out.push({ type: 'punct', text: c, num: 0, pos });
      i++;
      continue;
    }
    const shown = c === "'" ? "' (strings use double quotes)" : c;
    throw new QueryError('ParsingError', `unexpected character ${shown}`, pos);
  }
  out.push({ type: 'eof', text: '', num: 0, pos: posAt(i) });
  return out;
}

export type BinOp = '+' | '-' | '*' | '/' | '%' | '==';

export type Expr =
  | { k: 'num'; v: number; pos: Pos }
  | { k: 'str'; v: string; pos: Pos }
  | { k: 'bool'; v: boolean; pos: Pos }
  | { k: 'var'; name: string; pos: Pos }
  | { k: 'call'; name: string; args: Expr[]; pos: Pos }
  | { k: 'list'; items: Expr[]; pos: Pos }
  | { k: 'dict'; entries: [string, Expr][]; pos: Pos }
  | { k: 'bin'; op: BinOp; l: Expr; r: Expr; pos: Pos };

export type Simple = { k: 'assign'; name: string; expr: Expr; pos: Pos } | { k: 'expr'; expr: Expr; pos: Pos };

export type Stmt =
  | Simple
  | { k: 'return'; s: Simple; pos: Pos }
  | { k: 'if'; branches: { cond: Expr; body: Stmt[] }[]; otherwise: Stmt[] | null; pos: Pos };

function describe(t: Token): string {
  switch (t.type) {
    case 'eof': return 'end of query';
    case 'str': return `string ${JSON.stringify(t.text.length > 30 ? t.text.slice(0, 30) + '…' : t.text)}`;
    case 'num': return `number ${t.text}`;
    case 'ident': return `identifier ${t.text}`;
    case 'kw': return `keyword ${t.text}`;
    case 'bool': return t.text;
    default: return `'${t.text}'`;
  }
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(n = 0): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.i++;
    return t;
  }
  private is(type: TokType, text?: string, n = 0): boolean {
    const t = this.peek(n);
    return t.type === type && (text === undefined || t.text === text);
  }
  private fail(expected: string): never {
    const t = this.peek();
    throw new QueryError('ParsingError', `expected ${expected}, found ${describe(t)}`, t.pos);
  }
  private expect(type: TokType, text: string, expected = `'${text}'`): Token {
    if (!this.is(type, text)) this.fail(expected);
    return this.next();
  }

  program(): Stmt[] {
    const out: Stmt[] = [];
    while (!this.is('eof')) {
      if (this.is('punct', ';')) {
        this.next();
        continue;
      }
      out.push(this.statement());
    }
    return out;
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.type === 'kw' && t.text === 'if') return this.ifChain();
    if (t.type === 'kw' && t.text === 'return') {
      this.next();
      const s = this.simple();
      this.expect('punct', ';', "';' after the return statement");
      return { k: 'return', s, pos: t.pos };
    }
    if (t.type === 'kw') this.fail(`a statement (an '${t.text}' needs a preceding 'if' block)`);
    const s = this.simple();
    this.expect('punct', ';', "';' at the end of the statement");
    return s;
  }

  private simple(): Simple {
    const t = this.peek();
    if (t.type === 'ident' && this.is('op', '=', 1)) {
      this.next();
      this.next();
      return { k: 'assign', name: t.text, expr: this.expr(), pos: t.pos };
    }
    return { k: 'expr', expr: this.expr(), pos: t.pos };
  }

  private ifChain(): Stmt {
    const pos = this.next().pos;
    const branches = [{ cond: this.expr(), body: this.block() }];
    let otherwise: Stmt[] | null = null;
    for (;;) {
      if (this.is('kw', 'elif')) {
        this.next();
        branches.push({ cond: this.expr(), body: this.block() });
      } else if (this.is('kw', 'else')) {
        this.next();
        otherwise = this.block();
        break;
      } else break;
    }
    return { k: 'if', branches, otherwise, pos };
  }

  private block(): Stmt[] {
    this.expect('punct', '{', "'{' to open the block");
    const out: Stmt[] = [];
    while (!this.is('punct', '}')) {
      if (this.is('eof')) this.fail("'}' to close the block");
      if (this.is('punct', ';')) {
        this.next();
        continue;
      }
      out.push(this.statement());
    }
    this.next();
    return out;
  }

  /** One precedence level, left-associative: `1 + 2 * 3` is `(1 + 2) * 3`. */
  private expr(): Expr {
    let l = this.operand();
    while (this.is('op') && !this.is('op', '=')) {
      const op = this.next();
      const r = this.operand();
      l = { k: 'bin', op: op.text as BinOp, l, r, pos: op.pos };
    }
    return l;
  }

  private operand(): Expr {
    const t = this.peek();
    switch (t.type) {
      case 'num':
        this.next();
        return { k: 'num', v: t.num, pos: t.pos };
      case 'str':
        this.next();
        return { k: 'str', v: t.text, pos: t.pos };
      case 'bool':
        this.next();
        return { k: 'bool', v: BOOLS[t.text]!, pos: t.pos };
      case 'ident': {
        this.next();
        if (!this.is('punct', '(')) return { k: 'var', name: t.text, pos: t.pos };
        this.next();
        const args = this.is('punct', ')') ? [] : this.commaList(')');
        this.expect('punct', ')', "',' or ')' in the argument list");
        return { k: 'call', name: t.text, args, pos: t.pos };
      }
      case 'punct':
        if (t.text === '(') {
          this.next();
          const e = this.expr();
          this.expect('punct', ')', "an operator or ')'");
          return e;
        }
        if (t.text === '[') {
          this.next();
          const items = this.is('punct', ']') ? [] : this.commaList(']');
          this.expect('punct', ']', "',' or ']' in the list");
          return { k: 'list', items, pos: t.pos };
        }
        if (t.text === '{') {
          this.next();
          const entries: [string, Expr][] = [];
          if (!this.is('punct', '}')) {
            for (;;) {
              const key = this.peek();
              if (key.type !== 'str') this.fail('a string key (dict keys must be double-quoted strings)');
              this.next();
              this.expect('punct', ':', "':' after the dict key");
              entries.push([key.text, this.expr()]);
              if (!this.is('punct', ',')) break;
              this.next();
            }
          }
          this.expect('punct', '}', "',' or '}' in the dict");
          return { k: 'dict', entries, pos: t.pos };
        }
    }
    return this.fail('a value (name, number, string, true/false, list, dict or parenthesised expression)');
  }

  private commaList(close: string): Expr[] {
    const out = [this.expr()];
    while (this.is('punct', ',')) {
      this.next();
      if (this.is('punct', close)) this.fail(`a value after ',' (no trailing commas)`);
      out.push(this.expr());
    }
    return out;
  }
}

export function parse(src: string): Stmt[] {
  return new Parser(tokenize(src)).program();
}
