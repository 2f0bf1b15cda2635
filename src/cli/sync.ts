import fs from 'node:fs';
import readline from 'node:readline';
import { Unavailable, UsageError } from '../model/errors.js';
import type { SyncStatus } from '../sync/child.js';
import { readKeyFile } from '../sync/key.js';
import { setupSync } from '../sync/setup.js';
import { bool, str } from './args.js';
import { flags, type Command } from './command.js';
import { where } from './context.js';
import { callOk } from './daemon-client.js';
import { DATA_FLAGS } from './flags.js';

/** Reads a passphrase on the terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stdout.write(prompt);
    out._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

async function passphrase(file: string | undefined): Promise<string> {
  if (file !== undefined) {
    const text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
    return text.replace(/\r?\n$/, '');
  }
  if (!process.stdin.isTTY) throw new UsageError('sync setup: no terminal to ask for the passphrase: use --passphrase-file F (or - for stdin)');
  const first = await askHidden('Sync passphrase (the same on every device): ');
  const again = await askHidden('Again: ');
  if (first !== again) throw new UsageError('sync setup: the two passphrases differ; nothing was saved');
  return first;
}

const ago = (iso: string | null): string => {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : new Date(iso).toLocaleString();
};

export function formatSyncStatus(s: SyncStatus): string[] {
  const lines = [`sync: ${s.state}${s.message ? ` — ${s.message}` : ''}`, `this device: ${s.device} (${s.connected ? 'connected' : 'not connected'})`];
  lines.push(`pushed: ${s.pushed.changes} changes, ${s.pushed.bytes} bytes since start; ${s.pushed.pending} waiting${s.pushed.lastAt ? `; last ${ago(s.pushed.lastAt)}` : ''}`);
  if (s.peers.length === 0) lines.push('peers: none seen yet');
  for (const p of s.peers) lines.push(`peer ${p.device}: last seen ${ago(p.lastSeen)}, ${p.behind} changes behind, ${p.changes} changes / ${p.bytes} bytes pulled since start`);
  const refused = Object.entries(s.refused);
  if (refused.length) lines.push(`refused messages: ${refused.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  return lines;
}

export const syncCommand: Command = {
  name: 'sync',
  summary: 'multi-device sync: set up this device’s key from the passphrase, or show sync status',
  args: 'setup|status',
  positionals: [1, 1],
  details:
    'Needs [sync] enabled = true and url in the config (docs/sync.md). setup derives the key from the\n' +
    'passphrase and the sync server’s salt, refuses a passphrase your other devices do not use, and\n' +
    'saves the key (0600) in the data dir; a running daemon starts syncing within a second.',
  flags: flags([...DATA_FLAGS, 'json'], {
    'passphrase-file': { type: 'string', arg: 'F', help: 'read the passphrase from F (- for stdin) instead of asking' },
  }),
  async run(f, [action]) {
    const w = await where(f);
    if (action === 'setup') {
      const { created } = await setupSync(w.config.sync, w.paths.syncKey, await passphrase(str(f, 'passphrase-file')));
      console.log(`${created ? 'new sync group created' : 'passphrase matches the sync group'}; key saved in ${w.paths.syncKey}`);
      if (!w.config.sync.enabled) console.log('note: [sync] enabled is false in the config; set it to true and restart the daemon to sync');
      return 0;
    }
    if (action !== 'status') throw new UsageError(`sync: unknown action '${action}' (setup or status)`);
    let status: { sync: SyncStatus | null };
    try {
      status = (await callOk(w, 'GET', '/api/control/status', 'status')) as { sync: SyncStatus | null };
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      const keyed = readKeyFile(w.paths.syncKey) !== null;
      console.log(`sync: daemon not running; ${keyed ? 'this device is set up' : 'not set up (sundial sync setup)'}`);
      return 3;
    }
    if (bool(f, 'json')) console.log(JSON.stringify(status.sync, null, 2));
    else if (!status.sync) console.log('sync: off ([sync] enabled = false in the config)');
    else for (const l of formatSyncStatus(status.sync)) console.log(l);
    return 0;
  },
};
