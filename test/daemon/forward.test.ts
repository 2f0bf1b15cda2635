import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { SUBJECTS, type Reply } from '../../src/bus/subjects.js';
import type { Daemon } from '../../src/daemon.js';
import { link, startInProcess, waitFor } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function daemonAt(tweak: Parameters<typeof startInProcess>[1]): Promise<Daemon> {
  const tmp = tempDir();
  const d = await startInProcess(tmp.dir, tweak);
  cleanups.push(tmp.cleanup, () => d.stop());
  return d;
}

describe('forward mode (a watchers-only machine)', () => {
  it('holds writes while the remote server is down, then delivers them in order', async () => {
    const remotePort = await freePort();
    const edge = await daemonAt((c) => (c.server.forward_url = `http://127.0.0.1:${remotePort}`));
    const l = link(edge.bus);
    cleanups.push(() => l.close());
    expect(await l.request<Reply>(SUBJECTS.createBucket, { bucket: 'fw', type: 'currentwindow', client: 'c', hostname: 'edge' })).toMatchObject({ ok: true });
    for (let i = 0; i < 10; i++) {
      const r = await l.request<Reply>(SUBJECTS.heartbeat, { bucket: 'fw', pulsetime: 2, event: { timestamp: `2024-05-01T10:00:0${i}Z`, data: { app: i < 5 ? 'a' : 'b' } } });
      expect(r.ok).toBe(true);
    }
    const queue = () => edge.status().queue as { depth: number; mode: string; lastError: string | null };
    await waitFor('a failed delivery attempt', () => queue().lastError !== null);
    expect(queue().depth).toBe(11);
    expect(queue().mode).toMatch(/^forward to/);

    const remote = await daemonAt((c) => (c.server.port = remotePort));
    await waitFor('queue drained', () => queue().depth === 0);
    const events = (await (await fetch(`http://127.0.0.1:${remote.port}/api/0/buckets/fw/events`)).json()) as { timestamp: string; duration: number; data: { app: string } }[];
    expect(events.map((e) => [e.timestamp, e.duration, e.data.app])).toEqual([
      ['2024-05-01T10:00:05Z', 4, 'b'],
      ['2024-05-01T10:00:00Z', 4, 'a'],
    ]);
    const bucket = await (await fetch(`http://127.0.0.1:${remote.port}/api/0/buckets/fw`)).json();
    expect(bucket).toMatchObject({ id: 'fw', type: 'currentwindow', hostname: 'edge' });
  });
});
