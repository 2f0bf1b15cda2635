import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseConfig } from '../../src/config/config.js';
import { StartupError } from '../../src/model/errors.js';
import { BIN } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const refuse = (user: unknown) => {
  try {
    parseConfig(user, false, 'test.toml');
  } catch (err) {
    expect(err).toBeInstanceOf(StartupError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('config schema', () => {
  it('gives the embedded defaults, with the --testing variants', () => {
    const c = defaultConfig(false);
    expect(c.server).toEqual({ host: '127.0.0.1', port: 5600, cors: [], cors_regex: [], api_key: null, forward_url: null });
    expect(c.watchers.afk).toEqual({ poll_time: 5, timeout: 180, media_counts_as_active: true });
    expect(defaultConfig(true).server.port).toBe(5666);
    expect(defaultConfig(true).watchers.afk).toEqual({ poll_time: 1, timeout: 20, media_counts_as_active: true });
  });

  it('fills what a partial file leaves out', () => {
    const c = parseConfig({ server: { port: 5700 }, watchers: { window: { exclude_titles: ['bank'] } } }, false, 'x');
    expect(c.server.port).toBe(5700);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.watchers.window).toEqual({ poll_time: 1, exclude_title: false, exclude_titles: ['bank'] });
    expect(c.watchers.afk.timeout).toBe(180);
  });

  it('refuses wrong types and ranges, naming the key (keys whose default is null included)', () => {
    expect(refuse({ server: { forward_url: 42 } })).toMatch(/'server\.forward_url'/);
    expect(refuse({ server: { port: -5 } })).toMatch(/'server\.port'/);
    expect(refuse({ server: { port: 70000 } })).toMatch(/'server\.port'/);
    expect(refuse({ queue: { max_items: -5 } })).toMatch(/'queue\.max_items'/);
    expect(refuse({ query: { threads: 0 } })).toMatch(/'query\.threads'/);
    expect(refuse({ bus: { url: 'not a url' } })).toMatch(/'bus\.url'/);
    expect(refuse({ server: { cors: ['a', 3] } })).toMatch(/'server\.cors\.1'/);
    expect(refuse({ watchers: { window: { exclude_titles: ['(unclosed'] } } })).toMatch(/'watchers\.window\.exclude_titles\.0' is not a valid regular expression/);
    expect(refuse({ privacy: { rules: [{ field: 'title', pattern: 'x', action: 'explode' }] } })).toMatch(/'privacy\.rules\.0\.action'/);
  });

  it('refuses unknown keys, naming them', () => {
    expect(refuse({ sever: {} })).toMatch(/unknown key 'sever'/);
    expect(refuse({ server: { prot: 1 } })).toMatch(/unknown key 'server\.prot'/);
  });
});

describe('config file', () => {
  it('reads TOML and says which keys it set', () => {
    const d = dir();
    const file = path.join(d, 'config.toml');
    fs.writeFileSync(file, '[server]\nport = 5701\n\n[[privacy.rules]]\nfield = "title"\npattern = "bank"\naction = "redact"\n');
    const loaded = loadConfig({ file, explicit: false, testing: false });
    expect(loaded.file).toBe(file);
    expect(loaded.config.server.port).toBe(5701);
    expect(loaded.config.privacy.rules).toEqual([{ field: 'title', pattern: 'bank', action: 'redact' }]);
    expect([...loaded.fromFile].sort()).toEqual(['privacy.rules', 'server.port']);
  });

  it('still reads an older config.json beside the missing config.toml; TOML wins when both exist', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ server: { port: 5702 } }));
    const file = path.join(d, 'config.toml');
    expect(loadConfig({ file, explicit: false, testing: false }).config.server.port).toBe(5702);
    fs.writeFileSync(file, '[server]\nport = 5703\n');
    expect(loadConfig({ file, explicit: false, testing: false }).config.server.port).toBe(5703);
  });

  it('uses the defaults when no file exists, but a file named with --config must exist and be a file', () => {
    const d = dir();
    expect(loadConfig({ file: path.join(d, 'config.toml'), explicit: false, testing: false }).file).toBeNull();
    expect(() => loadConfig({ file: path.join(d, 'missing.toml'), explicit: true, testing: false })).toThrow(/missing\.toml does not exist/);
    expect(() => loadConfig({ file: d, explicit: true, testing: false })).toThrow(/is a directory/);
  });

  it('names the file and the line of a syntax error', () => {
    const d = dir();
    const file = path.join(d, 'config.toml');
    fs.writeFileSync(file, '[server]\nport = = 1\n');
    expect(() => loadConfig({ file, explicit: true, testing: false })).toThrow(/config .*config\.toml is not valid TOML \(line 2, column 8\): invalid value/);
    fs.writeFileSync(path.join(d, 'c.json'), '{"server": ');
    expect(() => loadConfig({ file: path.join(d, 'c.json'), explicit: true, testing: false })).toThrow(/is not valid JSON/);
  });
});

