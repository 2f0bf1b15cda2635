import crypto from 'node:crypto';
import fs from 'node:fs';
import { readOrCreate } from '../../datadir/files.js';

/** The control endpoint's bearer token, kept in a 0600 file that only the user (and so the CLI) can read. */
export const ensureToken = (file: string): string => readOrCreate(file, () => crypto.randomBytes(32).toString('base64url'), (t) => t.length >= 32);

export function readToken(file: string): string {
  return fs.readFileSync(file, 'utf8').trim();
}
