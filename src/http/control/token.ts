import crypto from 'node:crypto';
import fs from 'node:fs';
import { writePrivate } from '../../bus/credentials.js';

/** The control endpoint's bearer token, kept in a 0600 file that only the user (and so the CLI) can read. */
export function ensureToken(file: string): string {
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    if (t.length >= 32) return t;
  } catch {
    /* first start */
  }
  const token = crypto.randomBytes(32).toString('base64url');
  writePrivate(file, token + '\n');
  return token;
}

export function readToken(file: string): string {
  return fs.readFileSync(file, 'utf8').trim();
}

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(token);
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}
