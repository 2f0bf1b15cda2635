import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { daemonPaths } from '../../src/config/paths.js';
import { claimDataDir } from '../../src/datadir/claim.js';
import { EXIT_CHILD_FAILED } from '../../src/daemon.js';
import { Conflict } from '../../src/model/errors.js';
import { openWritable } from '../../src/storage/open.js';
import { runCli, spawnDaemon, startInProcess, waitFor, waitForHttp } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const exited = (p: ReturnType<typeof spawnDaemon>) =>
  new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c))));

async function started(dataDir: string) {
  const port = await freePort();
  const p = spawnDaemon(dataDir, port);
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  cleanups.push(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await exited(p);
    }
  });
  await waitForHttp(port).catch((e) => {
    throw new Error(`${e.message}\n${err}`);
  });
  return { p, port };
}

/** `sundial start` that is expected to refuse: its exit code and what it printed. */
async function refusedStart(args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await runCli(['start', '--testing', '--port', String(await freePort()), ...args]);
  return { code: r.code, stderr: r.stderr.trim() };
}

/** One line, no stack trace. */
const oneLine = (text: string) => {
  expect(text.split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/^\s+at /m);
};

const status = async (d: string) => {
  const r = await runCli(['status', '--json', '--testing', '--data-dir', d]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { pid: number; children: { name: string; state: string; restarts: number }[] };
};
const child = (s: Awaited<ReturnType<typeof status>>, name: string) => s.children.find((c) => c.name === name)!;

describe('one daemon per data dir', () => {
  it('refuses a second daemon with one line naming the first one’s pid and port; the first runs on untouched', async () => {
    const d = dir();
    const first = await started(d);
    const second = await refusedStart(['--data-dir', d]);
    expect(second.code).toBe(1);
    oneLine(second.stderr);
    expect(second.stderr).toContain(`another Sundial daemon (pid ${first.p.pid}, port ${first.port})`);
    const s = await status(d);
    expect(s.pid).toBe(first.p.pid);
    expect(child(s, 'bus')).toMatchObject({ state: 'running', restarts: 0 });
    expect((await fetch(`http://127.0.0.1:${first.port}/api/0/info`)).status).toBe(200);
  });

  it('the lock goes with the process, even after kill -9', async () => {
    const d = dir();
    const first = await started(d);
    first.p.kill('SIGKILL');
    await exited(first.p);
    await started(d);
  });

  it('refuses a second claim in the same process too', () => {
    const paths = daemonPaths({ dataDir: dir(), testing: true });
    const claim = claimDataDir(paths);
    expect(() => claimDataDir(paths)).toThrow(Conflict);
    claim.release();
    claimDataDir(paths).release();
  });
});

describe('a damaged database', () => {
  it('whole-file damage: exit 1, one line naming the file and what to do', async () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'sqlite-testing.db'), 'this is not a database at all, just text '.repeat(200));
    const r = await refusedStart(['--data-dir', d]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain(path.join(d, 'sqlite-testing.db'));
    expect(r.stderr).toMatch(/sundial restore/);
  });

  it('partly damaged pages: refused at start, not a zombie', async () => {
    const d = dir();
    const file = path.join(d, 'sqlite-testing.db');
    const db = openWritable(file);
    db.prepare("INSERT INTO buckets (name, type, client, hostname, created) VALUES ('b', 't', 'c', 'h', 0)").run();
    const ins = db.prepare("INSERT INTO events (bucketrow, starttime, endtime, data) VALUES (1, ?, ?, ?)");
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) ins.run(i * 1e6, i * 1e6 + 5e5, JSON.stringify({ app: 'editor', title: `file ${i}.ts` }));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // Scribble over pages in the middle of the events table (the file header stays valid).
    const fd = fs.openSync(file, 'r+');
    const pageSize = new Database(file, { readonly: true }).pragma('page_size', { simple: true }) as number;
    for (const page of [40, 41, 80, 120]) fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, page * pageSize);
    fs.closeSync(fd);
    const r = await refusedStart(['--data-dir', d]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`${file} is damaged`);
  });

  it('a significant child that fails for good at run time stops the daemon with its exit code', async () => {
    const d = await startInProcess(dir(), () => {}, { restart: { intensity: { maxRestarts: 1, withinMs: 60_000 }, backoff: { initialMs: 10, maxMs: 10, jitter: 0 } } });
    const paths = daemonPaths({ dataDir: d.status().dataDir as string, testing: true });
    expect(fs.existsSync(paths.runtime)).toBe(true);
    d.supervisor.crashChild('queue');
    await d.supervisor.whenState('queue', 'running');
    d.supervisor.crashChild('queue');
    expect(await d.exited).toBe(EXIT_CHILD_FAILED);
    // Stopped in order: the lock is free and the runtime file gone.
    expect(fs.existsSync(paths.runtime)).toBe(false);
    claimDataDir(paths).release();
  });
});

