import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The daemon entry a service runs with node: the compiled dist/cli.js of this install (also when
 * this module runs from the TypeScript sources, under vitest).
 */
export function daemonEntry(): string {
  const here = new URL(import.meta.url);
  const url = here.pathname.endsWith('.ts') ? new URL('../../dist/cli.js', here) : new URL('../cli.js', here);
  return fs.realpathSync(fileURLToPath(url));
}
