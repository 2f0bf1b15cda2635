import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { runCli, startInProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
let base: string;
const post = (p: string, body: unknown) => fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const count = async () => (await (await fetch(`${base}/api/0/buckets/win/events/count`)).json()) as number;
const forget = (...args: string[]) => runCli(['forget', '--testing', '--data-dir', tmp.dir, ...args]);

beforeAll(async () => {
  tmp = tempDir();
  daemon = await startInProcess(tmp.dir);
  base = `http://127.0.0.1:${daemon.port}`;
  await post('/api/0/buckets/win', { client: 't', type: 'currentwindow', hostname: 'h' });
  await post('/api/0/buckets/win/events', [
    { timestamp: '2024-05-02T09:00:00Z', duration: 5, data: { app: 'bank', title: 'Statement' } },
    { timestamp: '2024-05-02T09:00:05Z', duration: 5, data: { app: 'editor', title: 'bank notes' } },
    { timestamp: '2024-05-02T09:00:10Z', duration: 5, data: { app: 'editor', title: 'todo' } },
  ]);
});
afterAll(async () => {
  await daemon?.stop();
  tmp?.cleanup();
});

describe('sundial forget', () => {
  it('shows per-bucket counts and refuses to delete without a terminal or --yes', async () => {
    const r = await forget('--match', 'bank', '--substring');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('win: 2');
    expect(r.stderr.trim()).toBe('sundial: refusing to delete 2 events without confirmation: add --yes');
    expect(await count()).toBe(3);
  });

  it('--dry-run only counts; --yes deletes exactly what was shown', async () => {
    const dry = await forget('--match', 'bank', '--key', 'app', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/1 events match \(dry run: nothing deleted\)/);
    const r = await forget('--match', 'bank', '--key', 'app', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 events deleted/);
    expect(await count()).toBe(2);
  });

  it('refuses contradicting flags with a usage error', async () => {
    const r = await forget('--match', 'x', '--substring', '--regex');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/choose one of --substring and --regex/);
  });
});
