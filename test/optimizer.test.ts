import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/daemon.js';
import { tempDir } from './helpers/tmp.js';

/**
 * `sundial start` holds V8's optimizing compiler until the daemon gets work that needs it
 * (src/optimizer.ts). Seen from outside through V8's own trace of what it optimizes.
 */
describe('the optimizing compiler, held by sundial start', () => {
  it('optimizes nothing while the daemon only starts and rests, then does once HTTP requests come', async () => {
    const tmp = tempDir();
    const p = spawn(process.execPath, ['--trace-opt', BIN, 'start', '--testing', '--data-dir', tmp.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const optimized = () => out.split('\n').filter((l) => l.includes('completed optimizing')).length;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const check = () => {
          const m = /running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        };
        p.stdout.on('data', check);
        p.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(optimized()).toBe(0);
      for (let i = 0; i < 300; i++) await (await fetch(`http://127.0.0.1:${port}/api/0/buckets/`)).text();
      await new Promise((r) => setTimeout(r, 500));
      expect(optimized()).toBeGreaterThan(0);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      tmp.cleanup();
    }
  });
});
