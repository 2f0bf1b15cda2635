import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonEntry } from '../../src/service/entry.js';
import { launchdPlist } from '../../src/service/launchd.js';
import { installPlan, sessionImport, type ServiceEnv } from '../../src/service/plan.js';
import { systemdUnit } from '../../src/service/systemd.js';
import { BIN, runCli } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
const tmp = () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

const node = fs.realpathSync(process.execPath);

function verifyUnit(dir: string, text: string): { code: number; stderr: string } {
  const unit = path.join(dir, 'sundial.service');
  fs.writeFileSync(unit, text);
  const runtime = fs.mkdtempSync(path.join(dir, 'run-'));
  fs.chmodSync(runtime, 0o700);
  const r = spawnSync('systemd-analyze', ['verify', '--user', unit], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  return { code: r.status ?? -1, stderr: r.stderr };
}

/** ExecStart's words, undoing systemd's quoting. */
function execStart(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='))!.slice('ExecStart='.length);
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m; (m = re.exec(line)); ) words.push((m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!).replace(/%%/g, '%'));
  return words;
}

describe('systemd user unit', () => {
  it('passes systemd-analyze verify with nothing on stderr, runs node on the daemon entry with absolute existing paths', () => {
    const dir = tmp();
    const unit = systemdUnit({ node, entry: daemonEntry(), args: ['start'], path: '/usr/bin:/bin' });
    const v = verifyUnit(dir, unit);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const [exe, entry, ...args] = execStart(unit);
    expect(path.isAbsolute(exe!) && fs.existsSync(exe!)).toBe(true);
    expect(path.isAbsolute(entry!) && fs.existsSync(entry!)).toBe(true);
    expect(entry).toMatch(/dist\/cli\.js$/);
    expect(args).toEqual(['start']);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=graphical-session\.target$/m);
    expect(unit).toMatch(/^PartOf=graphical-session\.target$/m);
    // Nothing that would hide the X11 socket or the home dir from the daemon.
    expect(unit).not.toMatch(/PrivateTmp|ProtectHome|PrivateNetwork|ProtectSystem=strict/);
    expect(unit).not.toMatch(/npx|\/bin\/sh|bash/);
  });

  it('quotes paths with spaces and % so systemd reads them back exactly', () => {
    const dir = tmp();
    const odd = path.join(dir, 'my dir 100%');
    fs.mkdirSync(odd);
    fs.symlinkSync(node, path.join(odd, 'node'));
    const data = path.join(dir, 'data "x"');
    const unit = systemdUnit({ node: path.join(odd, 'node'), entry: daemonEntry(), args: ['start', '--data-dir', data], path: `${odd}:/usr/bin` });
    const v = verifyUnit(dir, unit);
    expect(v.stderr).toBe('');
    expect(execStart(unit)).toEqual([path.join(odd, 'node'), daemonEntry(), 'start', '--data-dir', data]);
  });

  it('a broken unit does give stderr (the check above can fail)', () => {
    const dir = tmp();
    const v = verifyUnit(dir, systemdUnit({ node: '/nonexistent/node', entry: daemonEntry(), args: ['start'], path: '/usr/bin' }));
    expect(v.stderr).not.toBe('');
  });

  it('headless starts with the user manager instead of the graphical session', () => {
    const unit = systemdUnit({ node, entry: daemonEntry(), args: ['start'], path: '/usr/bin', headless: true });
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(unit).not.toMatch(/graphical-session/);
    expect(verifyUnit(tmp(), unit).stderr).toBe('');
  });

  it('imports the session variables this shell has and the user manager lacks', () => {
    expect(sessionImport({ PATH: '/usr/bin' }, { DISPLAY: ':0', XAUTHORITY: '/h/.Xauthority', XDG_SESSION_TYPE: 'x11' })).toEqual({
      vars: ['DISPLAY', 'XAUTHORITY', 'XDG_SESSION_TYPE'],
      missing: false,
    });
    expect(sessionImport({ DISPLAY: ':0' }, { DISPLAY: ':1' })).toEqual({ vars: [], missing: false });
    expect(sessionImport({}, {})).toEqual({ vars: [], missing: true });
    const e: ServiceEnv = { platform: 'linux', home: '/h', uid: 1000, configHome: '/h/.config', node, entry: daemonEntry(), daemonArgs: ['start'], path: '/usr/bin', headless: false };
    expect(installPlan(e, ['DISPLAY']).commands).toEqual([
      ['systemctl', '--user', 'import-environment', 'DISPLAY'],
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'sundial.service'],
    ]);
  });
});

// Apple's property list DTD (version 1.0), written from its published definition.
const PLIST_DTD = `<!ENTITY % plistObject "(array | data | date | dict | real | integer | string | true | false )" >
<!ELEMENT plist %plistObject;>
<!ATTLIST plist version CDATA "1.0" >
<!ELEMENT array (%plistObject;)*>
<!ELEMENT dict (key, %plistObject;)*>
<!ELEMENT key (#PCDATA)>
<!ELEMENT string (#PCDATA)>
<!ELEMENT data (#PCDATA)>
<!ELEMENT date (#PCDATA)>
<!ELEMENT true EMPTY>
<!ELEMENT false EMPTY>
<!ELEMENT real (#PCDATA)>
<!ELEMENT integer (#PCDATA)>
`;

