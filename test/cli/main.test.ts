import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bus/credentials.js';
import { COMMANDS, commandHelp } from '../../src/cli/main.js';
import { ROOT, runCli, spawnDaemon, waitFor, waitForHttp } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('sundial CLI: usage', () => {
  it('prints the version for --version, -v and version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['-v'], ['version']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('lists every command for --help and help, and a command’s flags with defaults for <command> --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['start', 'status', 'restart', 'pause', 'forget', 'logs', 'help', 'version']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect((await runCli(['help'])).stdout).toBe(top.stdout);
    const st = await runCli(['status', '--help']);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/--port P\s+HTTP port \(default: 5600, 5666 with --testing\)/);
    expect(st.stdout).toMatch(/--json/);
    expect(st.stdout).not.toMatch(/--match/);
    expect((await runCli(['help', 'status'])).stdout).toBe(st.stdout);
  });

  it('docs/cli.md holds every command’s current help', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
    for (const c of COMMANDS) expect(doc, c.name).toContain(`## ${c.name}\n\n\`\`\`\n${commandHelp(c)}\n\`\`\``);
  });

  it('exits 2 with one line in our words for every usage error', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: sundial <command>/],
      [['bogus'], /unknown command 'bogus'/],
      [['status', '--match', 'x'], /^sundial: status does not take --match/],
      [['start', '--port', '-1'], /--port must be a whole number from 0 to 65535, not '-1'/],
      [['status', '--port', 'abc'], /--port must be a whole number/],
      [['status', '--port'], /--port needs a value/],
      [['restart'], /restart: missing <child>/],
      [['pause', '1h', 'extra'], /pause: unexpected 'extra'/],
      [['forget'], /forget needs --match/],
      [['status', '--json=yes'], /--json takes no value/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      if (args.length) expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|at .*\.js:\d+/);
    }
  });
});

describe('sundial CLI with a daemon', () => {
  it('finds the daemon from --data-dir alone, says where the log is when not on a terminal, and shows the log readably', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const port = await freePort();
    const p = spawnDaemon(tmp.dir, port);
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    cleanups.push(async () => {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => p.on('exit', r));
      }
    });
    await waitForHttp(port);
    await waitFor('start line', () => out.includes('log:'));
    const logFile = path.join(tmp.dir, 'logs', 'sundial-testing.log');
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toContain(`log: ${logFile}`);
    const record = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'daemon-testing.json'), 'utf8')) as { pid: number; port: number };
    expect(record).toMatchObject({ pid: p.pid, port });
    expect(fs.statSync(path.join(tmp.dir, 'daemon-testing.json')).mode & 0o777).toBe(0o600);

    // No --port: the daemon file says where it listens.
    const s = await runCli(['status', '--json', '--testing', '--data-dir', tmp.dir]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).pid).toBe(p.pid);
    const r = await runCli(['restart', 'queue', '--testing', '--data-dir', tmp.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/queue: restart done/);

    const logs = await runCli(['logs', '--testing', '--data-dir', tmp.dir, '-n', '200']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/INFO.*sundial started/);
    expect(logs.stdout).not.toMatch(/^\{"level"/m);

    p.kill('SIGTERM');
    expect(await new Promise((res) => p.on('exit', (c) => res(c)))).toBe(0);
    expect(fs.existsSync(path.join(tmp.dir, 'daemon-testing.json'))).toBe(false);
  });

  it('follows the http child to a new port after a restart (port 0): the daemon file is rewritten', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const p = spawnDaemon(tmp.dir, 0);
    cleanups.push(async () => {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => p.on('exit', r));
      }
    });
    const file = path.join(tmp.dir, 'daemon-testing.json');
    const first = await waitFor('daemon file', () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { port: number }) : false));
    const flags = ['--testing', '--data-dir', tmp.dir];
    // Its reply can be lost while the http child restarts (the control path still runs over http).
    await runCli(['restart', 'http', ...flags]);
    const second = await waitFor('new port', () => {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { port: number };
      return r.port !== first.port ? r : false;
    });
    await waitForHttp(second.port);
    const s = await runCli(['status', '--json', ...flags]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).pid).toBe(p.pid);
  });
});
