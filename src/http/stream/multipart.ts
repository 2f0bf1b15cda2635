import { InputError } from '../../model/errors.js';

/** A streaming multipart/form-data parser (RFC 7578): parts arrive as header + data pieces, never whole. */
export type MultipartItem =
  | { kind: 'part'; name: string | null; filename: string | null; contentType: string | null }
  | { kind: 'data'; data: Buffer }
  | { kind: 'partEnd' };

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

/** The boundary parameter of a multipart Content-Type header, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!) : null;
}

export class MultipartParser {
  private readonly delim: Buffer; // CRLF "--" boundary
  private buf: Buffer;
  private state: 'preamble' | 'afterBoundary' | 'headers' | 'body' | 'done' = 'preamble';
  private out: MultipartItem[] = [];

  constructor(boundary: string) {
    this.delim = Buffer.from(`\r\n--${boundary}`);
    // The first boundary may start the body without a preceding CRLF; pretend there is one.
    this.buf = Buffer.from('\r\n');
  }

  write(chunk: Buffer): MultipartItem[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.run();
    const items = this.out;
    this.out = [];
    return items;
  }

  end(): MultipartItem[] {
    this.run();
    if (this.state !== 'done') throw new InputError('multipart body ends before its closing boundary', 400);
    const items = this.out;
    this.out = [];
    return items;
  }

  private run(): void {
    for (;;) {
      switch (this.state) {
        case 'preamble': {
          const at = this.buf.indexOf(this.delim);
          if (at === -1) {
            // Keep just enough to recognise a boundary split across chunks.
            if (this.buf.length > this.delim.length) this.buf = this.buf.subarray(this.buf.length - this.delim.length + 1);
            return;
          }
          this.buf = this.buf.subarray(at + this.delim.length);
          this.state = 'afterBoundary';
          break;
        }
        case 'afterBoundary': {
          // Transport padding (spaces/tabs) may follow the boundary, then CRLF, or "--" for the last one.
          let i = 0;
          while (i < this.buf.length && (this.buf[i] === 0x20 || this.buf[i] === 0x09)) i++;
          if (this.buf.length - i < 2) return;
          if (this.buf[i] === 0x2d && this.buf[i + 1] === 0x2d) {
            this.state = 'done';
            this.buf = Buffer.alloc(0);
            return;
          }
          if (this.buf[i] !== 0x0d || this.buf[i + 1] !== 0x0a) throw new InputError('malformed multipart boundary line', 400);
          this.buf = this.buf.subarray(i + 2);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          let at: number;
          let text: string;
          if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
            at = 0; // a part without headers
            text = '';
            this.buf = this.buf.subarray(2);
          } else {
            at = this.buf.indexOf(CRLF2);
            if (at === -1) {
              if (this.buf.length > MAX_HEADER_BYTES) throw new InputError('multipart part headers are too large', 400);
              return;
            }
            text = this.buf.subarray(0, at).toString('utf8');
            this.buf = this.buf.subarray(at + 4);
          }
          this.out.push(partHeader(text));
          this.state = 'body';
          break;
        }
        case 'body': {
          const at = this.buf.indexOf(this.delim);
          if (at === -1) {
            const keep = this.delim.length - 1;
            if (this.buf.length > keep) {
              this.out.push({ kind: 'data', data: this.buf.subarray(0, this.buf.length - keep) });
              this.buf = Buffer.from(this.buf.subarray(this.buf.length - keep));
            }
            return;
          }
          if (at > 0) this.out.push({ kind: 'data', data: this.buf.subarray(0, at) });
          this.out.push({ kind: 'partEnd' });
          this.buf = this.buf.subarray(at + this.delim.length);
          this.state = 'afterBoundary';
          break;
        }
        case 'done':
          return; // epilogue is ignored
      }
    }
  }
}

function partHeader(text: string): MultipartItem {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'content-type') contentType = value;
    if (field === 'content-disposition') {
      name = param(value, 'name');
      filename = param(value, 'filename');
    }
  }
  return { kind: 'part', name, filename, contentType };
}

function param(header: string, key: string): string | null {
  const m = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
}
