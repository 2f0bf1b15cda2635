import { parentPort, workerData } from 'node:worker_threads';
import { applyPrivacy, compilePrivacy, type PrivacyConfig } from '../../privacy/filters.js';
import { openEngine } from './engine.js';
import type { EventGate, WriteOp } from './ops.js';

/**
 * The writer thread: owns the one write connection, so commits (and their fsync) never block
 * the main thread's HTTP handling or reads.
 */
export type ToThread = { kind: 'batch'; id: number; ops: WriteOp[]; paused: boolean } | { kind: 'close' };
export type FromThread =
  | { kind: 'ready' }
  | { kind: 'initError'; message: string }
  | { kind: 'done'; id: number; outcomes: import('./engine.js').Outcome[] }
  | { kind: 'fatal'; id: number; message: string }
  | { kind: 'closed' };

const port = parentPort!;
const { file, privacy } = workerData as { file: string; privacy?: PrivacyConfig };
const post = (m: FromThread) => port.postMessage(m);

try {
  const engine = openEngine(file);
  const filter = compilePrivacy(privacy);
  const gate: EventGate = (bucket, e) => applyPrivacy(filter, bucket, e);
  const paused: EventGate = () => null; // nothing is recorded while paused
  port.on('message', (m: ToThread) => {
    if (m.kind === 'close') {
      engine.close();
      post({ kind: 'closed' });
      port.close();
      return;
    }
    try {
      post({ kind: 'done', id: m.id, outcomes: engine.run(m.ops, m.paused ? paused : gate) });
    } catch (err) {
      post({ kind: 'fatal', id: m.id, message: (err as Error).message });
    }
  });
  post({ kind: 'ready' });
} catch (err) {
  post({ kind: 'initError', message: (err as Error).message });
  port.close();
}
