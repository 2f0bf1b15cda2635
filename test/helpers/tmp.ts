import { afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh private temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'sundial-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Cleanups run after each test of the calling file (last registered first), and temp dirs that
 * register their own removal there.
 */
export function perTest(): { cleanups: (() => unknown)[]; tmp: () => string } {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const tmp = () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
  return { cleanups, tmp };
}
