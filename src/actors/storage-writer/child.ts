import type { ChildSpec } from '../../supervisor/types.js';
import type { EventGate } from './ops.js';
import type { WriterPort } from './port.js';
import { openStorageWriter } from './writer.js';

/** The storage writer as a supervised child: each incarnation opens the database and attaches to the port. */
export function storageWriterChild(opts: { file: string; port: WriterPort; gate?: EventGate }): ChildSpec {
  return {
    name: 'storage',
    restart: 'permanent',
    shutdownTimeoutMs: 10_000,
    async start(ctx) {
      const w = openStorageWriter(opts.file, ctx.log, (err) => ctx.crash(err), opts.gate);
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
