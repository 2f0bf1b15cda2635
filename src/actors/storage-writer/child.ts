import type { PrivacyConfig } from '../../privacy/filters.js';
import type { ChildSpec } from '../../supervisor/types.js';
import type { WriterPort } from './port.js';
import { openStorageWriter } from './writer.js';

/** The storage writer as a supervised child: each incarnation opens the database and attaches to the port. */
export function storageWriterChild(opts: { file: string; port: WriterPort; privacy?: PrivacyConfig; paused?: () => boolean; onBusy?: () => void }): ChildSpec {
  return {
    name: 'storage',
    restart: 'permanent',
    shutdownTimeoutMs: 10_000,
    async start(ctx) {
      const w = await openStorageWriter(opts.file, { log: ctx.log, onFatal: (err) => ctx.crash(err), privacy: opts.privacy, paused: opts.paused, onBusy: opts.onBusy });
      opts.port.attach(w);
      return {
        async stop() {
          opts.port.detach(w);
          await w.close();
        },
        kill() {
          opts.port.detach(w);
          w.abort(ctx.signal.reason ?? 'crashed');
        },
        status: () => ({ pending: w.pending, file: opts.file }),
      };
    },
  };
}
