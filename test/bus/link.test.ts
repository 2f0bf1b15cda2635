import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBusLink } from '../../src/bus/link.js';
import { silentLogger } from '../../src/log.js';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill('SIGKILL');
});

describe('bus link', () => {
  it('waits for a nats-server that is not up yet, then works', async () => {
    const port = await freePort();
    const link = createBusLink({ url: `nats://127.0.0.1:${port}`, user: 'u', pass: 'p' }, { name: 'link-test', log: silentLogger() });
    let resolved = false;
    const conn = link.connection().then((c) => ((resolved = true), c));
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    servers.push(spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '--user', 'u', '--pass', 'p'], { stdio: 'ignore' }));
    const nc = await conn;
    const sub = await link.subscribe('echo', {}, (data, respond) => respond({ got: data }));
    expect(await link.request('echo', { n: 1 })).toEqual({ got: { n: 1 } });
    expect(link.connected).toBe(true);
    sub.unsubscribe();
    await link.close();
    expect(nc.isClosed()).toBe(true);
  });

  it('stops waiting when closed or when its signal aborts', async () => {
    const port = await freePort();
    const creds = { url: `nats://127.0.0.1:${port}`, user: 'u', pass: 'p' };
    const closed = createBusLink(creds, { name: 'link-test', log: silentLogger() });
    const waiting = closed.connection();
    await closed.close();
    await expect(waiting).rejects.toThrow(/closed/);
    const ac = new AbortController();
    const aborted = createBusLink(creds, { name: 'link-test', log: silentLogger(), signal: ac.signal });
    const waiting2 = aborted.connection();
    ac.abort();
    await expect(waiting2).rejects.toThrow(/closed/);
  });
});