describe('config loaded in a child process (the daemon)', () => {
  // The child runs dist/: `npm run build` first (worker-entry.ts).
  const rejection = async (p: Promise<unknown>): Promise<Error> => {
    try {
      await p;
    } catch (err) {
      return err as Error;
    }
    throw new Error('accepted');
  };
  const thrown = (f: () => unknown): Error => {
    try {
      f();
    } catch (err) {
      return err as Error;
    }
    throw new Error('accepted');
  };

  it('answers what loadConfig answers, the set of keys from the file included', async () => {
    const { loadConfigApart } = await import('../../src/config/load-apart.js');
    const d = dir();
    const file = path.join(d, 'config.toml');
    fs.writeFileSync(file, '[server]\nport = 5701\n[watchers.window]\nexclude_titles = ["bank"]\n');
    const opts = { file, explicit: true, testing: false };
    const apart = await loadConfigApart(opts);
    expect(apart).toEqual(loadConfig(opts));
    expect(apart.fromFile).toEqual(new Set(['server.port', 'watchers.window.exclude_titles']));
    expect(await loadConfigApart({ file: path.join(d, 'none.toml'), explicit: false, testing: true })).toEqual({ config: defaultConfig(true), file: null, fromFile: new Set() });
  });

  it('fails as loadConfig does: a StartupError with the same one-line message', async () => {
    const { loadConfigApart } = await import('../../src/config/load-apart.js');
    const d = dir();
    const bad = path.join(d, 'bad.toml');
    fs.writeFileSync(bad, '[server]\nprot = 1\n');
    const broken = path.join(d, 'broken.toml');
    fs.writeFileSync(broken, '[server]\nport = = 1\n');
    for (const opts of [bad, broken, path.join(d, 'missing.toml')].map((file) => ({ file, explicit: true, testing: false }))) {
      const err = await rejection(loadConfigApart(opts));
      expect(err).toBeInstanceOf(StartupError);
      expect(err.message).toBe(thrown(() => loadConfig(opts)).message);
    }
  });
});

describe('config loaded in a child process started early (sundial start, before its modules load)', () => {
  it('is taken by the next load with the same options, a failure included', async () => {
    const { loadConfigApart, startLoadingConfigApart } = await import('../../src/config/load-apart.js');
    const d = dir();
    const file = path.join(d, 'config.toml');
    fs.writeFileSync(file, '[server]\nport = 5702\n');
    startLoadingConfigApart({ file, explicit: true, testing: false });
    const loaded = await loadConfigApart({ file, explicit: true, testing: false });
    expect(loaded.config.server.port).toBe(5702);
    const missing = { file: path.join(d, 'missing.toml'), explicit: true, testing: false };
    startLoadingConfigApart(missing);
    await expect(loadConfigApart(missing)).rejects.toThrow(StartupError);
  });
});

describe('the config validator stays off the main thread of the daemon', () => {
  /** Runs the CLI with a preload that records what its main thread resolves; resolves with zod's modules among them. */
  const zodOnMainThread = (args: string[], untilStdout?: RegExp): Promise<{ resolved: number; zod: string[] }> => {
    const log = path.join(dir(), 'modules.json');
    const fixture = path.join(import.meta.dirname, 'fixtures', 'module-log.mjs');
    const p = spawn(process.execPath, ['--import', fixture, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MODULE_LOG: log } });
    let out = '';
    p.stdout.on('data', (b: Buffer) => {
      out += String(b);
      if (untilStdout?.test(out)) p.kill('SIGTERM');
    });
    return new Promise((resolve, reject) => {
      p.on('exit', () => {
        try {
          resolve(JSON.parse(fs.readFileSync(log, 'utf8')) as { resolved: number; zod: string[] });
        } catch (err) {
          reject(new Error(`no module log (${String(err)}); stdout: ${out}`));
        }
      });
    });
  };

  it('sundial start validates its config in a child process: zod never loads in the daemon (≈ 3 MB kept)', async () => {
    const data = dir();
    const seen = await zodOnMainThread(['start', '--testing', '--data-dir', data, '--port', '0'], /Sundial is running at/);
    expect(seen.resolved).toBeGreaterThan(100);
    expect(seen.zod).toEqual([]);
  });

  it('while sundial config, which needs it, does load zod there (the check sees it)', async () => {
    const seen = await zodOnMainThread(['config', '--testing', '--data-dir', dir()]);
    expect(seen.zod.length).toBeGreaterThan(0);
  });
});

describe('sundial config (describeEffective)', () => {
  it('prints valid TOML equal to the effective config, each value with its source', async () => {
    const { describeEffective } = await import('../../src/config/describe.js');
    const { parse } = await import('smol-toml');
    const d = dir();
    const file = path.join(d, 'config.toml');
    fs.writeFileSync(file, '[watchers.window]\nexclude_titles = ["bank"]\n[[privacy.rules]]\nfield = "app"\npattern = "x"\naction = "drop"\n');
    const loaded = loadConfig({ file, explicit: true, testing: false });
    loaded.config.server.port = 5800;
    const text = describeEffective(loaded, new Map([['server.port', '--port']]));
    expect(text).toContain('port = 5800  # --port');
    expect(text).toContain('exclude_titles = ["bank"]  # file');
    expect(text).toContain('host = "127.0.0.1"  # default');
    const back = parse(text) as Record<string, unknown>;
    expect(parseConfig(back, false, 'printed')).toEqual(loaded.config);
  });
});