function xmllintValid(dir: string, file: string): { code: number; stderr: string } {
  const dtd = path.join(dir, 'PropertyList-1.0.dtd');
  fs.writeFileSync(dtd, PLIST_DTD);
  const catalog = path.join(dir, 'catalog.xml');
  fs.writeFileSync(
    catalog,
    `<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n` +
      `  <system systemId="http://www.apple.com/DTDs/PropertyList-1.0.dtd" uri="file://${dtd}"/>\n` +
      `  <public publicId="-//Apple//DTD PLIST 1.0//EN" uri="file://${dtd}"/>\n</catalog>\n`,
  );
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--valid', file], { encoding: 'utf8', env: { ...process.env, XML_CATALOG_FILES: catalog } });
  return { code: r.status ?? -1, stderr: r.stderr };
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

/** A strict reader of the XML plist subset (as plutil -lint): one value per key, no duplicate keys, no stray text. */
function parsePlist(text: string): PlistValue {
  const body = text.replace(/<\?xml[^>]*\?>/, '').replace(/<!DOCTYPE[^>]*>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const tokens = body.match(/<[^>]+>|[^<]+/g)!.filter((t) => t.trim() !== '');
  let i = 0;
  const unxml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  const text_ = (tag: string): string => {
    let v = '';
    if (!tokens[i]!.startsWith('<')) v = unxml(tokens[i++]!);
    if (tokens[i++] !== `</${tag}>`) throw new Error(`unclosed <${tag}>`);
    return v;
  };
  const value = (): PlistValue => {
    const t = tokens[i++]!;
    if (t === '<true/>') return true;
    if (t === '<false/>') return false;
    if (t === '<string>') return text_('string');
    if (t === '<integer>') {
      const v = text_('integer');
      if (!/^[+-]?\d+$/.test(v)) throw new Error(`bad integer ${v}`);
      return Number(v);
    }
    if (t === '<array>') {
      const out: PlistValue[] = [];
      while (tokens[i] !== '</array>') out.push(value());
      i++;
      return out;
    }
    if (t === '<dict>') {
      const out: Record<string, PlistValue> = {};
      while (tokens[i] !== '</dict>') {
        if (tokens[i++] !== '<key>') throw new Error('dict entry without key');
        const k = text_('key');
        if (k in out) throw new Error(`duplicate key ${k}`);
        out[k] = value();
      }
      i++;
      return out;
    }
    throw new Error(`unexpected ${t}`);
  };
  if (tokens[i++] !== '<plist version="1.0">') throw new Error('no plist root');
  const v = value();
  if (tokens[i++] !== '</plist>' || i !== tokens.length) throw new Error('trailing content');
  return v;
}

describe('macOS LaunchAgent', () => {
  it('is valid against the plist DTD, parses strictly, restarts on crash only, and names absolute existing paths', () => {
    const dir = tmp();
    const logDir = path.join(dir, 'Library', 'Logs', 'sundial');
    fs.mkdirSync(logDir, { recursive: true });
    const text = launchdPlist({ label: 'org.sundial.daemon', node, entry: daemonEntry(), args: ['start', '--data-dir', path.join(dir, 'a&b <c>')], path: '/opt/homebrew/bin:/usr/bin', logDir });
    const file = path.join(dir, 'org.sundial.daemon.plist');
    fs.writeFileSync(file, text);
    const v = xmllintValid(dir, file);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const p = parsePlist(text) as Record<string, PlistValue>;
    expect(p.Label).toBe('org.sundial.daemon');
    expect(p.RunAtLoad).toBe(true);
    expect(p.KeepAlive).toEqual({ SuccessfulExit: false });
    const argv = p.ProgramArguments as string[];
    expect(argv.slice(0, 2)).toEqual([node, daemonEntry()]);
    expect(argv.slice(2)).toEqual(['start', '--data-dir', path.join(dir, 'a&b <c>')]);
    for (const f of argv.slice(0, 2)) expect(path.isAbsolute(f) && fs.existsSync(f)).toBe(true);
    for (const f of [p.StandardOutPath, p.StandardErrorPath] as string[]) {
      expect(path.isAbsolute(f)).toBe(true);
      expect(fs.existsSync(path.dirname(f))).toBe(true);
      expect(f.startsWith(logDir)).toBe(true);
    }
  });

  it('an invalid plist fails the DTD check (the check above can fail)', () => {
    const dir = tmp();
    const file = path.join(dir, 'bad.plist');
    fs.writeFileSync(file, launchdPlist({ label: 'x', node, entry: daemonEntry(), args: [], path: '/usr/bin', logDir: dir }).replace('<true/>', '<yes/>'));
    expect(xmllintValid(dir, file).stderr).not.toBe('');
  });
});

describe('sundial service --dry-run', () => {
  function listAll(dir: string): string[] {
    return fs.readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
  }

  it('install and uninstall print the unit and the commands and change nothing on disk', async () => {
    const home = tmp();
    const data = path.join(home, 'data');
    const before = listAll(home);
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share') };
    const inst = spawnSync(process.execPath, [BIN, 'service', 'install', '--dry-run', '--data-dir', data], { encoding: 'utf8', env });
    expect(inst.status).toBe(0);
    expect(inst.stdout).toContain(`would write ${path.join(home, '.config', 'systemd', 'user', 'sundial.service')}`);
    expect(inst.stdout).toMatch(new RegExp(`^ExecStart=${node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\S+/dist/cli\\.js start --data-dir ${data}$`, 'm'));
    expect(inst.stdout).toMatch(/systemctl --user enable --now sundial\.service/);
    const un = spawnSync(process.execPath, [BIN, 'service', 'uninstall', '--dry-run'], { encoding: 'utf8', env });
    expect(un.status).toBe(0);
    expect(un.stdout).toMatch(/systemctl --user disable --now sundial\.service/);
    expect(listAll(home)).toEqual(before);
    expect(fs.existsSync(data)).toBe(false);
  });

  it('refuses an unknown action with exit code 2', async () => {
    const r = await runCli(['service', 'reinstall']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown action 'reinstall'/);
  });
});
