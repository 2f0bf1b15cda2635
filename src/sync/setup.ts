import { Denied, Failed, UsageError } from '../model/errors.js';
import { writeKeyFile } from './key.js';
import { connectSync, groupKey, type SyncConfig } from './server.js';

export const MIN_PASSPHRASE = 8;

/**
 * Derives this device's sync key from the passphrase and the group's salt on the sync server (the
 * first device creates both), refuses a passphrase that does not match the group's, and writes the
 * key file. Needs no daemon: a running one notices the file and starts syncing.
 */
export async function setupSync(cfg: SyncConfig, keyFile: string, passphrase: string): Promise<{ created: boolean }> {
  if (!cfg.url) throw new UsageError('set [sync] url in the config file first (docs/sync.md)');
  if ([...passphrase].length < MIN_PASSPHRASE) throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  let nc;
  try {
    nc = await connectSync(cfg, 'sundial-sync-setup');
  } catch (err) {
    throw new Failed(`cannot reach the sync server at ${cfg.url}: ${(err as Error).message}`);
  }
  try {
    const got = await groupKey(nc, cfg, passphrase);
    if (!got) throw new Denied('wrong passphrase: it does not match the one your other devices use with this sync server; nothing was saved');
    writeKeyFile(keyFile, got.key.salt, got.master);
    return { created: got.created };
  } finally {
    await nc.close();
  }
}
