import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { processChild } from '../../src/supervisor/process-child.js';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';

const log = silentLogger();
const fast = { backoff: { initialMs: 10, maxMs: 200, jitter: 0 }, intensity: { maxRestarts: 5, withinMs: 60_000 } };

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Resolves once the process prints `ready` on stdout (so its signal handlers are installed). */
const readyLine = (child: import('node:child_process').ChildProcess, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ready')) resolve();
    });
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

let sup: Supervisor | null = null;
afterEach(async () => {
  await sup?.stop();
  sup = null;
});

describe('processChild', () => {
  it('restarts a process killed from outside with a new pid, and leaves nothing behind on stop', async () => {
    sup = createSupervisor({
      children: [processChild({ name: 'sleeper', command: 'sleep', args: ['1000'], shutdownTimeoutMs: 1_000 })],
      log,
      ...fast,
    });
    await sup.start();
    const first = sup.status()[0]!;
    expect(first.state).toBe('running');
    expect(first.pid).toBeGreaterThan(0);
    expect(alive(first.pid!)).toBe(true);

    process.kill(first.pid!, 'SIGKILL');
    await until(() => sup!.status()[0]!.restarts === 1 && sup!.status()[0]!.state === 'running', 'restart');
    const second = sup.status()[0]!;
    expect(second.pid).not.toBe(first.pid);
    expect(second.lastError).toMatch(/killed by signal SIGKILL/);
    expect(alive(first.pid!)).toBe(false);
    expect(alive(second.pid!)).toBe(true);

    await sup.stop();
    expect(sup.status()[0]!.state).toBe('stopped');
    expect(alive(second.pid!)).toBe(false);
  });

  it('SIGKILLs a process that ignores SIGTERM once shutdownTimeoutMs has passed', async () => {
    sup = createSupervisor({
      children: [
        processChild({
          name: 'stubborn',
          command: process.execPath,
          args: ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
          shutdownTimeoutMs: 100,
          ready: readyLine,
        }),
      ],
      log,
      ...fast,
    });
    await sup.start();
    const { pid, state } = sup.status()[0]!;
    expect(state).toBe('running');
    await sup.stop();
    expect(sup.status()[0]).toMatchObject({ state: 'stopped', restarts: 0 });
    expect(alive(pid!)).toBe(false);
  });

  it('reports a missing binary clearly and fails once intensity is exceeded', async () => {
    const spec = processChild({ name: 'ghost', command: '/nonexistent/sundial-ghost' });
    sup = createSupervisor({ children: [spec], log, backoff: fast.backoff, intensity: { maxRestarts: 1, withinMs: 60_000 } });
    await sup.start();
    expect(sup.status()[0]).toMatchObject({
      state: 'failed',
      restarts: 1,
      lastError: 'ghost: cannot start "/nonexistent/sundial-ghost": command not found',
    });
  });

  it('kills the process when ready() fails, so a failed start leaves no orphan', async () => {
    const pids: number[] = [];
    sup = createSupervisor({
      children: [
        processChild({
          name: 'never-ready',
          command: 'sleep',
          args: ['1000'],
          restart: 'temporary',
          ready: async (child) => {
            pids.push(child.pid!);
            throw new Error('health check failed');
          },
        }),
      ],
      log,
      ...fast,
    });
    await sup.start();
    expect(sup.status()[0]).toMatchObject({ state: 'failed', lastError: 'health check failed' });
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
  });

  it('treats exit code 0 of a transient process as a normal exit and a non-zero code as a crash', async () => {
    sup = createSupervisor({
      children: [
        processChild({ name: 'done', command: 'sh', args: ['-c', 'sleep 0.05; exit 0'], restart: 'transient' }),
        processChild({ name: 'broken', command: 'sh', args: ['-c', 'sleep 0.05; exit 3'], restart: 'temporary' }),
      ],
      log,
      ...fast,
    });
    await sup.start();
    const done = await sup.whenState('done', 'stopped', 5_000);
    const broken = await sup.whenState('broken', 'failed', 5_000);
    expect(done).toMatchObject({ restarts: 0, lastError: null });
    expect(broken.lastError).toMatch(/exited with code 3/);
  });
});
