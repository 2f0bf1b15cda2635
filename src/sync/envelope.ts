import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Batch, BucketMeta, Change } from './batch.js';
import { bucketHash, type SyncKey } from './key.js';

/**
 * The sealed form of a batch, the only thing the sync server stores:
 *   "SDSY" | version (1 byte) | header length (2 bytes, big-endian) | header (JSON) | IV (12) | tag (16) | ciphertext
 * The header is what the server may see: device id, the sequence range, the change count and keyed
 * hashes of the bucket ids. It is authenticated (AES-GCM additional data) with the ciphertext, so a
 * message cannot be moved to another device or range. The plaintext is the compressed JSON of the
 * bucket metadata and the changes.
 */
export const ENVELOPE_VERSION = 1;
const MAGIC = Buffer.from('SDSY');
const FIXED = MAGIC.length + 1 + 2;

export interface Header {
  /** Origin device id. */
  d: string;
  /** Sequence range (p, l]. */
  p: number;
  l: number;
  /** Number of changes. */
  n: number;
  /** Keyed hashes of the bucket ids involved. */
  b: string[];
}

/** Why a message was refused (each is logged once per device and counted). */
export type RefusalReason = 'malformed' | 'version' | 'undecryptable' | 'foreign' | 'replayed';

export class Refused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly header?: Header,
  ) {
    super(message);
  }
}

export function seal(key: SyncKey, batch: Batch): Uint8Array {
  const header: Header = { d: batch.device, p: batch.prev, l: batch.last, n: batch.changes.length, b: batch.buckets.map((b) => bucketHash(key, b.name)) };
  const head = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(FIXED);
  MAGIC.copy(prefix);
  prefix.writeUInt8(ENVELOPE_VERSION, MAGIC.length);
  prefix.writeUInt16BE(head.length, MAGIC.length + 1);
  const aad = Buffer.concat([prefix, head]);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key.seal, iv);
  cipher.setAAD(aad);
  const plain = zlib.deflateRawSync(JSON.stringify({ buckets: batch.buckets, changes: batch.changes }));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([aad, iv, cipher.getAuthTag(), body]);
}

/** The clear header alone (status reads the newest message of each peer without opening it). */
export function peekHeader(bytes: Uint8Array): Header {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < FIXED + 28 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Refused('malformed', 'not a Sundial sync message');
  const version = buf.readUInt8(MAGIC.length);
  if (version !== ENVELOPE_VERSION) throw new Refused('version', `sync message version ${version} is not ${ENVELOPE_VERSION} (a newer Sundial?)`);
  const len = buf.readUInt16BE(MAGIC.length + 1);
  if (buf.length < FIXED + len + 28) throw new Refused('malformed', 'truncated sync message');
  let h: Header;
  try {
    h = JSON.parse(buf.subarray(FIXED, FIXED + len).toString('utf8')) as Header;
  } catch {
    throw new Refused('malformed', 'sync message header is not JSON');
  }
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof h.d !== 'string' || !int(h.p) || !int(h.l) || h.p >= h.l || !int(h.n) || !Array.isArray(h.b)) throw new Refused('malformed', 'sync message header is incomplete');
  return h;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Opens a message published by `device`; anything else is refused with its reason. */
export function open(key: SyncKey, bytes: Uint8Array, device: string): Batch {
  const h = peekHeader(bytes);
  if (h.d !== device) throw new Refused('foreign', `message on ${device}'s subject claims to be from ${h.d}`, h);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const aadEnd = FIXED + buf.readUInt16BE(MAGIC.length + 1);
  let plain: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key.seal, buf.subarray(aadEnd, aadEnd + 12));
    decipher.setAAD(buf.subarray(0, aadEnd));
    decipher.setAuthTag(buf.subarray(aadEnd + 12, aadEnd + 28));
    plain = Buffer.concat([decipher.update(buf.subarray(aadEnd + 28)), decipher.final()]);
  } catch {
    throw new Refused('undecryptable', `a message from ${device} cannot be decrypted with this device's key (a different passphrase?)`, h);
  }
  let body: { buckets: BucketMeta[]; changes: Change[] };
  try {
    body = JSON.parse(zlib.inflateRawSync(plain).toString('utf8')) as typeof body;
  } catch {
    throw new Refused('malformed', `a message from ${device} does not hold a batch`, h);
  }
  if (!Array.isArray(body.buckets) || !Array.isArray(body.changes) || body.changes.length !== h.n || !body.buckets.every((b) => isObject(b) && typeof b.name === 'string')) {
    throw new Refused('malformed', `a message from ${device} does not hold a valid batch`, h);
  }
  for (const c of body.changes) {
    const ok = isObject(c) && Number.isSafeInteger(c.s) && c.s > h.p && c.s <= h.l && Number.isSafeInteger(c.i) &&
      ('x' in c || (Number.isSafeInteger(c.b) && body.buckets[c.b as number] !== undefined && Number.isSafeInteger(c.t) && Number.isSafeInteger(c.e) && isObject(c.d)));
    if (!ok) throw new Refused('malformed', `a message from ${device} holds an invalid change`, h);
  }
  return { device: h.d, prev: h.p, last: h.l, buckets: body.buckets, changes: body.changes };
}
