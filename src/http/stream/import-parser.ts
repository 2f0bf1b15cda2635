import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../../model/errors.js';

/**
 * An incremental parser for export documents `{"buckets": {"<key>": {...bucket, "events": [...]}}}`.
 * It never holds the whole document: it walks the structure down to the bucket fields and the
 * elements of each `events` array, and hands out every such value, JSON.parse'd, one at a time.
 * So memory stays at one chunk plus the largest single value, whatever the file size.
 */
export type ImportItem =
  | { kind: 'bucket'; key: string }
  /** A bucket field other than an `events` array (the array itself arrives as 'events' + 'event's). */
  | { kind: 'field'; key: string; value: unknown }
  | { kind: 'events' }
  | { kind: 'event'; value: unknown }
  | { kind: 'bucketEnd' };

/** Largest single value (a bucket field or one event) we agree to buffer. */
export const MAX_VALUE_CHARS = 16 * 1024 * 1024;

const enum Level { Root, Buckets, Bucket, Events }
type Expect = 'keyOrEnd' | 'key' | 'colon' | 'value' | 'commaOrEnd' | 'valueOrEnd';
interface Frame { level: Level; array: boolean; expect: Expect; key: string }

interface Capture {
  what: 'key' | 'value';
  kind: 'string' | 'container' | 'primitive';
  depth: number;
  inString: boolean;
  escape: boolean;
  parts: string[];
  size: number;
  start: number; // index in the current chunk where the uncollected text starts
}

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class ImportParser {
  private readonly decoder = new StringDecoder('utf8');
  private stack: Frame[] = [];
  private state: 'start' | 'inside' | 'done' = 'start';
  private cap: Capture | null = null;
  private offset = 0; // characters consumed before the current chunk (for error messages)
  private out: ImportItem[] = [];
  private first = true;
  private sawBuckets = false;

  /** Feeds bytes; returns the items completed by them. */
  write(buf: Buffer): ImportItem[] {
    this.scan(this.decoder.write(buf));
    return this.take();
  }

  /** Ends the input; throws if the document is incomplete. */
  end(): ImportItem[] {
    this.scan(this.decoder.end());
    if (this.state !== 'done' || this.cap) throw this.syntax('unexpected end of the document', 0);
    if (!this.sawBuckets) throw new InputError("import document has no 'buckets' object", 422);
    return this.take();
  }

  private take(): ImportItem[] {
    const items = this.out;
    this.out = [];
    return items;
  }

  private syntax(what: string, i: number): InputError {
    return new InputError(`import document is not valid JSON: ${what} at character ${this.offset + i}`, 400);
  }

  private scan(s: string): void {
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    let i = 0;
    if (this.cap) this.cap.start = 0;
    while (i < n) {
      if (this.cap) {
        i = this.scanCapture(s, i);
        continue;
      }
      const c = s.charCodeAt(i);
      if (WS(c)) {
        i++;
        continue;
      }
      i = this.structural(s, i, c);
    }
    const cap = this.cap;
    if (cap && cap.start < n) {
      cap.parts.push(s.slice(cap.start));
    }
    this.offset += n;
  }

  /** One structural character outside any captured value. Returns the next index. */
  private structural(s: string, i: number, c: number): number {
    if (this.state === 'done') throw this.syntax(`unexpected '${s[i]}' after the end of the document`, i);
    if (this.state === 'start') {
      if (c !== 0x7b /* { */) throw this.shapeOrSyntax(c, i, 'import document must be a JSON object');
      this.stack.push({ level: Level.Root, array: false, expect: 'keyOrEnd', key: '' });
      this.state = 'inside';
      return i + 1;
    }
    const f = this.stack[this.stack.length - 1]!;
    switch (f.expect) {
      case 'keyOrEnd':
      case 'key':
        if (c === 0x22 /* " */) return this.startCapture('key', 'string', i);
        if (c === 0x7d /* } */ && f.expect === 'keyOrEnd') return this.close(i);
        throw this.syntax(`expected a key, found '${s[i]}'`, i);
      case 'colon':
        if (c !== 0x3a /* : */) throw this.syntax(`expected ':', found '${s[i]}'`, i);
        f.expect = 'value';
        return i + 1;
      case 'commaOrEnd':
        if (c === 0x2c /* , */) {
          f.expect = f.array ? 'value' : 'key';
          return i + 1;
        }
        if (c === (f.array ? 0x5d : 0x7d)) return this.close(i);
        throw this.syntax(`expected ',' or '${f.array ? ']' : '}'}', found '${s[i]}'`, i);
      case 'valueOrEnd':
        if (c === 0x5d /* ] */) return this.close(i);
        return this.value(f, s, i, c);
      case 'value':
        return this.value(f, s, i, c);
    }
  }

  /** Start of a value inside frame f: descend into the structure we walk, capture everything else. */
  private value(f: Frame, s: string, i: number, c: number): number {
    const open = c === 0x7b;
    if (f.level === Level.Root && f.key === 'buckets') {
      if (!open) throw this.shapeOrSyntax(c, i, "import document: 'buckets' must be a JSON object");
      this.stack.push({ level: Level.Buckets, array: false, expect: 'keyOrEnd', key: '' });
      this.sawBuckets = true;
      return i + 1;
    }
    if (f.level === Level.Buckets) {
      if (!open) throw this.shapeOrSyntax(c, i, `import document: bucket '${f.key}' must be a JSON object`);
      this.out.push({ kind: 'bucket', key: f.key });
      this.stack.push({ level: Level.Bucket, array: false, expect: 'keyOrEnd', key: '' });
      return i + 1;
    }
    if (f.level === Level.Bucket && f.key === 'events' && c === 0x5b /* [ */) {
      this.out.push({ kind: 'events' });
      this.stack.push({ level: Level.Events, array: true, expect: 'valueOrEnd', key: '' });
      return i + 1;
    }
    if (c === 0x22) return this.startCapture('value', 'string', i);
    if (open || c === 0x5b) return this.startCapture('value', 'container', i);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      return this.startCapture('value', 'primitive', i);
    }
    throw this.syntax(`unexpected '${s[i]}'`, i);
  }

  private shapeOrSyntax(c: number, i: number, shape: string): InputError {
    // Another JSON value where an object belongs is a shape problem (422); anything else is not JSON.
    const jsonStart = c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
    return jsonStart ? new InputError(shape, 422) : this.syntax(`unexpected '${String.fromCharCode(c)}'`, i);
  }

  private close(i: number): number {
    const f = this.stack.pop()!;
    if (f.level === Level.Bucket) this.out.push({ kind: 'bucketEnd' });
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.expect = 'commaOrEnd';
    else this.state = 'done';
    return i + 1;
  }

  private startCapture(what: 'key' | 'value', kind: Capture['kind'], i: number): number {
    this.cap = { what, kind, depth: 0, inString: false, escape: false, parts: [], size: 0, start: i };
    return kind === 'primitive' ? i : i; // the first character is scanned by scanCapture
  }

  /** Advances through a captured value; when it ends, parses it and routes it. Returns the next index. */
  private scanCapture(s: string, i: number): number {
    const cap = this.cap!;
    const n = s.length;
    let end = -1; // index just after the value
    if (cap.kind === 'primitive') {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (WS(c) || c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a) {
          end = i;
          break;
        }
      }
    } else if (cap.kind === 'string') {
      // The opening quote is at cap.start on the first pass.
      if (cap.parts.length === 0 && i === cap.start) i++;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (cap.escape) cap.escape = false;
        else if (c === 0x5c) cap.escape = true;
        else if (c === 0x22) {
          end = i + 1;
          break;
        }
      }
    } else {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (cap.inString) {
          if (cap.escape) cap.escape = false;
          else if (c === 0x5c) cap.escape = true;
          else if (c === 0x22) cap.inString = false;
        } else if (c === 0x22) cap.inString = true;
        else if (c === 0x7b || c === 0x5b) cap.depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (--cap.depth === 0) {
            end = i + 1;
            break;
          }
        }
      }
    }
    const upto = end === -1 ? n : end;
    cap.size += upto - cap.start;
    if (cap.size > MAX_VALUE_CHARS) {
      throw new InputError(`import document: a single value is larger than ${MAX_VALUE_CHARS} characters`, 413);
    }
    if (end === -1) return n; // continues in the next chunk; scan() keeps the tail
    const text = cap.parts.length === 0 ? s.slice(cap.start, end) : cap.parts.join('') + s.slice(cap.start, end);
    this.cap = null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw this.syntax((err as Error).message, end);
    }
    const f = this.stack[this.stack.length - 1]!;
    if (cap.what === 'key') {
      f.key = value as string;
      f.expect = 'colon';
      return end;
    }
    f.expect = 'commaOrEnd';
    if (f.level === Level.Bucket) this.out.push({ kind: 'field', key: f.key, value });
    else if (f.level === Level.Events) this.out.push({ kind: 'event', value });
    // Other values (root keys besides 'buckets') are parsed for validity and dropped.
    return end;
  }
}
