/**
 * Pure decoders for X11 text properties (no X connection needed, unit-tested directly).
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 with invalid bytes dropped (as the reference watcher does), trailing NULs removed. */
export function decodeUtf8Lossy(data: Uint8Array): string {
  return stripNul(utf8.decode(data).replace(/\uFFFD/g, ''));
}

export function decodeLatin1(data: Uint8Array): string {
  return stripNul(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'));
}

const stripNul = (s: string): string => s.replace(/\0+$/, '');

/** ISO 8859 parts selected by `ESC - F` (96-character sets into G1/GR), per ISO-IR registration. */
const GR_96_SETS: Record<string, string> = {
  A: 'iso-8859-1', B: 'iso-8859-2', C: 'iso-8859-3', D: 'iso-8859-4', F: 'iso-8859-7',
  G: 'iso-8859-6', H: 'iso-8859-8', L: 'iso-8859-5', M: 'iso-8859-9', b: 'iso-8859-15',
};

const decoderCache = new Map<string, TextDecoder | null>();
function decoderFor(label: string): TextDecoder | null {
  if (!decoderCache.has(label)) {
    let d: TextDecoder | null = null;
    try {
      d = new TextDecoder(label);
    } catch {
      d = null; // runtime without that legacy encoding (small-icu builds)
    }
    decoderCache.set(label, d);
  }
  return decoderCache.get(label)!;
}

function grByte(charset: string, byte: number): string {
  if (charset === 'iso-8859-1') return String.fromCharCode(byte);
  const d = decoderFor(charset);
  return d ? d.decode(Uint8Array.of(byte)) : '?';
}

/**
 * COMPOUND_TEXT (ICCCM's ISO 2022 subset). Supported: ASCII / Latin-1 (the initial state),
 * other ISO 8859 right halves (`ESC - F`), UTF-8 segments (`ESC % G … ESC % @`) and extended
 * segments named "iso8859-1" or "utf-8". Characters of other sets (e.g. CJK 94² sets) become "?".
 * Direction sequences (CSI … ]) are skipped.
 */
export function decodeCompoundText(data: Uint8Array): string {
  let out = '';
  let gl: 'ascii' | 'other' = 'ascii';
  let gr = 'iso-8859-1';
  let grMulti = false;
  let i = 0;
  const n = data.length;
  while (i < n) {
    const b = data[i]!;
    if (b === 0x1b) {
      // ESC sequence: intermediates 0x20-0x2f, then a final byte 0x30-0x7e.
      let j = i + 1;
      while (j < n && data[j]! >= 0x20 && data[j]! <= 0x2f) j++;
      if (j >= n) break;
      const inter = String.fromCharCode(...data.subarray(i + 1, j));
      const final = String.fromCharCode(data[j]!);
      i = j + 1;
      if (inter === '%' && final === 'G') {
        // UTF-8 until ESC % @ (or the end).
        let k = i;
        while (k < n && !(data[k] === 0x1b && data[k + 1] === 0x25 && data[k + 2] === 0x40)) k++;
        out += utf8.decode(data.subarray(i, k)).replace(/\uFFFD/g, '');
        i = k < n ? k + 3 : n;
      } else if (inter === '%/' && final >= '0' && final <= '4') {
        // Extended segment: M L (length, 7 bits each with the high bit set), "name" STX, bytes.
        if (i + 2 > n) break;
        const len = ((data[i]! & 0x7f) << 7) | (data[i + 1]! & 0x7f);
        const start = i + 2;
        const end = Math.min(n, start + len);
        const stx = data.indexOf(0x02, start);
        if (stx >= 0 && stx < end) {
          const name = Buffer.from(data.subarray(start, stx)).toString('latin1').toLowerCase();
          const body = data.subarray(stx + 1, end);
          if (name === 'utf-8') out += utf8.decode(body).replace(/\uFFFD/g, '');
          else if (name === 'iso8859-1') out += Buffer.from(body).toString('latin1');
          else {
            const d = decoderFor(name.replace(/^iso8859/, 'iso-8859'));
            out += d ? d.decode(body) : '?';
          }
        }
        i = end;
      } else if (inter === '(' ) {
        gl = final === 'B' ? 'ascii' : 'other';
      } else if (inter === '-') {
        gr = GR_96_SETS[final] ?? '';
        grMulti = false;
      } else if (inter === ')' || inter === '$)' || inter === '$(') {
        // 94-character or multi-byte sets: not decoded.
        if (inter === '$)') grMulti = true;
        if (inter === ')') { gr = ''; grMulti = false; }
        if (inter === '$(') gl = 'other';
      }
      continue;
    }
    if (b === 0x9b) {
      // CSI direction sequence: skip to its final byte.
      let j = i + 1;
      while (j < n && !(data[j]! >= 0x40 && data[j]! <= 0x7e)) j++;
      i = j + 1;
      continue;
    }
    if (b === 0x00) break;
    if (b < 0x80) {
      if (b === 0x09 || b === 0x0a || b >= 0x20) out += gl === 'ascii' || b < 0x21 ? String.fromCharCode(b) : '?';
      i++;
      continue;
    }
    if (b >= 0xa0) {
      if (grMulti) {
        out += '?';
        i += 2;
        continue;
      }
      out += gr ? grByte(gr, b) : '?';
    }
    i++; // C1 controls other than CSI are dropped
  }
  return out;
}

/** A text property's value by its type name (UTF8_STRING, STRING, COMPOUND_TEXT, other). */
export function decodeTextProperty(typeName: string, data: Uint8Array): string {
  switch (typeName) {
    case 'UTF8_STRING':
      return decodeUtf8Lossy(data);
    case 'COMPOUND_TEXT':
      return decodeCompoundText(data);
    case 'STRING':
      return decodeLatin1(data);
    default:
      // Unknown text type: UTF-8 is the best guess for what modern clients write.
      return decodeUtf8Lossy(data);
  }
}

/** WM_CLASS is "instance\0class\0"; returns the class part (or null when absent / empty). */
export function wmClassName(data: Uint8Array): string | null {
  if (data.length === 0) return null;
  const parts = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1').split('\0');
  const cls = parts[1];
  if (cls) return decodeUtf8Lossy(Buffer.from(cls, 'latin1'));
  return null;
}