describe('the CLI reaches the daemon without the http child', () => {
  it('stop-child http, status, start-child http, restart http all work over the control socket', async () => {
    const d = dir();
    const { port } = await started(d);
    expect((await runCli(['stop-child', 'http', '--testing', '--data-dir', d])).code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/api/0/info`)).rejects.toThrow();
    expect(child(await status(d), 'http').state).toBe('stopped');
    expect((await runCli(['start-child', 'http', '--testing', '--data-dir', d])).code).toBe(0);
    expect(child(await status(d), 'http').state).toBe('running');
    await waitForHttp(port);
    const r = await runCli(['restart', 'http', '--testing', '--data-dir', d]);
    expect(r.code, r.stderr).toBe(0);
    expect(child(await status(d), 'http').state).toBe('running');
    // The socket is the user's alone.
    expect(fs.statSync(path.join(d, 'control-testing.sock')).mode & 0o777).toBe(0o600);
  });

  it('says no daemon runs, in one line, with its own exit code', async () => {
    const r = await runCli(['status', '--testing', '--data-dir', dir()]);
    expect(r.code).toBe(3);
    oneLine(r.stderr.trim());
    expect(r.stderr).toMatch(/no Sundial daemon is running/);
  });
});

describe('bad paths and settings: one line, exit 1, nothing half-created', () => {
  it('--config that is missing or a directory', async () => {
    const d = dir();
    const data = path.join(d, 'data');
    for (const [cfg, want] of [
      [path.join(d, 'missing.toml'), /missing\.toml does not exist/],
      [d, /is a directory/],
    ] as const) {
      const r = await refusedStart(['--data-dir', data, '--config', cfg]);
      expect(r.code).toBe(1);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(want);
    }
    expect(fs.existsSync(data)).toBe(false);
  });

  it('a bad exclude_titles regex names the key; nothing is created', async () => {
    const d = dir();
    const data = path.join(d, 'data');
    const cfg = path.join(d, 'config.toml');
    fs.writeFileSync(cfg, '[watchers.window]\nexclude_titles = ["(unclosed"]\n');
    const r = await refusedStart(['--data-dir', data, '--config', cfg]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/'watchers\.window\.exclude_titles\.0' is not a valid regular expression/);
    expect(fs.existsSync(data)).toBe(false);
  });

  it('a data dir that is a file', async () => {
    const file = path.join(dir(), 'plain-file');
    fs.writeFileSync(file, 'x');
    const r = await refusedStart(['--data-dir', file]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`data dir ${file} is a file`);
  });

  it('a data dir the user cannot write', async () => {
    const parent = dir();
    const data = path.join(parent, 'locked');
    fs.mkdirSync(data, { mode: 0o500 });
    fs.chmodSync(parent, 0o755);
    let r: { code: number; stderr: string };
    if (process.getuid?.() === 0) {
      // root writes anywhere: run the CLI as root without the capabilities that override file modes
      // (an unprivileged user might not be able to read this checkout).
      const bin = path.resolve('bin/sundial.js');
      const drop = '-dac_override,-dac_read_search';
      try {
        execFileSync('setpriv', [`--bounding-set=${drop}`, `--inh-caps=${drop}`, process.execPath, bin, 'start', '--testing', '--port', '0', '--data-dir', data], { stdio: 'pipe' });
        r = { code: 0, stderr: '' };
      } catch (err) {
        const e = err as { status: number; stderr: Buffer };
        r = { code: e.status, stderr: e.stderr.toString().trim() };
      }
    } else {
      r = await refusedStart(['--data-dir', data]);
    }
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`data dir ${data} is not writable`);
  });
});

describe('status finds the daemon from --data-dir alone', () => {
  it('without --port', async () => {
    const d = dir();
    const { p } = await started(d);
    await waitFor('status', async () => (await status(d)).pid === p.pid);
  });
});
