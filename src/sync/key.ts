import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writePrivate } from '../datadir/files.js';

/**
 * The sync key: derived once per device from the passphrase (scrypt, with the sync group's salt,
 * which lives on the server so every device derives the same key), kept 0600 in the data dir and
 * never sent. Subkeys for sealing and for hashing bucket ids come from it by HKDF, so the one
 * secret is never used for two purposes.
 */

/** scrypt cost: ~0.1 s and 32 MiB once per setup; an offline guess costs an attacker the same. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: typeof SCRYPT) => Promise<Buffer>;

export interface SyncKey {
  /** The sync group's salt (public: on the server). */
  salt: Buffer;
  /** AES-256-GCM key for sealing. */
  seal: Buffer;
  /** HMAC-SHA256 key for bucket ids: the server can group a bucket's messages, not read its name. */
  mac: Buffer;
}

export const newSalt = (): Buffer => crypto.randomBytes(16);

function subkeys(master: Buffer, salt: Buffer): SyncKey {
  const sub = (info: string) => Buffer.from(crypto.hkdfSync('sha256', master, salt, info, 32));
  return { salt, seal: sub('sundial-sync seal v1'), mac: sub('sundial-sync bucket v1') };
}

export async function deriveMaster(passphrase: string, salt: Buffer): Promise<Buffer> {
  return scrypt(passphrase.normalize('NFC'), salt, 32, SCRYPT);
}

interface KeyFile {
  v: 1;
  salt: string;
  key: string;
}

export function writeKeyFile(file: string, salt: Buffer, master: Buffer): void {
  // Setup may run before the daemon ever started on this data dir.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const body: KeyFile = { v: 1, salt: salt.toString('base64'), key: master.toString('base64') };
  writePrivate(file, JSON.stringify(body) + '\n');
}

/** The key in `file`, null when there is none (sync not set up); a damaged file throws. */
export function readKeyFile(file: string): SyncKey | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const k = JSON.parse(text) as Partial<KeyFile>;
  const salt = Buffer.from(k.salt ?? '', 'base64'), master = Buffer.from(k.key ?? '', 'base64');
  if (k.v !== 1 || salt.length !== 16 || master.length !== 32) throw new Error(`${file} is not a sync key file (run sundial sync setup again)`);
  return subkeys(master, salt);
}

export const keyFromMaster = subkeys;

/** The keyed hash the server sees instead of a bucket id. */
export const bucketHash = (key: SyncKey, bucket: string): string => crypto.createHmac('sha256', key.mac).update(bucket).digest('base64url').slice(0, 22);
