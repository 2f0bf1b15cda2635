import { QueryError } from './values.js';

/**
 * Compiles patterns written for Rust `regex`/fancy-regex or Python `re` (what the web UI sends)
 * into JS RegExps: leading inline flags such as `(?i)` become RegExp flags, scoped `(?i:...)`
 * groups are expanded to case classes, `(?P<n>...)`/`(?P=n)` and `\A`/`\z`/`\Z` are rewritten.
 * Backslashes are kept as given.
 */

const CACHE_MAX = 512;
const cache = new Map<string, RegExp>();

export function compileRegex(pattern: string, ignoreCase = false): RegExp {
  const key = (ignoreCase ? 'i:' : 's:') + pattern;
  const hit = cache.get(key);
  if (hit) {
    // LRU: move to the back.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const re = translate(pattern, ignoreCase);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, re);
  return re;
}

function translate(pattern: string, ignoreCase: boolean): RegExp {
  const flags = new Set<string>();
  if (ignoreCase) flags.add('i');
  let src = pattern;
  // Leading flag groups, possibly several: (?i)(?s)...
  for (;;) {
    const m = /^\(\?([imsxU]+)\)/.exec(src);
    if (!m) break;
    for (const f of m[1]!) flags.add(f);
    src = src.slice(m[0].length);
  }
  if (flags.has('x')) src = stripVerbose(src);
  src = rewrite(src, flags.has('m'));
  const jsFlags = [...flags].filter((f) => f === 'i' || f === 'm' || f === 's').join('');
  // Prefer Unicode mode (like Rust); fall back for patterns using escapes that only non-u mode accepts.
  try {
    return new RegExp(src, jsFlags + 'u');
  } catch {
    try {
      return new RegExp(src, jsFlags);
    } catch (e) {
      throw new QueryError('RegexCompileError', `${pattern}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
}

/** `(?x)`: drop unescaped whitespace and `#` comments outside character classes. */
function stripVerbose(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      out += c + (src[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

const otherCase = (c: string): string => {
  const u = c.toUpperCase(), l = c.toLowerCase();
  return c === u ? l : u;
};
const isLetter = (c: string): boolean => c.toLowerCase() !== c.toUpperCase();

/** One pass over the pattern, tracking classes and scoped case-insensitive groups. */
function rewrite(src: string, multiline: boolean): string {
  let out = '';
  let inClass = false;
  // Depth stack of groups; true where a scoped (?i:...) group is open.
  const groups: boolean[] = [];
  const ci = (): boolean => groups.includes(true);
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const d = src[i + 1] ?? '';
      i++;
      if (!inClass && d === 'A') out += multiline ? '(?<![\\s\\S])' : '^';
      else if (!inClass && (d === 'z' || d === 'Z')) out += '(?![\\s\\S])';
      else out += '\\' + d;
      continue;
    }
    if (inClass) {
      if (c === ']' ) inClass = false;
      else if (ci() && isLetter(c)) {
        // Ranges of letters: a-z also gets A-Z.
        if (src[i + 1] === '-' && src[i + 2] && src[i + 2] !== ']' && isLetter(src[i + 2]!)) {
          const e = src[i + 2]!;
          out += `${c}-${e}${otherCase(c)}-${otherCase(e)}`;
          i += 2;
          continue;
        }
        out += c + otherCase(c);
        continue;
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      const rest = src.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest))) {
        out += `(?<${m[1]}>`;
        i += m[0].length - 1;
        groups.push(false);
        continue;
      }
      if ((m = /^\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest))) {
        out += `\\k<${m[1]}>`;
        i += m[0].length - 1;
        continue;
      }
      if ((m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?:/.exec(rest)) && (m[1] || m[2] !== undefined)) {
        out += '(?:';
        i += m[0].length - 1;
        groups.push((m[1] ?? '').includes('i'));
        continue;
      }
      groups.push(false);
      out += c;
      continue;
    }
    if (c === ')') {
      groups.pop();
      out += c;
      continue;
    }
    if (ci() && isLetter(c)) {
      out += `[${c}${otherCase(c)}]`;
      continue;
    }
    out += c;
  }
  return out;
}
