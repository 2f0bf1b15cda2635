import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { natsAnswers, natsPinger } from '../../src/bus/nats-server.js';

const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.kill('SIGCONT');
    s.kill('SIGKILL');
  }
});

// A password of this file's own: a server of another test that gets the same port later refuses it.
const PASS = randomUUID();

async function natsServer(port: number): Promise<ChildProcess> {
  const s = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '--user', 'u', '--pass', PASS], { stdio: 'ignore' });
  servers.push(s);
  for (let i = 0; ; i++) {
    try {
      await natsAnswers(port, 1_000);
      return s;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The id nats-server gives the next connection: it counts the connections it has accepted. */
async function nextClientId(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('data', (buf) => {
      sock.destroy();
      resolve(JSON.parse(buf.toString('latin1').slice(5)).client_id as number);
    });
    sock.once('error', reject);
  });
}

describe('the bus liveness check', () => {
  it('pings over one kept connection, fails for a frozen server and recovers on a new one', async () => {
    const port = await freePort();
    const first = await natsServer(port);
    const ping = natsPinger(port, 'u', PASS, 1_000);
    const before = await nextClientId(port);
    for (let i = 0; i < 5; i++) await ping();
    // Five checks, one connection: the next client gets the id after that one.
    expect(await nextClientId(port)).toBe(before + 2);

    first.kill('SIGSTOP'); // alive but not answering
    // The signal lands a moment later: until the process shows as stopped it may still answer.
    while (fs.readFileSync(`/proc/${first.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] !== 'T') await new Promise((r) => setTimeout(r, 10));
    await expect(ping()).rejects.toThrow(/did not answer/);
    first.kill('SIGCONT');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await expect(ping()).rejects.toThrow();

    await natsServer(port);
    await ping();
    await ping();
  });

  it('fails with the server’s error for wrong credentials', async () => {
    const port = await freePort();
    await natsServer(port);
    const ping = natsPinger(port, 'u', 'wrong', 2_000);
    await expect(ping()).rejects.toThrow(/nats-server: -ERR|closed the connection/);
  });
});
