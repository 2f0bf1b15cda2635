#!/usr/bin/env node
// Heartbeat queue start on a large backlog (what a daemon meets after a long writer outage):
// time and heap growth until the queue accepts writes, for 100k, 300k and 1M queued heartbeats.
//
//   node --expose-gc bench/queue-start.mjs      (npm run bench:queue; imports from dist/)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openQueueStore } from '../dist/actors/heartbeat-queue/store.js';
import { createHeartbeatQueue } from '../dist/actors/heartbeat-queue/queue.js';
import { silentLogger } from '../dist/log.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-queue-'));
const item = (i) => ({
  kind: 'heartbeat', bucket: 'b', pulsetime: 1e6,
  event: { id: null, timestamp: 1.7e15 + i * 1e6, duration: 0, data: { app: 'Code', title: `file ${i % 500}.ts - project` } },
});
// A destination that is down: the queue only holds.
const down = { deliver: async () => ({ finished: 0, dropped: 0, error: new Error('down') }) };

try {
  const file = path.join(dir, 'queue.db');
  let filled = 0;
  for (const n of [100_000, 300_000, 1_000_000]) {
    const s = openQueueStore(file, 0);
    for (; filled < n; filled += 10_000) {
      await Promise.all(Array.from({ length: 10_000 }, (_, j) => s.append(item(filled + j))));
      process.stderr.write(`\rfilling the queue: ${filled + 10_000} / ${n}`);
    }
    s.close();
    process.stderr.write('\n');
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const store = openQueueStore(file, 0);
    const q = createHeartbeatQueue({ store, deliverer: down, log: silentLogger(), onFatal: (err) => { throw err; }, maxItems: 2_000_000 });
    const seq = await q.accept(item(n));
    const ms = performance.now() - t0;
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
    console.log(`backlog ${String(n).padStart(9)}: accepting after ${ms.toFixed(0).padStart(5)} ms, heap +${heapMb.toFixed(0)} MB (seq ${seq})`);
    await q.stop();
    store.close();
    filled++;
  }
  if (!global.gc) console.log('(run with node --expose-gc for steadier heap figures)');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
