// Daemon memory under the web UI's queries: seeded data (bench/data.mjs) of 100k and then 1M events in a
// real data dir, the real daemon (nats-server, storage writer, HTTP, query workers; watchers and jobs off so
// that only the query side moves), and the web UI's activity query (src/query/webui.ts) over real HTTP for
// 1, 7, 30 and 365 days. Prints the daemon's RSS after each step and after a forced GC (main thread and
// every worker thread, through the inspector), with the goal next to it.
//   npm run bench:memory            BENCH_MEMORY_BIG=0 skips the 1M phase
// Settings for the daemon can be given as TOML lines in BENCH_MEMORY_CONFIG (e.g. "[query]\nthreads = 2").
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkServer } from './ipc.mjs';

const SELF = fileURLToPath(import.meta.url);
const DIST = new URL('../dist/', import.meta.url);
const MiB = 1024 * 1024;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

// ---------------------------------------------------------------- child: the daemon, in this process
if (process.argv[2] === '--daemon') {
  const dataDir = process.argv[3];
  const { loadConfig } = await import(new URL('config/config.js', DIST));
  const { daemonPaths } = await import(new URL('config/paths.js', DIST));
  const { buildDaemon } = await import(new URL('daemon.js', DIST));
  const { silentLogger } = await import(new URL('log.js', DIST));
  const inspector = await import('node:inspector/promises');
  const paths = daemonPaths({ dataDir, testing: false });
  const { config } = loadConfig({ file: paths.configFile, explicit: false, testing: false });
  config.server.port = 0;
  const daemon = await buildDaemon({ config, paths, testing: false, log: silentLogger() });
  await daemon.start();

  // A forced GC in every isolate: the main thread, then each worker thread through NodeWorker sessions.
  const session = new inspector.Session();
  session.connect();
  const workers = new Map();
  let seq = 0;
  const pending = new Map();
  session.on('NodeWorker.attachedToWorker', ({ params }) => workers.set(params.sessionId, params.workerInfo.title));
  session.on('NodeWorker.detachedFromWorker', ({ params }) => workers.delete(params.sessionId));
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const m = JSON.parse(params.message);
    if (m.id !== undefined) pending.get(m.id)?.();
  });
  await session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const inWorker = (sessionId, method) =>
    new Promise((resolve) => {
      const id = ++seq;
      const timer = setTimeout(resolve, 10_000);
      pending.set(id, () => (clearTimeout(timer), resolve()));
      void session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) });
    });
  const gcAll = async () => {
    for (const sessionId of workers.keys()) await inWorker(sessionId, 'HeapProfiler.collectGarbage');
    await session.post('HeapProfiler.collectGarbage');
  };
  process.on('message', async (m) => {
    if (m.cmd === 'gc') {
      await gcAll();
      await gcAll(); // a second pass frees what the first one's finalizers released
      process.send({ threads: workers.size });
    } else if (m.cmd === 'stop') {
      await daemon.stop();
      process.exit(0);
    }
  });
  process.on('disconnect', () => void daemon.stop().then(() => process.exit(0)));
  process.send({ port: daemon.port });
} else {
  setImmediate(() => main().catch((err) => {
    console.error(err);
    process.exit(1);
  }));
}

// ---------------------------------------------------------------- parent
const startDaemon = (dataDir) => forkServer(SELF, ['--daemon', dataDir], { stopCmd: 'stop' });

function post(port, p, body) {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: 'POST', path: p, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${p}: ${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    r.on('error', reject);
    r.end(text);
  });
}

async function main() {
  if (!fs.existsSync(new URL('daemon.js', DIST))) throw new Error('dist/ is missing: run `npm run build` first');
  const Database = (await import('better-sqlite3')).default;
  const { migrate } = await import(new URL('storage/schema.js', DIST));
  const { activityQuery } = await import(new URL('query/webui.js', DIST));
  const { B, createBuckets, DAY_US, fill, LAST_DAY } = await import('./data.mjs');
  const query = activityQuery({ windowBucket: B.window, afkBucket: B.afk, browserBuckets: { firefox: B.firefox, chrome: B.chrome } });
  const iso = (us) => new Date(us / 1000).toISOString();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sundial-bench-memory-'));
  fs.writeFileSync(path.join(dataDir, 'config.toml'), `[watchers]\nenabled = false\n[jobs]\nenabled = false\n${process.env.BENCH_MEMORY_CONFIG ?? ''}\n`);
  const file = path.join(dataDir, 'sqlite.db'); // the daemon's database (src/config/paths.ts)
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const rows = createBuckets(db);
  const phases = [{ label: '100k', days: 42 }];
  if (process.env.BENCH_MEMORY_BIG !== '0') phases.push({ label: '1M', days: 414 });
  let filled = 0, total = 0;
  const results = [];
  console.log(`daemon RSS (MiB) under the web UI's activity query; watchers and jobs off; settings: ${JSON.stringify(process.env.BENCH_MEMORY_CONFIG ?? 'defaults')}`);
  try {
    for (const ph of phases) {
      total += fill(db, rows, filled, ph.days);
      filled = ph.days;
      db.pragma('wal_checkpoint(TRUNCATE)');
      const d = await startDaemon(dataDir);
      const gc = async () => {
        await d.call({ cmd: 'gc' });
        return rssOf(d.pid);
      };
      await new Promise((r) => setTimeout(r, 3_000)); // the start-up warm-up, if any, settles
      const line = (step, rss, rssGc, extra = '') => console.log(`  ${ph.label.padEnd(5)} ${step.padEnd(26)} RSS ${(rss / MiB).toFixed(1).padStart(6)}   after GC ${(rssGc / MiB).toFixed(1).padStart(6)}${extra}`);
      console.log(`${ph.label}: ${total} events in the database`);
      const startRss = rssOf(d.pid);
      line('started', startRss, await gc());
      const r = { label: ph.label };
      for (const days of [1, 7, 30, 365]) {
        const end = LAST_DAY + DAY_US, start = end - days * DAY_US;
        const t0 = performance.now();
        // twice, as the web UI does when it refreshes: the second ask is served from the cache
        await post(d.port, '/api/0/query/', { timeperiods: [`${iso(start)}/${iso(end)}`], query });
        const ms = performance.now() - t0;
        await post(d.port, '/api/0/query/', { timeperiods: [`${iso(start)}/${iso(end)}`], query });
        const rss = rssOf(d.pid);
        const rssGc = await gc();
        r[days] = { rss, rssGc };
        const goal = ph.label === '100k' && (days === 1 || days === 30) ? `   (goal ≤ 150 MB = 143.1 MiB: ${rss <= 150e6 ? 'met' : 'NOT met'})` : '';
        line(`asked ${days} day${days > 1 ? 's' : ''} (${ms.toFixed(0)} ms)`, rss, rssGc, goal);
      }
      results.push(r);
      await d.stop();
    }
  } finally {
    db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const r = results[0];
  const worst = Math.max(r[1].rss, r[30].rss);
  console.log(`goal: daemon RSS ≤ 150 MB (143.1 MiB) at 100k events after the 1- and 30-day asks → ${(worst / MiB).toFixed(1)} MiB ${worst <= 150e6 ? 'met' : 'NOT met'}`);
}
